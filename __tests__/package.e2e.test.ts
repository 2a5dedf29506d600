/**
 * ami-fleet as a package a team installs (issue 17): `npm pack` of this checkout, installed with
 * the peer packages into a new cdktf TypeScript app in a temporary folder (no symlink to this
 * checkout), whose own main.ts is a few lines. The app type-checks against the shipped
 * declarations, validates and synthesizes its fleets; a second entry adds an AmiFleet to a stack of
 * the team's own that already holds another resource, and that stack deploys to the emulator.
 */
import { DescribeImagesCommand } from "@aws-sdk/client-ec2";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { packProject, PROJECT_ROOT, runOk as run } from "./helpers/cli";
import { Ec2 } from "./helpers/live";
import { Moto, startMoto } from "./helpers/moto";
import { loadToolchain, synth, Toolchain, tofuOk, writeEmulatorOverrides } from "./helpers/tofu";

const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
let moto: Moto;
let toolchain: Toolchain;
let work: string;
let app: string;
let tarball: string;

beforeAll(async () => {
  toolchain = loadToolchain();
  moto = await startMoto();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-package-"));
  tarball = await packProject(work);
  app = path.join(work, "team-images");
  fs.mkdirSync(path.join(app, "fleets"), { recursive: true });
  const peers = ["cdktf", "constructs", "@cdktf/provider-aws"];
  fs.writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify(
      {
        name: "team-images",
        private: true,
        dependencies: {
          "ami-fleet": `file:${tarball}`,
          ...Object.fromEntries(peers.map((name) => [name, pkg.devDependencies[name]])),
          "ts-node": pkg.devDependencies["ts-node"],
          typescript: pkg.devDependencies.typescript,
        },
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(path.join(app, "cdktf.json"), JSON.stringify({ language: "typescript", app: "npx ts-node main.ts", projectId: "team-images", sendCrashReports: "false", terraformProviders: [] }, null, 2));
  fs.writeFileSync(
    path.join(app, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { target: "ES2020", module: "commonjs", strict: true, esModuleInterop: true, skipLibCheck: true, noEmit: true }, include: ["*.ts"] }, null, 2),
  );
  // The package's own files (the tarball), the peers from the registry (npm's cache here).
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], app);
}, 900_000);

afterAll(async () => {
  await moto?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

it("ships exactly the built library, its declarations, the CLI, the schema and the documents", async () => {
  const listing = JSON.parse((await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], PROJECT_ROOT)).stdout)[0].files.map((f: { path: string }) => f.path).sort();
  const unexpected = listing.filter(
    (file: string) => !/^(package\.json|README\.md|CHANGELOG\.md|bin\/[\w-]+\.js|dist\/(lib|stacks)\/.+\.(js|d\.ts)|schema\/fleet\.schema\.json|docs\/(ci\/[\w-]+\.yml|iam\/[\w-]+\.json))$/.test(file),
  );
  expect(unexpected).toEqual([]);
  for (const file of ["dist/lib/index.js", "dist/lib/index.d.ts", "dist/stacks/fleet-app.js", "dist/lib/cli/main.js", "bin/ami-fleet.js", "schema/fleet.schema.json", "docs/iam/recipient.json", "docs/ci/ami-fleet-pr.yml"]) {
    expect(listing).toContain(file);
  }
  // What the app resolved is the tarball's copy, not this checkout.
  expect(fs.realpathSync(path.join(app, "node_modules", "ami-fleet"))).toBe(path.join(app, "node_modules", "ami-fleet"));
  expect(fs.existsSync(path.join(app, "node_modules", "ami-fleet", "__tests__"))).toBe(false);
});

it("a team's main.ts of one line validates and synthesizes its fleets, as this repository's own does", async () => {
  const source = await new Ec2(moto.env).registerSource("us-east-1", "package-source");
  const doc = { name: "golden", source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] }, regions: ["eu-west-1", "us-west-2"], share: { accounts: ["444455556666"] } };
  fs.writeFileSync(path.join(app, "fleets", "golden.yaml"), stringify(doc));
  fs.writeFileSync(path.join(app, "main.ts"), `import { synthFleetApp } from "ami-fleet";\n\nsynthFleetApp();\n`);
  // The types ship: the team's project type-checks under strict.
  await run("npx", ["--no-install", "tsc", "-p", "."], app);
  const validate = await run("npx", ["--no-install", "ami-fleet", "validate"], app);
  expect(validate.stdout).toMatch(/golden/);
  await run("npx", ["--no-install", "ts-node", "main.ts"], app, { CDKTF_OUTDIR: path.join(app, "cdktf.out") });
  const theirs = JSON.parse(fs.readFileSync(path.join(app, "cdktf.out", "stacks", "golden", "cdk.tf.json"), "utf8"));
  // This checkout's synth of the same file: the same resources, argument for argument.
  const ours = path.join(work, "ours.out");
  synth([path.join(app, "fleets")], ours, { AMI_FLEET_STATE_DIR: app });
  // The fleet file's path is in the plan-time checks' messages as synth was given it: relative there.
  const mine = JSON.parse(fs.readFileSync(path.join(ours, "stacks", "golden", "cdk.tf.json"), "utf8").split(`${app}/`).join(""));
  expect(theirs.resource).toEqual(mine.resource);
  expect(Object.keys(theirs.resource.aws_ami_copy).sort()).toEqual(["copy_v1_eu-west-1", "copy_v1_us-west-2"]);
}, 300_000);

it("an AmiFleet in a stack of the team's own, beside its other resources, deploys to the emulator", async () => {
  fs.writeFileSync(
    path.join(app, "own-stack.ts"),
    [
      `import { AwsProvider } from "@cdktf/provider-aws/lib/provider";`,
      `import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";`,
      `import { App, LocalBackend, TerraformStack } from "cdktf";`,
      `import { Construct } from "constructs";`,
      `import { AmiFleet, AWS_PROVIDER_CONSTRAINT, loadFleets } from "ami-fleet";`,
      ``,
      `class Platform extends TerraformStack {`,
      `  constructor(scope: Construct, id: string) {`,
      `    super(scope, id);`,
      `    new AwsProvider(this, "aws", { region: "us-east-1" });`,
      `    new LocalBackend(this, { path: "platform.tfstate" });`,
      `    // @cdktf/provider-aws pins the version its bindings were made for; ami-fleet admits any 6.x from it.`,
      `    this.addOverride("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT);`,
      `    new SsmParameter(this, "owner", { name: "/platform/owner", type: "String", value: "team-images" });`,
      `    const [golden] = loadFleets(["fleets/golden.yaml"]);`,
      `    new AmiFleet(this, "golden", { fleet: golden });`,
      `  }`,
      `}`,
      ``,
      `const app = new App();`,
      `new Platform(app, "platform");`,
      `app.synth();`,
      ``,
    ].join("\n"),
  );
  await run("npx", ["--no-install", "tsc", "-p", "."], app);
  const out = path.join(app, "own.out");
  await run("npx", ["--no-install", "ts-node", "own-stack.ts"], app, { CDKTF_OUTDIR: out });
  writeEmulatorOverrides(out);
  const stack = path.join(out, "stacks", "platform");
  const tf = JSON.parse(fs.readFileSync(path.join(stack, "cdk.tf.json"), "utf8"));
  expect(Object.keys(tf.resource).sort()).toEqual(["aws_ami_copy", "aws_ami_launch_permission", "aws_ssm_parameter"]);
  tofuOk(toolchain, stack, ["init", "-no-color"], moto.env);
  tofuOk(toolchain, stack, ["apply", "-no-color", "-auto-approve"], moto.env);
  const copies = (await new Ec2(moto.env).in("eu-west-1").send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "tag:ami-fleet:fleet", Values: ["golden"] }] }))).Images!;
  expect(copies).toHaveLength(1);
  const again = tofuOk(toolchain, stack, ["plan", "-no-color", "-detailed-exitcode"], moto.env);
  expect(again.code).toBe(0);
}, 600_000);
