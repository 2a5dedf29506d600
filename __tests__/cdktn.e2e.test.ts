/**
 * CDK Terrain, the maintained fork of CDKTF (archived 2025-12-10), proven equivalent: the packed
 * ami-fleet installed into an app that maps `cdktf` and `@cdktf/provider-aws` to `cdktn` and
 * `@cdktn/provider-aws` with npm aliases (README, "CDK Terrain"). Every shipped and test fleet, in
 * every layout, synthesizes the same stacks under both, but for the version stamp and the spelling
 * of the provider's source (`aws` and `hashicorp/aws` are one provider).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packProject, PROJECT_ROOT, runOk as run } from "./helpers/cli";
import { everyFeatureFleets, LAYOUTS } from "./helpers/provider-types";
import { synth } from "./helpers/tofu";

/** The CDK Terrain versions the README names (cdktn needs constructs >= 10.6 < 10.8). */
export const CDKTN = { cdktn: "0.24.0", provider: "25.7.0", constructs: "10.7.0" } as const;

const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
let work: string;
let app: string;
let fleets: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-cdktn-"));
  const tarball = await packProject(work);
  app = path.join(work, "cdktn-app");
  fs.mkdirSync(app);
  fs.writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify(
      {
        name: "cdktn-app",
        private: true,
        dependencies: {
          "ami-fleet": `file:${tarball}`,
          cdktf: `npm:cdktn@${CDKTN.cdktn}`,
          "@cdktf/provider-aws": `npm:@cdktn/provider-aws@${CDKTN.provider}`,
          cdktn: CDKTN.cdktn,
          constructs: CDKTN.constructs,
          "ts-node": pkg.devDependencies["ts-node"],
          typescript: pkg.devDependencies.typescript,
        },
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { target: "ES2020", module: "commonjs", strict: true, esModuleInterop: true, skipLibCheck: true } }));
  fs.writeFileSync(path.join(app, "main.ts"), `import { synthFleetApp } from "ami-fleet";\n\nsynthFleetApp();\n`);
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], app);
  fleets = everyFeatureFleets(work);
}, 900_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** A stack's configuration without what differs by design: the version stamp, and `aws` spelt `hashicorp/aws`. */
function comparable(file: string): unknown {
  const tf = JSON.parse(fs.readFileSync(file, "utf8"));
  delete tf["//"]?.metadata?.version;
  const aws = tf.terraform?.required_providers?.aws;
  if (aws?.source === "aws") aws.source = "hashicorp/aws";
  return tf;
}

it("installs CDK Terrain under the cdktf names", () => {
  expect(JSON.parse(fs.readFileSync(path.join(app, "node_modules", "cdktf", "package.json"), "utf8"))).toMatchObject({ name: "cdktn", version: CDKTN.cdktn });
  expect(JSON.parse(fs.readFileSync(path.join(app, "node_modules", "@cdktf", "provider-aws", "package.json"), "utf8"))).toMatchObject({ name: "@cdktn/provider-aws", version: CDKTN.provider });
});

it.each(LAYOUTS)("layout %s: every shipped and test fleet synthesizes the same stacks under cdktn as under cdktf", async (layout) => {
  const config = path.join(work, `config-${layout}.yaml`);
  fs.writeFileSync(config, `layout: ${layout}\n`);
  const env = { AMI_FLEET_CONFIG: config, AMI_FLEET_STATE_DIR: work };
  const cdktf = path.join(work, `cdktf-${layout}.out`);
  synth([fleets], cdktf, env);
  const cdktn = path.join(work, `cdktn-${layout}.out`);
  await run("npx", ["--no-install", "ts-node", "main.ts"], app, { ...env, AMI_FLEET_PATHS: fleets, CDKTF_OUTDIR: cdktn });
  const stacks = fs.readdirSync(path.join(cdktf, "stacks")).sort();
  expect(fs.readdirSync(path.join(cdktn, "stacks")).sort()).toEqual(stacks);
  expect(stacks.length).toBeGreaterThan(4);
  const differing = stacks.filter(
    (stack) => JSON.stringify(comparable(path.join(cdktf, "stacks", stack, "cdk.tf.json"))) !== JSON.stringify(comparable(path.join(cdktn, "stacks", stack, "cdk.tf.json"))),
  );
  expect(differing).toEqual([]);
  // The stamp does differ: the two are really different libraries.
  expect(JSON.parse(fs.readFileSync(path.join(cdktn, "stacks", stacks[0], "cdk.tf.json"), "utf8"))["//"].metadata.version).toBe(CDKTN.cdktn);
}, 300_000);
