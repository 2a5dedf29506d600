/** The OpenTofu + AWS provider end-to-end loop against the emulator (slow; run by scripts/test.sh). */
const base = require("./jest.config");
module.exports = {
  ...base,
  testMatch: ["**/*.e2e.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  testTimeout: 900000,
  // The files share nothing (each starts its own emulator and works in its own folders). Three at a
  // time on 2 cores: much of each is waiting (the provider's 3-minute wait on a revoked grant, npm
  // installs, the emulator). Measured 2026-12-02, the whole e2e suite: 633 s with 3 workers; with 2,
  // the files' own times alone add up to 781 s a worker.
  maxWorkers: 3,
};
