import * as fs from "fs";
import * as path from "path";

/**
 * The folder of the installed ami-fleet: the first one above this file whose package.json is
 * ami-fleet's (two folders up from lib/cli, three from dist/lib/cli).
 */
export function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file) && (JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string }).name === "ami-fleet") return dir;
    if (path.dirname(dir) === dir) throw new Error(`ami-fleet's package.json not found above ${__dirname}`);
  }
}

/** The installed ami-fleet's version. */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}
