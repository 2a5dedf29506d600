import * as fs from "fs";
import * as path from "path";
import { runOk } from "./cli";

/** The files of a team's cdktf app that its repository holds (node_modules and synth output aside). */
const TEAM_APP_FILES = ["package.json", "package-lock.json", "cdktf.json", "tsconfig.json", "main.ts", "vendor"] as const;

export interface TeamAppOptions {
  /**
   * The CLI that drives the app: `cdktf-cli` 0.21 (Node 22), or `cdktn-cli` 0.24 (CDK Terrain's,
   * which also runs on Node 24; its peer `cdktn` needs constructs 10.6 or 10.7).
   */
  readonly cli?: "cdktf-cli" | "cdktn-cli";
  /** The bin folder of the Node the install runs on (first on PATH); default: the test's own. */
  readonly nodeBin?: string;
}

/**
 * A team's cdktf TypeScript app in `dir`, made by `ami-fleet init` (the package's own CLI, as a team
 * runs it once): the packed ami-fleet vendored (the tarball copied to vendor/, as a team vendors a
 * release before it is on a registry), the peers and tools at the versions init pins, the template's
 * `cdktf.json` and tsconfig, and a one-line main.ts; no example fleet (each test writes its own).
 * `npm install` writes its lockfile and node_modules (no symlink to this checkout).
 */
export async function createTeamApp(dir: string, tarball: string, options: TeamAppOptions = {}): Promise<void> {
  const cli = options.cli ?? "cdktf-cli";
  const env = options.nodeBin ? { PATH: `${options.nodeBin}${path.delimiter}${process.env.PATH}` } : {};
  const vendored = `vendor/${path.basename(tarball)}`;
  fs.mkdirSync(path.join(dir, "vendor"), { recursive: true });
  fs.copyFileSync(tarball, path.join(dir, vendored));
  // As the README's "In your own cdktf app" runs it: the vendored package's own CLI, through npx.
  await runOk("npx", ["--yes", "--package", `./${vendored}`, "ami-fleet", "init", "--cli", cli === "cdktn-cli" ? "cdktn" : "cdktf", "--package", `file:${vendored}`, "--no-example"], dir, env);
  fs.mkdirSync(path.join(dir, "fleets"), { recursive: true });
  // The package from its tarball, the rest from the registry (npm's cache here).
  await runOk("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], dir, env);
}

/** The repository files of the team app at `from` (no node_modules: `npm ci` installs them) copied to `to`. */
export function copyTeamApp(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const file of TEAM_APP_FILES) fs.cpSync(path.join(from, file), path.join(to, file), { recursive: true });
}
