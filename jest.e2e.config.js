/** The OpenTofu + AWS provider end-to-end loop against the emulator (slow; run by scripts/test.sh). */
const base = require("./jest.config");
module.exports = {
  ...base,
  testMatch: ["**/*.e2e.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  testTimeout: 900000,
  // The files share nothing (each starts its own emulator and works in its own folders): two at a
  // time, since much of each is waiting on the emulator and on OpenTofu's provider calls.
  maxWorkers: 2,
};
