// Registers cdktf's jest matchers (toHaveResourceWithProperties, toBeValidTerraform, ...).
const cdktf = require("cdktf");
cdktf.Testing.setupJest();
require("./bin/quiet-node-version-warning");
