#!/usr/bin/env node
// The AWS SDK warns on every run under Node 20 that later releases will need Node 22: that is
// for whoever upgrades the SDK, not for a user reading a drift report.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === "string" ? rest[0] : rest[0] && rest[0].type;
  if (type === "NodeVersionSupportWarning" || /NodeVersionSupportWarning/.test(String(warning))) return;
  return emitWarning.call(process, warning, ...rest);
};
// Runs the TypeScript sources directly (transpile only: type checks belong to `npm run build`).
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "..", "tsconfig.json") });
const { run } = require("../lib/cli/main");
const { processIo } = require("../lib/cli/io");
run(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
