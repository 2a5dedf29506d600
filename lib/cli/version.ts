import * as fs from "fs";
import * as path from "path";

/**
 * The installed ami-fleet's version, from its own package.json: the first one above this file (two
 * folders up from lib/cli, three from dist/lib/cli).
 */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "ami-fleet" && typeof pkg.version === "string") return pkg.version;
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}
