// The CLI tests run bin/ami-fleet.js, which runs the compiled dist/: rebuild it when a source under
// lib/ is newer than the last build, so a test never exercises stale code.
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

module.exports = async () => {
  const root = __dirname;
  const stamp = path.join(root, "dist", ".tsbuildinfo");
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  if (newestSource(path.join(root, "lib")) > built || fs.statSync(path.join(root, "tsconfig.build.json")).mtimeMs > built) {
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
    fs.utimesSync(stamp, new Date(), new Date());
  }
};
