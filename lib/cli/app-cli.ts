import * as fs from "fs";
import * as path from "path";
import type { AppCli } from "../report/remedies";

/**
 * The CLI the app in `dir` installs, for the commands ami-fleet prints: `cdktn` when only CDK
 * Terrain's is there (an app set up for Node 24), else `cdktf`.
 */
export function appCli(dir: string): AppCli {
  const bin = (name: string) => fs.existsSync(path.join(dir, "node_modules", ".bin", name));
  return bin("cdktn") && !bin("cdktf") ? "cdktn" : "cdktf";
}
