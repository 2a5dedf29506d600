/** Unit and emulator integration tests; the OpenTofu end-to-end loop has its own config. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "\\.e2e\\.test\\.ts$", "\\.after-e2e\\.test\\.ts$"],
  transform: { "^.+\\.tsx?$": ["ts-jest", { diagnostics: false }] },
  setupFilesAfterEnv: ["<rootDir>/setup.js"],
  globalSetup: "<rootDir>/jest.global-setup.js",
  testTimeout: 60000,
};
