#!/usr/bin/env node
require("./quiet-node-version-warning");
// Runs the TypeScript sources directly (transpile only: type checks belong to `npm run build`).
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "..", "tsconfig.json") });
const { run } = require("../lib/cli/main");
const { processIo } = require("../lib/cli/io");
run(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
