import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT, runOk } from "./cli";

const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));

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
 * A team's cdktf TypeScript app in `dir`, as the README's "In your own cdktf app" makes one: the
 * packed ami-fleet (the tarball copied to vendor/, as a team vendors a release before it is on a
 * registry), the peers at the versions this repository pins, a CLI, ts-node and TypeScript, the
 * template's `cdktf.json` and tsconfig, and a one-line main.ts. `npm install` writes its lockfile
 * and node_modules (no symlink to this checkout).
 */
export async function createTeamApp(dir: string, tarball: string, options: TeamAppOptions = {}): Promise<void> {
  const cli = options.cli ?? "cdktf-cli";
  fs.mkdirSync(path.join(dir, "vendor"), { recursive: true });
  fs.mkdirSync(path.join(dir, "fleets"), { recursive: true });
  fs.copyFileSync(tarball, path.join(dir, "vendor", path.basename(tarball)));
  const dev = pkg.devDependencies;
  const write = (file: string, value: unknown) => fs.writeFileSync(path.join(dir, file), typeof value === "string" ? value : `${JSON.stringify(value, null, 2)}\n`);
  write("package.json", {
    name: path.basename(dir),
    private: true,
    dependencies: {
      "ami-fleet": `file:vendor/${path.basename(tarball)}`,
      cdktf: dev.cdktf,
      constructs: cli === "cdktn-cli" ? "10.7.0" : dev.constructs,
      "@cdktf/provider-aws": dev["@cdktf/provider-aws"],
    },
    devDependencies: {
      ...(cli === "cdktn-cli" ? { "cdktn-cli": "0.24.0" } : { "cdktf-cli": dev["cdktf-cli"] }),
      "ts-node": dev["ts-node"],
      typescript: dev.typescript,
    },
  });
  write("cdktf.json", { language: "typescript", app: "npx ts-node main.ts", projectId: path.basename(dir), sendCrashReports: "false", terraformProviders: [], terraformModules: [], context: {} });
  write("tsconfig.json", { compilerOptions: { target: "ES2020", module: "commonjs", strict: true, esModuleInterop: true, skipLibCheck: true, noEmit: true }, include: ["*.ts"] });
  write("main.ts", `import { synthFleetApp } from "ami-fleet";\n\nsynthFleetApp();\n`);
  // The package from its tarball, the rest from the registry (npm's cache here).
  await runOk("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], dir, options.nodeBin ? { PATH: `${options.nodeBin}${path.delimiter}${process.env.PATH}` } : {});
}

/** The repository files of the team app at `from` (no node_modules: `npm ci` installs them) copied to `to`. */
export function copyTeamApp(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const file of TEAM_APP_FILES) fs.cpSync(path.join(from, file), path.join(to, file), { recursive: true });
}
