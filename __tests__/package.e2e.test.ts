/**
 * ami-fleet as a package a team installs (issue 17): `npm pack` of this checkout, installed with
 * the peer packages and a CLI into a new cdktf TypeScript app in a temporary folder (no symlink to
 * this checkout), whose own main.ts is one line (helpers/team-app.ts). There the README's commands
 * run as a team runs them: validate, `cdktf synth`, `cdktf deploy`, `cdktf diff`, a plan's review
 * and reconcile, against the emulator with the real OpenTofu and AWS provider. A second entry adds
 * an AmiFleet to a stack of the team's own that already holds another resource. On Node 24, where
 * cdktf-cli cannot start, the same app deploys with CDK Terrain's CLI (`cdktn-cli`).
 */
import { DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { CliResult, packProject, PROJECT_ROOT, runOk as run, spawnAsync, withoutNpmSettings } from "./helpers/cli";
import { asRole } from "./helpers/iam";
import { Ec2 } from "./helpers/live";
import { Moto, startMoto } from "./helpers/moto";
import { createTeamApp } from "./helpers/team-app";
import { loadToolchain, synth, Toolchain, tofuOk, tofuOnPath, writeEmulatorOverrides } from "./helpers/tofu";

const A1 = "444455556666";
const A2 = "777788889999";
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
  await createTeamApp(app, tarball);
}, 900_000);

afterAll(async () => {
  await moto?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/**
 * A command of the README in the team's app (`npx ...`), with OpenTofu as cdktf's Terraform, the
 * emulator as AWS, signed as `role`; `node` is the bin folder of the Node it runs on (default: the test's).
 */
function inApp(dir: string, role: "plan" | "apply" | "reconcile", node?: string) {
  return (args: string[], ok: number[] = [0]): Promise<CliResult> =>
    spawnAsync(
      "npx",
      ["--no-install", ...args],
      asRole(role, {
        ...(node ? withoutNpmSettings(process.env) : process.env),
        ...moto.env,
        ...tofuOnPath(toolchain),
        ...(node ? { PATH: `${node}${path.delimiter}${tofuOnPath(toolchain).PATH}` } : {}),
        TERRAFORM_BINARY_NAME: "tofu",
        CHECKPOINT_DISABLE: "1",
        CDKTF_DISABLE_PLUGIN_CACHE_ENV: "1",
        NO_COLOR: "1",
        CI: "1",
      }),
      dir,
    ).then((result) => {
      if (!ok.includes(result.code ?? -1)) throw new Error(`npx ${args.join(" ")} exited ${result.code}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
      return { ...result, stdout: plain(result.stdout) };
    });
}

/** cdktf colours Terraform's output whatever NO_COLOR says. */
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, "");

it("ships exactly the built library, its declarations, the CLI, the schema, the documents, the example fleets and help", async () => {
  const listing = JSON.parse((await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], PROJECT_ROOT)).stdout)[0].files.map((f: { path: string }) => f.path).sort();
  const unexpected = listing.filter(
    (file: string) => !/^(package\.json|README\.md|CHANGELOG\.md|bin\/[\w-]+\.js|dist\/(lib|stacks)\/.+\.(js|d\.ts)|schema\/fleet\.schema\.json|docs\/(ci\/[\w-]+\.yml|iam\/[\w-]+\.json)|fleets\/[\w-]+\.yaml|help)$/.test(file),
  );
  expect(unexpected).toEqual([]);
  for (const file of ["dist/lib/index.js", "dist/lib/index.d.ts", "dist/stacks/fleet-app.js", "dist/lib/cli/main.js", "bin/ami-fleet.js", "schema/fleet.schema.json", "docs/iam/recipient.json", "docs/ci/ami-fleet-pr.yml", "fleets/golden-base.yaml", "help"]) {
    expect(listing).toContain(file);
  }
  // What the app resolved is the tarball's copy, not this checkout.
  expect(fs.realpathSync(path.join(app, "node_modules", "ami-fleet"))).toBe(path.join(app, "node_modules", "ami-fleet"));
  expect(fs.existsSync(path.join(app, "node_modules", "ami-fleet", "__tests__"))).toBe(false);
});

it("a team's main.ts of one line validates and synthesizes its fleets (`cdktf synth`), as this repository's own does", async () => {
  const source = await new Ec2(moto.env).registerSource("us-east-1", "package-source");
  const doc = { name: "golden", source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] }, regions: ["eu-west-1", "us-west-2"], share: { accounts: [A1] }, encryption: { acknowledgeUnencryptedSharing: true } };
  fs.writeFileSync(path.join(app, "fleets", "golden.yaml"), stringify(doc));
  // The types ship: the team's project type-checks under strict.
  await run("npx", ["--no-install", "tsc", "-p", "."], app);
  const validate = await inApp(app, "plan")(["ami-fleet", "validate"]);
  expect(validate.stdout).toContain("fleets/golden.yaml: golden: 1 image x 2 Regions = 2 copies, 2 launch permissions, 0 KMS grants");
  await inApp(app, "plan")(["cdktf", "synth"]);
  const theirs = JSON.parse(fs.readFileSync(path.join(app, "cdktf.out", "stacks", "golden", "cdk.tf.json"), "utf8"));
  // This checkout's synth of the same file: the same resources, argument for argument.
  const ours = path.join(work, "ours.out");
  synth([path.join(app, "fleets")], ours, { AMI_FLEET_STATE_DIR: app });
  // The fleet file's path is in the plan-time checks' messages as synth was given it: relative there.
  const mine = JSON.parse(fs.readFileSync(path.join(ours, "stacks", "golden", "cdk.tf.json"), "utf8").split(`${app}/`).join(""));
  expect(theirs.resource).toEqual(mine.resource);
  expect(Object.keys(theirs.resource.aws_ami_copy).sort()).toEqual(["copy_v1_eu-west-1", "copy_v1_us-west-2"]);
}, 300_000);

it("the README's commands in the team's app: cdktf deploy, reconcile in sync, a change's cdktf diff and review, cdktf diff after its deploy plans nothing", async () => {
  const apply = inApp(app, "apply");
  const plan = inApp(app, "plan");
  const deploy = await apply(["cdktf", "deploy", "*", "--auto-approve", "--skip-provider-lock"]);
  expect(deploy.stdout).toMatch(/Apply complete! Resources: 4 added, 0 changed, 0 destroyed/);
  // State is where the team's synth ran (the local backend), beside its cdktf.json.
  expect(fs.existsSync(path.join(app, "terraform.golden.tfstate"))).toBe(true);
  const reconcile = await inApp(app, "reconcile")(["ami-fleet", "reconcile", "--format", "json"]);
  expect(JSON.parse(reconcile.stdout)).toMatchObject({ inSync: true, errors: [], fleets: [{ name: "golden", findings: [] }] });

  // A pull request adds an account: cdktf diff shows it, and the reviewed plan (README "Plan and apply") says what it grants.
  const file = path.join(app, "fleets", "golden.yaml");
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(`- "${A1}"`, `- "${A1}"\n    - "${A2}"`));
  const diff = await plan(["cdktf", "diff", "golden", "--skip-provider-lock"]);
  expect(diff.stdout).toMatch(/Plan: 2 to add, 0 to change, 0 to destroy/);
  await plan(["cdktf", "synth"]);
  const stack = path.join(app, "cdktf.out", "stacks", "golden");
  tofuOk(toolchain, stack, ["init", "-no-color"], moto.env);
  tofuOk(toolchain, stack, ["plan", "-no-color", "-out=plan.out"], moto.env);
  fs.writeFileSync(path.join(stack, "plan.json"), tofuOk(toolchain, stack, ["show", "-json", "plan.out"], moto.env).stdout);
  const review = await plan(["ami-fleet", "review", "--plan", path.join(stack, "plan.json"), "--format", "json"]);
  const verdict = JSON.parse(review.stdout);
  expect(verdict.permissions.map((p: { action: string; region: string; principal: string }) => `${p.action} ${p.region} ${p.principal}`).sort()).toEqual([`grant eu-west-1 account ${A2}`, `grant us-west-2 account ${A2}`]);
  expect(verdict.copies).toEqual([]);
  tofuOk(toolchain, stack, ["apply", "-no-color", "plan.out"], moto.env);
  const after = await plan(["cdktf", "diff", "golden", "--skip-provider-lock"]);
  expect(after.stdout).toMatch(/No changes/);
  expect(JSON.parse((await inApp(app, "reconcile")(["ami-fleet", "reconcile", "--format", "json"])).stdout)).toMatchObject({ inSync: true, errors: [] });
}, 600_000);

it("an AmiFleet in a stack of the team's own, beside its other resources, deploys to the emulator", async () => {
  const source = await new Ec2(moto.env).registerSource("us-east-1", "edge-source");
  fs.mkdirSync(path.join(app, "own"));
  fs.writeFileSync(path.join(app, "own", "edge.yaml"), stringify({ name: "edge", source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] }, regions: ["eu-west-1"], share: { accounts: [A1] } }));
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
      `    const [edge] = loadFleets(["own/edge.yaml"]);`,
      `    new AmiFleet(this, "edge", { fleet: edge });`,
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
  const copies = (await new Ec2(moto.env).in("eu-west-1").send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "tag:ami-fleet:fleet", Values: ["edge"] }] }))).Images!;
  expect(copies).toHaveLength(1);
  const again = tofuOk(toolchain, stack, ["plan", "-no-color", "-detailed-exitcode"], moto.env);
  expect(again.code).toBe(0);
}, 600_000);

describe("on Node 24", () => {
  let node24: string;
  beforeAll(() => {
    node24 = execFileSync("bash", [path.join(PROJECT_ROOT, "scripts", "ensure-node.sh"), "24"], { encoding: "utf8" }).trim();
  });

  it("cdktf-cli 0.21 cannot synthesize (README: its node-pty has no Node 24 binary)", async () => {
    const result = await spawnAsync("npx", ["--no-install", "cdktf", "synth", "--output", "node24.out"], { ...withoutNpmSettings(process.env), PATH: `${node24}${path.delimiter}${process.env.PATH}` }, app);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("pty.node");
  });

  it("CDK Terrain's CLI (cdktn-cli) drives the same cdktf app: deploy, reconcile in sync, diff plans nothing", async () => {
    const app24 = path.join(work, "team-images-24");
    await createTeamApp(app24, tarball, { cli: "cdktn-cli", nodeBin: node24 });
    const source = await new Ec2(moto.env).registerSource("us-east-1", "node24-source");
    fs.writeFileSync(path.join(app24, "fleets", "runners.yaml"), stringify({ name: "runners", source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] }, regions: ["eu-west-1", "us-west-2"], share: { accounts: [A1, A2] }, encryption: { acknowledgeUnencryptedSharing: true } }));
    const inApp24 = (role: "plan" | "apply" | "reconcile") => inApp(app24, role, node24);
    expect((await inApp24("plan")(["node", "--version"])).stdout.trim()).toMatch(/^v24\./);
    await inApp24("plan")(["ami-fleet", "validate"]);
    // The app is cdktf 0.21's (the library); only the CLI is CDK Terrain's: it synthesizes what this checkout does.
    await inApp24("plan")(["cdktn", "synth"]);
    const theirs = JSON.parse(fs.readFileSync(path.join(app24, "cdktf.out", "stacks", "runners", "cdk.tf.json"), "utf8"));
    const ours = path.join(work, "ours-24.out");
    synth([path.join(app24, "fleets")], ours, { AMI_FLEET_STATE_DIR: app24 });
    const mine = JSON.parse(fs.readFileSync(path.join(ours, "stacks", "runners", "cdk.tf.json"), "utf8").split(`${app24}/`).join(""));
    expect({ resource: theirs.resource, providers: theirs.terraform.required_providers }).toEqual({ resource: mine.resource, providers: mine.terraform.required_providers });
    const deploy = await inApp24("apply")(["cdktn", "deploy", "*", "--auto-approve", "--skip-provider-lock"]);
    expect(deploy.stdout).toMatch(/Apply complete! Resources: 6 added, 0 changed, 0 destroyed/);
    const reconcile = await inApp24("reconcile")(["ami-fleet", "reconcile", "--format", "json"]);
    expect(JSON.parse(reconcile.stdout)).toMatchObject({ inSync: true, errors: [], fleets: [{ name: "runners", findings: [] }] });
    const diff = await inApp24("plan")(["cdktn", "diff", "runners", "--skip-provider-lock"]);
    expect(diff.stdout).toMatch(/No changes/);
  }, 600_000);
});
