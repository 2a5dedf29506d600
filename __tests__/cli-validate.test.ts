import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fleetJsonSchema } from "../lib/fleet/schema";
import { shareGroupOf } from "../lib/project/layout";
import { PROJECT_ROOT, runCli, withoutNpmSettings } from "./helpers/cli";

describe("ami-fleet validate", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-validate-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("exits 0 on the shipped fleets (the default path) and summarizes each", async () => {
    const result = await runCli(["validate"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain(
      "fleets/build-agents.yaml: build-agents: 1 image x 3 Regions = 3 copies, 6 launch permissions, 0 KMS grants",
    );
    expect(result.stdout).toContain("fleets/golden-base.yaml: golden-base: 2 images x 3 Regions = 6 copies");
  });

  it("exits 1 with every problem on stderr as file: field: problem. fix", async () => {
    const file = path.join(dir, "golden.yaml");
    fs.writeFileSync(
      file,
      [
        "name: golden",
        "source: { region: us-east-1, images: [ { amiId: ami-0123456789abcdef0 } ] }",
        "regions:",
        "  - eu-west-1",
        "  - region: ap-southeast-2",
        "    kmsKeyId: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "share: { accounts: ['4444'] }",
      ].join("\n"),
    );
    const result = await runCli(["validate", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toEqual([
      `${file}: share.accounts[0]: "4444" is not an account id. Use the 12-digit AWS account id, quoted.`,
      `${file}: regions[1].kmsKeyId: key is in us-east-1, copy is in ap-southeast-2. Use a key from ap-southeast-2.`,
      "2 problem(s) in 1 file(s).",
    ]);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("checks the project config (the state backend) beside the fleets, and synth refuses it the same way", async () => {
    fs.writeFileSync(path.join(dir, "ami-fleet.config.yaml"), "backend:\n  type: s3\n  region: eu-west-1\n");
    fs.mkdirSync(path.join(dir, "fleets"));
    fs.copyFileSync(path.join(PROJECT_ROOT, "fleets", "golden-base.yaml"), path.join(dir, "fleets", "golden-base.yaml"));
    const result = await runCli(["validate"], { cwd: dir });
    expect(result.code).toBe(1);
    // Named as the fleet files are, from the folder validate runs in.
    expect(result.stderr).toContain(`\nami-fleet.config.yaml: backend.bucket: is required. See README "State" for the backend fields`.slice(1));
    expect(result.stderr).not.toContain(dir);
    const outdir = path.join(dir, "out");
    const synth = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "main.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, AMI_FLEET_CONFIG: path.join(dir, "ami-fleet.config.yaml"), CDKTF_OUTDIR: outdir },
      encoding: "utf8",
    });
    expect(synth.status).toBe(1);
    expect(synth.stderr).toContain("backend.bucket:");
    expect(synth.stderr).toContain("ami-fleet: nothing was synthesized.");
    expect(fs.existsSync(outdir)).toBe(false);
    fs.writeFileSync(path.join(dir, "ami-fleet.config.yaml"), "backend:\n  type: s3\n  bucket: team-tf-state\n  region: eu-west-1\n");
    expect((await runCli(["validate"], { cwd: dir })).code).toBe(0);
  });

  it("warns, and still exits 0, where a long account list could be one Organization principal", async () => {
    const accounts = Array.from({ length: 60 }, (_, i) => String(200000000000 + i));
    const file = path.join(dir, "wide.yaml");
    const doc = (organization: object | undefined) =>
      JSON.stringify({
        name: "wide",
        source: { region: "us-east-1", images: [{ key: "v1", amiId: "ami-0123456789abcdef0" }] },
        regions: ["eu-west-1", "us-west-2"],
        share: { accounts },
        ...(organization ? { organization } : {}),
      });
    fs.writeFileSync(file, doc(undefined));
    const result = await runCli(["validate", file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `${file}: share.accounts: warning: 60 accounts make 120 launch permission instances (60 per copy), each refreshed by every plan and applied with its own call; ` +
        "if they are one Organization or OU, share.organizationArns or share.organizationalUnitArns makes one per copy.\n",
    );
    const org = "arn:aws:organizations::111122223333:organization/o-abc123def4";
    fs.writeFileSync(file, doc({ arn: org, memberAccounts: [...accounts, "999988887777"] }));
    expect((await runCli(["validate", file])).stderr).toContain(`all of them are members of ${org}`);
    fs.writeFileSync(file, doc(undefined).replace(/"2000000000(5\d|4\d|3\d|2\d|1\d)",?/g, ""));
    expect((await runCli(["validate", file])).stderr).toBe("");
  });

  it("advises the Region and split layouts for a stack too large to plan, with their largest stacks, and not once the layout splits it", async () => {
    const file = path.join(dir, "huge.yaml");
    const doc = (regions: string[]) =>
      JSON.stringify({
        name: "huge",
        source: { region: "us-east-1", images: [1, 2, 3, 4, 5].map((i) => ({ key: `v${i}`, amiId: `ami-0123456789abcdef${i}` })) },
        regions,
        share: { accounts: Array.from({ length: 700 }, (_, i) => String(200000000000 + i)) },
      });
    fs.writeFileSync(file, doc(["eu-west-1", "us-west-2", "ap-southeast-2"]));
    const warned = await runCli(["validate", file], { cwd: dir });
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain(
      `${file}: regions: warning: stack huge holds 10515 resource instances, and every plan of it goes through each one`,
    );
    // Each of the layouts that would make the largest stack smaller, with its size: the Region
    // stacks (5 copies + 5 x 700 permissions each) and the split's share stacks (one image, 3
    // Regions, a share group's accounts).
    const groupSizes = [0, 1, 2, 3, 4, 5, 6, 7].map((g) => Array.from({ length: 700 }, (_, i) => String(200000000000 + i)).filter((a) => shareGroupOf({ kind: "account", value: a }, 8) === g).length);
    expect(warned.stderr).toContain(
      `in ami-fleet.config.yaml, layout: fleet-region splits it into 3 stacks of at most 3505; layout: split splits it into 43 stacks of at most ${3 * Math.max(...groupSizes)} (README "Stack layout").`,
    );
    fs.writeFileSync(path.join(dir, "ami-fleet.config.yaml"), "layout: fleet-region\n");
    expect((await runCli(["validate", file], { cwd: dir })).stderr).not.toContain("resource instances");
    fs.writeFileSync(path.join(dir, "ami-fleet.config.yaml"), "layout: split\n");
    expect((await runCli(["validate", file], { cwd: dir })).stderr).not.toContain("resource instances");
    fs.rmSync(path.join(dir, "ami-fleet.config.yaml"));
    // One Region: 3,510 instances, small enough (the long account list is the advice that remains).
    fs.writeFileSync(file, doc(["eu-west-1"]));
    const single = await runCli(["validate", file], { cwd: dir });
    expect(single.stderr).not.toContain("resource instances");
    expect(single.stderr).toContain("share.accounts: warning: 700 accounts");
  });

  it("exits 1 on a file that is not YAML, without a stack trace", async () => {
    const file = path.join(dir, "broken.json");
    fs.writeFileSync(file, '{ "name": "x", ');
    const result = await runCli(["validate", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: line 1, column \\d+: `));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 1 on an unknown option", async () => {
    const result = await runCli(["validate", "--strict-mode"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unknown option '--strict-mode'/);
  });

  it("prints the JSON Schema, and the committed schema file is up to date", async () => {
    const result = await runCli(["schema"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(fleetJsonSchema());
    const committed = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "schema", "fleet.schema.json"), "utf8"));
    expect(committed).toEqual(fleetJsonSchema()); // run `npm run schema` after changing lib/fleet/schema.ts
  });
});

describe("cdktf synth with an invalid fleet", () => {
  it("fails with the validation messages and writes nothing", async () => {
    const { spawnSync } = await import("child_process");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-synth-"));
    fs.writeFileSync(path.join(dir, "bad.yaml"), "name: bad\nsource: { region: us-east-1, images: [ { amiId: ami-1 } ] }\nregions: [eu-west-1]\n");
    const out = path.join(dir, "out");
    const result = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "main.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, AMI_FLEET_PATHS: dir, CDKTF_OUTDIR: out, CHECKPOINT_DISABLE: "1" },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${path.join(dir, "bad.yaml")}: source.images[0].amiId: "ami-1" is not an AMI id.`);
    expect(result.stderr).toContain("nothing was synthesized");
    expect(fs.existsSync(out)).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("the README's main job (scripts/demo.sh)", () => {
  it("validates, synthesizes the example fleets with cdktf and lists what would be created", async () => {
    const { spawnSync } = await import("child_process");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-demo-"));
    fs.copyFileSync(path.join(PROJECT_ROOT, "fleets", "build-agents.yaml"), path.join(dir, "build-agents.yaml"));
    const result = spawnSync("bash", [path.join(PROJECT_ROOT, "scripts", "demo.sh"), dir], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDKTF_OUTDIR: path.join(dir, "out") },
      encoding: "utf8",
      timeout: 120_000,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("build-agents: 1 image x 3 Regions = 3 copies, 6 launch permissions, 0 KMS grants");
    expect(result.stdout).toContain("synthesized: build-agents");
    expect(result.stdout).toContain("build-agents: 3 aws_ami_copy, 6 aws_ami_launch_permission would be created");
    expect(result.stdout).toContain('+ aws_ami_launch_permission.share_ami-0a1b2c3d4e5f60718_eu-west-1_accounts["444455556666"]');
    // cdktf-cli 0.21 cannot start on Node 24 (pty.node): on any Node but 22 the demo says it runs it
    // on the cached Node 22 (scripts/cdktf.sh), and never crashes. The test command runs this file on 22 and on 24.
    if (process.versions.node.split(".")[0] === "22") expect(result.stderr).not.toContain("running on Node");
    else expect(result.stderr).toMatch(/^cdktf \(cdktf-cli 0\.21 needs Node 22\): running on Node v22\.\d+\.\d+ from the cache \(this machine's Node is v24\./m);
  }, 120_000);

  it("on the machine's own Node, whatever it is, runs on a supported one (README: the two commands)", async () => {
    const { spawnSync } = await import("child_process");
    // PATH without the cached Nodes the test command put first: the machine's own `node`.
    const machinePath = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => !dir.includes(`${path.sep}node-linux-`)).join(path.delimiter);
    const env = withoutNpmSettings(process.env);
    const machine = spawnSync("node", ["-p", "process.versions.node"], { env: { ...env, PATH: machinePath }, encoding: "utf8" }).stdout.trim();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-demo-"));
    fs.copyFileSync(path.join(PROJECT_ROOT, "fleets", "build-agents.yaml"), path.join(dir, "build-agents.yaml"));
    const result = spawnSync("bash", [path.join(PROJECT_ROOT, "scripts", "demo.sh"), dir], { cwd: PROJECT_ROOT, env: { ...env, PATH: machinePath, CDKTF_OUTDIR: path.join(dir, "out") }, encoding: "utf8", timeout: 120_000 });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("synthesized: build-agents");
    if (["22", "24"].includes(machine.split(".")[0])) expect(result.stderr).not.toContain("demo (Node 22 or 24 is supported)");
    else expect(result.stderr).toContain(`demo (Node 22 or 24 is supported): running on Node v22.23.5 from the cache (this machine's Node is v${machine})`);
  }, 120_000);

  it("with no argument, shows the shipped examples: the owner's stacks and a recipient's, with pointers and an OU", async () => {
    const { spawnSync } = await import("child_process");
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-demo-"));
    const result = spawnSync("bash", [path.join(PROJECT_ROOT, "scripts", "demo.sh")], { cwd: PROJECT_ROOT, env: { ...process.env, CDKTF_OUTDIR: out }, encoding: "utf8", timeout: 120_000 });
    fs.rmSync(out, { recursive: true, force: true });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("synthesized: build-agents golden-base payments-runtime payments-runtime-recipient-222233334444");
    expect(result.stdout).toContain("payments-runtime: 1 image x 2 Regions = 2 copies, 3 launch permissions, 0 KMS grants; 1 recipient copy in 1 account");
    expect(result.stdout).toContain("payments-runtime: 2 aws_ami_copy, 2 aws_ami_launch_permission, 2 aws_ssm_parameter would be created");
    expect(result.stdout).toContain('+ aws_ami_launch_permission.share_2026-11_eu-west-1_ous["arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56"]');
    expect(result.stdout).toMatch(/payments-runtime-recipient-222233334444: 1 aws_ami_copy, .*1 aws_ssm_parameter would be created/);
  }, 120_000);
});

describe("the JSON Schema carries the formats validate enforces", () => {
  const { fleetJsonSchema } = require("../lib/fleet/schema") as typeof import("../lib/fleet/schema");
  const schema = fleetJsonSchema() as any;
  const test = (node: any, value: string) => new RegExp(node.pattern, "u").test(value);

  it("patterns for Regions, account ids, AMI ids and ARNs, valid in unicode mode", () => {
    const region = schema.properties.regions.items.anyOf[0];
    expect([test(region, "eu-west-1"), test(region, "us-est-2")]).toEqual([true, false]);
    const account = schema.properties.share.properties.accounts.items;
    expect([test(account, "444455556666"), test(account, "4444")]).toEqual([true, false]);
    const ami = schema.properties.source.properties.images.items.properties.amiId;
    expect([test(ami, "ami-0123456789abcdef0"), test(ami, "ami-xyz")]).toEqual([true, false]);
    const key = schema.properties.encryption.properties.kmsKeyIds.additionalProperties;
    expect([test(key, "arn:aws:kms:eu-west-1:111122223333:key/0b5c2f1e-7a4d-4c11-9a3e-2f6d8e4b1c90"), test(key, "arn:aws:kms:eu-west-1:111122223333:key/x")]).toEqual([true, false]);
    const org = schema.properties.share.properties.organizationArns.items;
    expect([test(org, "arn:aws:organizations::111122223333:organization/o-abc123def4"), test(org, "o-abc123def4")]).toEqual([true, false]);
    const ou = schema.properties.share.properties.organizationalUnitArns.items;
    expect(test(ou, "arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56")).toBe(true);
  });
});

describe("ami-fleet --version", () => {
  it("prints the installed package's version, and exits 0", async () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
    for (const flag of ["--version", "-V"]) {
      const result = await runCli([flag]);
      expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    }
  });
});
