import * as fs from "fs";
import * as path from "path";
import { CliIo, EXIT } from "./io";
import { packageRoot } from "./version";
import type { AppCli } from "../report/remedies";


/** Options of `ami-fleet init`. */
export interface InitOptions {
  /** The CLI of the app; default: cdktn on Node 24 and later (cdktf-cli cannot start there), else cdktf. */
  readonly cli?: AppCli;
  /** How the app's package.json names ami-fleet; default `^<this version>` (e.g. `file:vendor/ami-fleet-0.2.0.tgz`). */
  readonly package?: string;
  /** Write the example fleet (fleets/golden.yaml); default true. */
  readonly example?: boolean;
}

/** The versions of the peers and tools this release is tested with (its own package.json's). */
interface Pins {
  readonly version: string;
  readonly dev: Readonly<Record<string, string>>;
}

/** CDK Terrain's CLI, and the constructs its peer `cdktn` needs (>= 10.6, < 10.8). */
const CDKTN_CLI = "0.24.0";
const CDKTN_CONSTRUCTS = "10.7.0";

/** The example fleet: one image version copied to two Regions and shared with one account. */
const EXAMPLE_FLEET = `# yaml-language-server: $schema=../node_modules/ami-fleet/schema/fleet.schema.json
# One golden image, copied to every Region below and shared with the accounts listed.
# Edit it (npx ami-fleet validate checks it), then: npx cdktf synth (npx cdktn synth on Node 24).
name: golden
source:
  region: us-east-1
  images:
    - key: v1
      amiId: ami-0123456789abcdef0   # your image in us-east-1
regions:
  - eu-west-1
  - us-west-2
share:
  accounts: ["111122223333"]        # who may launch the copies
encryption:
  acknowledgeUnencryptedSharing: true   # or encrypted: true with a key per Region (README, "Encryption")
`;

/** The files `init` writes, by path in the app, from the pins and the options. */
export function initFiles(name: string, pins: Pins, options: InitOptions & { readonly cli: AppCli }, workflows: Readonly<Record<string, string>>): Record<string, string> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const cdktn = options.cli === "cdktn";
  const files: Record<string, string> = {
    "package.json": json({
      name,
      private: true,
      scripts: { validate: "ami-fleet validate", synth: `${options.cli} synth`, reconcile: "ami-fleet reconcile" },
      dependencies: {
        "ami-fleet": options.package ?? `^${pins.version}`,
        cdktf: pins.dev.cdktf,
        constructs: cdktn ? CDKTN_CONSTRUCTS : pins.dev.constructs,
        "@cdktf/provider-aws": pins.dev["@cdktf/provider-aws"],
      },
      devDependencies: {
        ...(cdktn ? { "cdktn-cli": CDKTN_CLI } : { "cdktf-cli": pins.dev["cdktf-cli"] }),
        "ts-node": pins.dev["ts-node"],
        // ts-node 10 cannot load TypeScript 7: pinned to the release this one is tested with.
        typescript: pins.dev.typescript,
      },
    }),
    "cdktf.json": json({ language: "typescript", app: "npx ts-node main.ts", projectId: name, sendCrashReports: "false", terraformProviders: [], terraformModules: [], context: {} }),
    // Without a tsconfig, ts-node runs main.ts as a no-op and the CLI says the app never called synth().
    "tsconfig.json": json({ compilerOptions: { target: "ES2020", module: "commonjs", strict: true, esModuleInterop: true, skipLibCheck: true, noEmit: true }, include: ["*.ts"] }),
    "main.ts": `import { synthFleetApp } from "ami-fleet";\n\nsynthFleetApp();\n`,
    "ami-fleet.config.yaml": "# Stack layout and state backend (README, \"Stack layout\"). layout: fleet is one stack per fleet.\nlayout: fleet\n",
    ".gitignore": "node_modules/\ncdktf.out/\n*.tfstate\n*.tfstate.*\n.terraform/\nplan.out\nplan.json\n",
    ...Object.fromEntries(Object.entries(workflows).map(([file, text]) => [`.github/workflows/${file}`, text])),
  };
  if (options.example !== false) files["fleets/golden.yaml"] = EXAMPLE_FLEET;
  return files;
}

/**
 * `ami-fleet init [dir]`: a team's cdktf app that synthesizes its fleets, with the versions this
 * release is tested with. Writes nothing when any of its files exists already.
 */
export function initCommand(dir: string, options: InitOptions, io: CliIo): number {
  const root = path.resolve(io.cwd, dir);
  const major = Number(process.versions.node.split(".")[0]);
  const cli: AppCli = options.cli ?? (major >= 24 ? "cdktn" : "cdktf");
  const own = JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string; devDependencies: Record<string, string> };
  const ci = path.join(packageRoot(), "docs", "ci");
  const workflows = Object.fromEntries(fs.readdirSync(ci).filter((f) => f.endsWith(".yml")).map((f) => [f, fs.readFileSync(path.join(ci, f), "utf8")]));
  const files = initFiles(path.basename(root).toLowerCase().replace(/[^a-z0-9-]+/g, "-") || "fleets", { version: own.version, dev: own.devDependencies }, { ...options, cli }, workflows);

  const present = Object.keys(files).filter((file) => fs.existsSync(path.join(root, file)));
  if (present.length > 0) {
    io.stderr.write(`ami-fleet init: ${root} already has ${present.join(", ")}: nothing was written. Run it in an empty folder, or move those files away.\n`);
    return EXIT.error;
  }
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text, { flag: "wx" });
  }
  const into = path.relative(io.cwd, root);
  io.stdout.write(
    [
      `ami-fleet init: a cdktf app for your fleets in ${into || "."} (${cli === "cdktn" ? `CDK Terrain's CLI, cdktn-cli ${CDKTN_CLI}` : `cdktf-cli ${own.devDependencies["cdktf-cli"]}, which runs on Node 22`}):`,
      ...Object.keys(files).map((file) => `  ${file}`),
      "Next:",
      ...(into ? [`  cd ${into}`] : []),
      "  npm install",
      `  npx ami-fleet validate             # ${options.example === false ? "after writing your fleets in fleets/" : "after editing fleets/golden.yaml"}`,
      `  npx ${cli} synth`,
      `  TERRAFORM_BINARY_NAME=tofu npx ${cli} deploy '*'   # or terraform`,
      "  npx ami-fleet reconcile",
      "",
    ].join("\n"),
  );
  return EXIT.ok;
}
