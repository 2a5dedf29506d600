/** The OpenTofu + AWS provider end-to-end loop against the emulator (slow; run by scripts/test.sh). */
const base = require("./jest.config");
module.exports = {
  ...base,
  testMatch: ["**/*.e2e.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  testTimeout: 900000,
};
