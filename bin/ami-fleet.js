#!/usr/bin/env node
require("./quiet-node-version-warning");
// Runs the compiled CLI (dist/, built by `npm run build`, which installing runs): no TypeScript at start.
const path = require("path");
let cli;
try {
  cli = require(path.join(__dirname, "..", "dist", "lib", "cli", "main"));
} catch (error) {
  if (error && error.code === "MODULE_NOT_FOUND" && /dist[\\/]lib[\\/]cli[\\/]main/.test(String(error.message))) {
    process.stderr.write("ami-fleet: the CLI is not built: run `npm run build` (or `bash scripts/ensure-node-modules.sh`) in the project\n");
    process.exit(1);
  }
  throw error;
}
const { processIo } = require(path.join(__dirname, "..", "dist", "lib", "cli", "io"));
cli.run(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
