/**
 * After the end-to-end loop: the calls it recorded (AMI_FLEET_CALLS_DIR) against the policies in
 * docs/iam. Run by scripts/test.sh right after jest.e2e.config.js.
 */
const base = require("./jest.config");
module.exports = {
  ...base,
  testMatch: ["**/*.after-e2e.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
};
