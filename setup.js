// Registers cdktf's jest matchers (toHaveResourceWithProperties, toBeValidTerraform, ...).
const cdktf = require("cdktf");
cdktf.Testing.setupJest();

// The AWS SDK warns under Node 20 that later releases need Node 22; bin/ami-fleet.js filters the
// same warning for users.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  if (/NodeVersionSupportWarning/.test(String(warning)) || rest[0] === "NodeVersionSupportWarning") return;
  return emitWarning.call(process, warning, ...rest);
};
