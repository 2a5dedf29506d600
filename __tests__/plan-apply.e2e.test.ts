import { DescribeImageAttributeCommand, DescribeImagesCommand } from "@aws-sdk/client-ec2";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { DriftReport } from "../lib/drift/findings";
import { PROJECT_ROOT, runCli, spawnAsync } from "./helpers/cli";
import { asRole } from "./helpers/iam";
import { Ec2 } from "./helpers/live";
import { Moto, startMoto } from "./helpers/moto";
import { shareGroupOf } from "../lib/project/layout";
import { loadToolchain, synth, Toolchain, tofu, tofuOk, tofuOnPath } from "./helpers/tofu";

/**
 * The whole loop a team runs, with the real OpenTofu and the real AWS provider (built by
 * scripts/e2e-setup.sh) against the emulator: synth, init, plan, apply, reconcile, out-of-band
 * changes, apply again, change the fleet. With AMI_FLEET_WRITE_FIXTURES=1 it also writes the plan
 * JSON fixtures that the review tests read (scripts/regenerate-plan-fixtures.sh).
 */

const FIXTURES = path.join(PROJECT_ROOT, "__tests__", "fixtures", "plans");
const WRITE_FIXTURES = process.env.AMI_FLEET_WRITE_FIXTURES === "1";
const A1 = "444455556666";
const A2 = "777788889999";
const OUTSIDER = "999988887777";
const MIGRATION_RECIPIENT = "555566667777";

let moto: Moto;
let toolchain: Toolchain;
let ec2: Ec2;
let work: string;
const timings: Record<string, number> = {};

beforeAll(async () => {
  toolchain = loadToolchain();
  moto = await startMoto();
  ec2 = new Ec2(moto.env);
  work = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-e2e-"));
});
afterAll(async () => {
  await moto?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  process.stdout.write(`e2e timings (s): ${JSON.stringify(timings)}\n`);
});

function timed<T>(label: string, run: () => T): T {
  const started = Date.now();
  try {
    return run();
  } finally {
    timings[label] = (timings[label] ?? 0) + (Date.now() - started) / 1000;
  }
}

async function reconcile(fleetFile: string): Promise<{ code: number | null; report: DriftReport }> {
  const result = await runCli(["reconcile", fleetFile, "--format", "json"], { env: asRole("reconcile", moto.env) });
  return { code: result.code, report: JSON.parse(result.stdout) };
}

function findingSummary(report: DriftReport): string[] {
  return report.fleets.flatMap((f) => f.findings.map((x) => `${x.kind} ${x.image} ${x.region}${x.principal ? ` ${x.principal}` : ""}`)).sort();
}

/** Resource addresses and actions of a saved plan, without no-ops. */
function planChanges(plan: any): string[] {
  return (plan.resource_changes ?? [])
    .filter((c: any) => !(c.change.actions.length === 1 && ["no-op", "read"].includes(c.change.actions[0])))
    .map((c: any) => `${c.change.actions.join("+")} ${c.address}`)
    .sort();
}

/** The resource changes of a saved plan made with `extra` flags. */
function plannedWith(stackDir: string, extra: string[]): string[] {
  timed("plan", () => tofuOk(toolchain, stackDir, ["plan", "-no-color", "-out=compare.tfplan", ...extra], moto.env));
  return planChanges(JSON.parse(tofuOk(toolchain, stackDir, ["show", "-json", "compare.tfplan"], moto.env).stdout));
}
const plannedWithRefresh = (stackDir: string) => plannedWith(stackDir, []);
const plannedWithoutRefresh = (stackDir: string) => plannedWith(stackDir, ["-refresh=false"]);

function savePlanFixture(name: string, plan: any): void {
  if (!WRITE_FIXTURES) return;
  fs.mkdirSync(FIXTURES, { recursive: true });
  // Temporary paths and timestamps change every run; the review reads neither.
  const text = JSON.stringify(plan, null, 1).split(work).join("/tmp/ami-fleet-e2e");
  fs.writeFileSync(path.join(FIXTURES, `${name}.json`), `${text}\n`);
}

it("synthesizes, plans, applies, reconciles and re-plans a fleet with the real OpenTofu and AWS provider", async () => {
  const v1 = await ec2.registerSource("us-east-1", "golden-e2e-v1");
  const v2 = await ec2.registerSource("us-east-1", "golden-e2e-v2");
  const fleetDir = path.join(work, "fleets");
  fs.mkdirSync(fleetDir);
  const fleetFile = path.join(fleetDir, "golden.yaml");
  const doc: any = {
    name: "golden",
    source: { region: "us-east-1", images: [{ key: "v1", amiId: v1 }, { key: "v2", amiId: v2 }] },
    regions: ["eu-west-1", "us-west-2"],
    share: { accounts: [A1] },
    tags: { team: "platform" },
  };
  fs.writeFileSync(fleetFile, stringify(doc));
  const out = path.join(work, "cdktf.out");
  const stackDir = path.join(out, "stacks", "golden");
  const env = moto.env;

  // 1. synth, init from the mirror, plan, apply.
  timed("synth", () => synth([fleetDir], out));
  const init = timed("init", () => tofuOk(toolchain, stackDir, ["init", "-no-color"], env));
  expect(init.stdout).toMatch(new RegExp(`Installed hashicorp/aws v${toolchain.providerVersion.replace(/\./g, "\\.")}`));
  timed("plan", () => tofuOk(toolchain, stackDir, ["plan", "-no-color", "-out=initial.tfplan"], env));
  const initialPlan = JSON.parse(tofuOk(toolchain, stackDir, ["show", "-json", "initial.tfplan"], env).stdout);
  expect(planChanges(initialPlan)).toEqual(
    [
      "create aws_ami_copy.copy_v1_eu-west-1",
      "create aws_ami_copy.copy_v1_us-west-2",
      "create aws_ami_copy.copy_v2_eu-west-1",
      "create aws_ami_copy.copy_v2_us-west-2",
      `create aws_ami_launch_permission.share_v1_eu-west-1_accounts["${A1}"]`,
      `create aws_ami_launch_permission.share_v1_us-west-2_accounts["${A1}"]`,
      `create aws_ami_launch_permission.share_v2_eu-west-1_accounts["${A1}"]`,
      `create aws_ami_launch_permission.share_v2_us-west-2_accounts["${A1}"]`,
    ].sort(),
  );
  savePlanFixture("initial", initialPlan);
  timed("apply", () => tofuOk(toolchain, stackDir, ["apply", "-no-color", "-auto-approve", "initial.tfplan"], env));

  const outputs = JSON.parse(tofuOk(toolchain, stackDir, ["output", "-json"], env).stdout);
  const copyIds: Record<string, Record<string, string>> = { v1: outputs["copies_v1"].value, v2: outputs["copies_v2"].value };
  for (const [key, source] of [["v1", v1], ["v2", v2]] as const) {
    for (const region of ["eu-west-1", "us-west-2"]) {
      const id = copyIds[key][region];
      const [image] = (await ec2.in(region).send(new DescribeImagesCommand({ ImageIds: [id] }))).Images!;
      const tags = Object.fromEntries(image.Tags!.map((t) => [t.Key, t.Value]));
      expect(tags).toEqual({
        team: "platform",
        "ami-fleet:fleet": "golden",
        "ami-fleet:image": key,
        "ami-fleet:source-ami": source,
        "ami-fleet:source-region": "us-east-1",
      });
      expect(image.Name).toBe(`golden-${key}-${source}`);
      const permissions = await ec2.in(region).send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: "launchPermission" }));
      expect(permissions.LaunchPermissions).toEqual([{ UserId: A1 }]);
    }
  }

  // 2. reconcile: in sync. Then a plan without refresh is the plan with it (README "Plan and apply").
  const inSync = await reconcile(fleetFile);
  expect(inSync.report.errors).toEqual([]);
  expect(findingSummary(inSync.report)).toEqual([]);
  expect(inSync.code).toBe(0);
  expect(plannedWithoutRefresh(stackDir)).toEqual(plannedWithRefresh(stackDir));

  // 3. out-of-band: an extra launch permission, a deregistered copy.
  await ec2.addPermission("eu-west-1", copyIds.v1["eu-west-1"], { UserId: OUTSIDER });
  await ec2.deregister("us-west-2", copyIds.v1["us-west-2"]);
  const drift = await reconcile(fleetFile);
  expect(drift.code).toBe(2);
  expect(findingSummary(drift.report)).toEqual([`extra-permission v1 eu-west-1 account ${OUTSIDER}`, "missing-copy v1 us-west-2"]);
  // Terraform sees the missing copy, not the extra permission: the gap the reconciler exists for.
  const detailed = timed("plan", () => tofu(toolchain, stackDir, ["plan", "-no-color", "-detailed-exitcode", "-out=drift.tfplan"], env));
  expect(detailed.code).toBe(2);
  const driftPlan = JSON.parse(tofuOk(toolchain, stackDir, ["show", "-json", "drift.tfplan"], env).stdout);
  const driftChanges = planChanges(driftPlan);
  expect(driftChanges).toContain("create aws_ami_copy.copy_v1_us-west-2");
  // Reconcile exited 2 here: a plan without refresh would miss the deregistered copy. Refresh.
  expect(plannedWithoutRefresh(stackDir)).not.toContain("create aws_ami_copy.copy_v1_us-west-2");
  expect(driftChanges.some((c) => c.includes("share_v1_eu-west-1") || c.includes(OUTSIDER))).toBe(false);
  savePlanFixture("drift", driftPlan);

  // 4. apply again: the copy is back; only the extra permission remains.
  timed("apply", () => tofuOk(toolchain, stackDir, ["apply", "-no-color", "-auto-approve", "drift.tfplan"], env));
  const afterRepair = await reconcile(fleetFile);
  expect(findingSummary(afterRepair.report)).toEqual([`extra-permission v1 eu-west-1 account ${OUTSIDER}`]);

  // 5. change the fleet: add a Region and an account, remove image v2. The pull-request flow
  // (docs/ci/ami-fleet-pr.yml) reconciles the deployed file (the target branch's), not the changed
  // one, which differs from live by the change itself: in sync, so the change plans without refresh.
  await ec2.removePermission("eu-west-1", copyIds.v1["eu-west-1"], { UserId: OUTSIDER });
  const deployedFile = path.join(work, "deployed-golden.yaml");
  fs.copyFileSync(fleetFile, deployedFile);
  doc.regions.push("ap-southeast-2");
  doc.share.accounts.push(A2);
  doc.source.images = doc.source.images.filter((i: any) => i.key !== "v2");
  fs.writeFileSync(fleetFile, stringify(doc));
  timed("synth", () => synth([fleetDir], out));
  expect((await reconcile(fleetFile)).code).toBe(2);
  const deployed = await reconcile(deployedFile);
  expect({ code: deployed.code, findings: findingSummary(deployed.report), errors: deployed.report.errors }).toEqual({ code: 0, findings: [], errors: [] });
  expect(plannedWithoutRefresh(stackDir)).toEqual(plannedWithRefresh(stackDir));
  timed("plan", () => tofuOk(toolchain, stackDir, ["plan", "-no-color", "-out=change.tfplan"], env));
  const changePlan = JSON.parse(tofuOk(toolchain, stackDir, ["show", "-json", "change.tfplan"], env).stdout);
  expect(planChanges(changePlan)).toEqual(
    [
      "create aws_ami_copy.copy_v1_ap-southeast-2",
      `create aws_ami_launch_permission.share_v1_ap-southeast-2_accounts["${A1}"]`,
      `create aws_ami_launch_permission.share_v1_ap-southeast-2_accounts["${A2}"]`,
      `create aws_ami_launch_permission.share_v1_eu-west-1_accounts["${A2}"]`,
      `create aws_ami_launch_permission.share_v1_us-west-2_accounts["${A2}"]`,
      "delete aws_ami_copy.copy_v2_eu-west-1",
      "delete aws_ami_copy.copy_v2_us-west-2",
      `delete aws_ami_launch_permission.share_v2_eu-west-1_accounts["${A1}"]`,
      `delete aws_ami_launch_permission.share_v2_us-west-2_accounts["${A1}"]`,
    ].sort(),
  );
  savePlanFixture("change", changePlan);
  timed("apply", () => tofuOk(toolchain, stackDir, ["apply", "-no-color", "-auto-approve", "change.tfplan"], env));

  // 6. a new source version for v1 replaces its copies, creating the new ones first.
  const v1b = await ec2.registerSource("us-east-1", "golden-e2e-v1b");
  doc.source.images[0].amiId = v1b;
  fs.writeFileSync(fleetFile, stringify(doc));
  timed("synth", () => synth([fleetDir], out));
  timed("plan", () => tofuOk(toolchain, stackDir, ["plan", "-no-color", "-out=replace.tfplan"], env));
  const replacePlan = JSON.parse(tofuOk(toolchain, stackDir, ["show", "-json", "replace.tfplan"], env).stdout);
  const replaced = planChanges(replacePlan).filter((c) => c.includes("aws_ami_copy."));
  expect(replaced).toEqual([
    "create+delete aws_ami_copy.copy_v1_ap-southeast-2",
    "create+delete aws_ami_copy.copy_v1_eu-west-1",
    "create+delete aws_ami_copy.copy_v1_us-west-2",
  ]);
  savePlanFixture("replace", replacePlan);
  timed("apply", () => tofuOk(toolchain, stackDir, ["apply", "-no-color", "-auto-approve", "replace.tfplan"], env));
  const afterReplace = await reconcile(fleetFile);
  expect(findingSummary(afterReplace.report)).toEqual([]);
});

it("encrypts copies with each Region's key and grants the recipients, with the real provider", async () => {
  const { KMSClient, CreateKeyCommand, ListGrantsCommand } = await import("@aws-sdk/client-kms");
  const { DescribeSnapshotsCommand } = await import("@aws-sdk/client-ec2");
  const kms = (region: string) =>
    new KMSClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const keys: Record<string, string> = {};
  for (const region of ["eu-west-1", "us-west-2"]) {
    keys[region] = (await kms(region).send(new CreateKeyCommand({ Description: `ami-fleet e2e ${region}` }))).KeyMetadata!.Arn!;
  }
  const source = await ec2.registerSource("us-east-1", "vault-e2e");
  const fleetDir = path.join(work, "vault-fleets");
  fs.mkdirSync(fleetDir);
  const fleetFile = path.join(fleetDir, "vault.yaml");
  const doc: any = {
    name: "vault",
    source: { region: "us-east-1", images: [{ key: "base", amiId: source }] },
    regions: Object.entries(keys).map(([region, kmsKeyId]) => ({ region, kmsKeyId })),
    encryption: { encrypted: true },
    share: { accounts: [A1] },
  };
  fs.writeFileSync(fleetFile, stringify(doc));
  const out = path.join(work, "vault.out");
  const stackDir = path.join(out, "stacks", "vault");
  const env = moto.env;

  timed("synth", () => synth([fleetDir], out));
  timed("init", () => tofuOk(toolchain, stackDir, ["init", "-no-color"], env));
  timed("apply", () => tofuOk(toolchain, stackDir, ["apply", "-no-color", "-auto-approve"], env));

  const outputs = JSON.parse(tofuOk(toolchain, stackDir, ["output", "-json"], env).stdout);
  for (const [region, key] of Object.entries(keys)) {
    const id = outputs["copies_base"].value[region];
    const [image] = (await ec2.in(region).send(new DescribeImagesCommand({ ImageIds: [id] }))).Images!;
    const snapshotId = image.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    const [snapshot] = (await ec2.in(region).send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots!;
    expect({ encrypted: snapshot.Encrypted, key: snapshot.KmsKeyId }).toEqual({ encrypted: true, key });
    const grants = (await kms(region).send(new ListGrantsCommand({ KeyId: key }))).Grants!;
    expect(grants.map((g) => ({ grantee: g.GranteePrincipal, operations: [...(g.Operations ?? [])].sort() }))).toEqual([
      {
        grantee: `arn:aws:iam::${A1}:root`,
        operations: ["CreateGrant", "Decrypt", "DescribeKey", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo"],
      },
    ]);
  }
  const inSync = await reconcile(fleetFile);
  expect({ code: inSync.code, findings: findingSummary(inSync.report), errors: inSync.report.errors }).toEqual({ code: 0, findings: [], errors: [] });

  // Rotating a Region's key in the file: the copy there no longer matches, the new key carries no
  // grant for the share account yet, and the plan replaces both.
  const rotated = (await kms("eu-west-1").send(new CreateKeyCommand({ Description: "rotated" }))).KeyMetadata!.Arn!;
  doc.regions[0].kmsKeyId = rotated;
  fs.writeFileSync(fleetFile, stringify(doc));
  const drift = await reconcile(fleetFile);
  expect(findingSummary(drift.report)).toEqual(["encryption-mismatch base eu-west-1", "missing-grant undefined eu-west-1"]);
  timed("synth", () => synth([fleetDir], out));
  timed("plan", () => tofuOk(toolchain, stackDir, ["plan", "-no-color", "-out=rotate.tfplan"], env));
  const plan = JSON.parse(tofuOk(toolchain, stackDir, ["show", "-json", "rotate.tfplan"], env).stdout);
  const copyChanges = planChanges(plan).filter((c) => c.includes("aws_ami_copy."));
  expect(copyChanges).toEqual(["create+delete aws_ami_copy.copy_base_eu-west-1"]);
  savePlanFixture("rotate-key", plan);
});

it("keeps pointers (SSM parameters) on each Region's copy; a move is a reviewed update, drift is reported and repaired", async () => {
  const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");
  const ssm = (region: string) => new SSMClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const pointerIn = async (region: string) => (await ssm(region).send(new GetParameterCommand({ Name: "/golden/pointed/latest" }))).Parameter!;
  const v1 = await ec2.registerSource("us-east-1", "pointed-e2e-v1");
  const v2 = await ec2.registerSource("us-east-1", "pointed-e2e-v2");
  const fleetDir = path.join(work, "pointed-fleets");
  fs.mkdirSync(fleetDir);
  const fleetFile = path.join(fleetDir, "pointed.yaml");
  const doc: any = {
    name: "pointed",
    source: { region: "us-east-1", images: [{ key: "v1", amiId: v1 }, { key: "v2", amiId: v2 }] },
    regions: ["eu-west-1", "us-west-2"],
    pointers: [{ key: "latest", parameter: "/golden/{fleet}/latest", image: "v1" }],
  };
  fs.writeFileSync(fleetFile, stringify(doc));
  const out = path.join(work, "pointed.out");
  const stackDir = path.join(out, "stacks", "pointed");
  const env = moto.env;

  // 1. apply: each Region's pointer names that Region's copy of v1.
  timed("synth", () => synth([fleetDir], out));
  timed("init", () => tofuOk(toolchain, stackDir, ["init", "-no-color"], env));
  timed("apply", () => tofuOk(toolchain, stackDir, ["apply", "-no-color", "-auto-approve"], env));
  const copies = () => JSON.parse(tofuOk(toolchain, stackDir, ["output", "-json"], env).stdout);
  const ids = copies();
  for (const region of ["eu-west-1", "us-west-2"]) {
    const parameter = await pointerIn(region);
    expect({ value: parameter.Value, dataType: parameter.DataType }).toEqual({ value: ids.copies_v1.value[region], dataType: "aws:ec2:image" });
  }
  expect(await reconcile(fleetFile)).toMatchObject({ code: 0, report: { inSync: true } });

  // 2. out of band: one pointer moved by hand, one deleted. Reconcile reports both; apply restores them.
  await ec2.putPointer("eu-west-1", "/golden/pointed/latest", ids.copies_v2.value["eu-west-1"]);
  await ec2.deletePointer("us-west-2", "/golden/pointed/latest");
  const drift = await reconcile(fleetFile);
  expect({ code: drift.code, findings: findingSummary(drift.report) }).toEqual({ code: 2, findings: ["pointer-drift v1 eu-west-1", "pointer-missing v1 us-west-2"] });
  timed("apply", () => tofuOk(toolchain, stackDir, ["apply", "-no-color", "-auto-approve"], env));
  expect((await pointerIn("eu-west-1")).Value).toBe(ids.copies_v1.value["eu-west-1"]);
  expect((await pointerIn("us-west-2")).Value).toBe(ids.copies_v1.value["us-west-2"]);
  expect(await reconcile(fleetFile)).toMatchObject({ code: 0, report: { inSync: true } });

  // 3. move the pointer to v2 in the file: an in-place update of each pointer, which review gates.
  doc.pointers[0].image = "v2";
  fs.writeFileSync(fleetFile, stringify(doc));
  timed("synth", () => synth([fleetDir], out));
  timed("plan", () => tofuOk(toolchain, stackDir, ["plan", "-no-color", "-out=move.tfplan"], env));
  const movePlan = JSON.parse(tofuOk(toolchain, stackDir, ["show", "-json", "move.tfplan"], env).stdout);
  expect(planChanges(movePlan)).toEqual(["update aws_ssm_parameter.pointer_latest_eu-west-1", "update aws_ssm_parameter.pointer_latest_us-west-2"]);
  savePlanFixture("pointer-move", movePlan);
  const planFile = path.join(work, "move.json");
  fs.writeFileSync(planFile, JSON.stringify(movePlan));
  const review = await runCli(["review", "--plan", planFile, "--format", "json"], { env });
  expect(review.code).toBe(2);
  expect(JSON.parse(review.stdout).dangers.map((d: any) => `${d.category} ${d.address}`)).toEqual([
    "pointer-move aws_ssm_parameter.pointer_latest_eu-west-1",
    "pointer-move aws_ssm_parameter.pointer_latest_us-west-2",
  ]);
  timed("apply", () => tofuOk(toolchain, stackDir, ["apply", "-no-color", "-auto-approve", "move.tfplan"], env));
  expect((await pointerIn("us-west-2")).Value).toBe(ids.copies_v2.value["us-west-2"]);
  expect(await reconcile(fleetFile)).toMatchObject({ code: 0, report: { inSync: true } });
});

it("shares state in S3 with S3-native locking: a second apply fails naming the holder or waits for it; another runner plans from the same state", async () => {
  const { S3Client, CreateBucketCommand, HeadObjectCommand } = await import("@aws-sdk/client-s3");
  const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const bucket = "team-tf-state";
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const exists = (key: string) =>
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => true,
      (error) => (error?.$metadata?.httpStatusCode === 404 ? false : Promise.reject(error)),
    );
  const source = await ec2.registerSource("us-east-1", "shared-e2e");
  const fleetDir = path.join(work, "shared-fleets");
  fs.mkdirSync(fleetDir);
  fs.writeFileSync(
    path.join(fleetDir, "shared.yaml"),
    stringify({ name: "shared", source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] }, regions: ["eu-west-1"], share: { accounts: [A1] } }),
  );
  const config = path.join(work, "ami-fleet.config.yaml");
  fs.writeFileSync(config, stringify({ backend: { type: "s3", bucket, region: "us-east-1", keyPrefix: "ami-fleet/" } }));
  // What only the emulator needs (path-style addressing, its endpoint, no STS): a partial backend
  // configuration given at init, as teams give credentials; the stack keeps the rest.
  const emulatorBackend = path.join(work, "emulator.s3.tfbackend");
  fs.writeFileSync(
    emulatorBackend,
    [
      `endpoints = { s3 = "${moto.endpoint}", sts = "${moto.endpoint}" }`,
      "use_path_style = true",
      "skip_credentials_validation = true",
      "skip_requesting_account_id = true",
      "skip_metadata_api_check = true",
      "skip_region_validation = true",
    ].join("\n"),
  );
  const env = moto.env;
  // Two runners: two clones that synthesize the same stack, each with its own working directory.
  const runner = (name: string) => {
    const out = path.join(work, `${name}.out`);
    timed("synth", () => synth([fleetDir], out, { AMI_FLEET_CONFIG: config }));
    const stackDir = path.join(out, "stacks", "shared");
    expect(JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")).terraform.backend.s3).toMatchObject({
      bucket,
      key: "ami-fleet/shared.tfstate",
      use_lockfile: true,
    });
    timed("init", () => tofuOk(toolchain, stackDir, ["init", "-no-color", `-backend-config=${emulatorBackend}`], env));
    return stackDir;
  };
  const a = runner("runner-a");
  const b = runner("runner-b");

  // Runner A applies and stops at the approval prompt, holding the lock.
  const holder = spawn(toolchain.tofu, [`-chdir=${a}`, "apply", "-no-color"], {
    env: { ...process.env, ...env, TF_CLI_CONFIG_FILE: toolchain.cliConfig, TF_INPUT: "1", CHECKPOINT_DISABLE: "1" },
  });
  let holderOut = "";
  holder.stdout.on("data", (chunk) => (holderOut += chunk));
  holder.stderr.on("data", (chunk) => (holderOut += chunk));
  const holderDone = new Promise<number | null>((resolve) => holder.on("close", resolve));
  try {
    const deadline = Date.now() + 120_000;
    while (!holderOut.includes("Enter a value:") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(holderOut).toContain("Enter a value:");
    expect(await exists("ami-fleet/shared.tfstate.tflock")).toBe(true);

    // Runner B, at once: refused, with the holder's lock information.
    const refused = tofu(toolchain, b, ["apply", "-no-color", "-auto-approve", "-lock-timeout=0s"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Error acquiring the state lock/);
    expect(refused.stderr).toMatch(/Operation: +OperationTypeApply/);
    expect(refused.stderr).toMatch(/Who: +\S+@\S+/);
    // Runner B again, willing to wait: it starts once A is done, and finds nothing left to do.
    const waiting = spawnAsync(toolchain.tofu, [`-chdir=${b}`, "apply", "-no-color", "-auto-approve", "-lock-timeout=120s"], asRole("apply", {
      ...process.env,
      ...env,
      TF_CLI_CONFIG_FILE: toolchain.cliConfig,
      TF_INPUT: "0",
      CHECKPOINT_DISABLE: "1",
    }));
    await new Promise((r) => setTimeout(r, 1000));
    holder.stdin.write("yes\n");
    expect(await holderDone).toBe(0);
    const waited = await waiting;
    expect({ code: waited.code, out: waited.stdout }).toMatchObject({ code: 0, out: expect.stringMatching(/No changes|0 added, 0 changed, 0 destroyed/) });

    // The state is whole: one copy and its permission, and a plan from runner B's clone has no changes.
    const state = tofuOk(toolchain, b, ["state", "list"], env).stdout.trim().split("\n").sort();
    expect(state.filter((r) => !r.startsWith("data."))).toEqual(["aws_ami_copy.copy_v1_eu-west-1", `aws_ami_launch_permission.share_v1_eu-west-1_accounts["${A1}"]`]);
    expect(tofu(toolchain, b, ["plan", "-no-color", "-detailed-exitcode"], env).code).toBe(0);
    expect(await exists("ami-fleet/shared.tfstate.tflock")).toBe(false);
    expect(await exists("ami-fleet/shared.tfstate")).toBe(true);
  } finally {
    // A failed assertion must not leave runner A waiting at its prompt (jest would never end).
    if (holder.exitCode === null) holder.kill();
  }
});

/** Runs a command without blocking the event loop; resolves with its exit code and output. */
it("cdktf deploy '*' --parallelism 2 (the users' own command) deploys every fleet's stack; cdktf diff then plans no change", async () => {
  const fleetDir = path.join(work, "cdktf-fleets");
  fs.mkdirSync(fleetDir);
  for (const name of ["alpha", "beta"]) {
    const source = await ec2.registerSource("us-east-1", `${name}-cdktf-e2e`);
    fs.writeFileSync(
      path.join(fleetDir, `${name}.yaml`),
      stringify({ name, source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] }, regions: ["eu-west-1"], share: { accounts: [A1] } }),
    );
  }
  const stateDir = path.join(work, "cdktf-state");
  fs.mkdirSync(stateDir);
  const cdktf = cdktfCli(path.join(work, "cdktf-deploy.out"), { AMI_FLEET_PATHS: fleetDir, AMI_FLEET_STATE_DIR: stateDir });
  const deploy = await timedAsync("cdktf deploy", () => cdktf(["deploy", "*", "--auto-approve", "--parallelism", "2"]));
  expect({ code: deploy.code, out: deploy.stdout.slice(-2000) }).toMatchObject({ code: 0 });
  expect(deploy.stdout.match(/Apply complete! Resources: 2 added, 0 changed, 0 destroyed/g)).toHaveLength(2);
  expect(fs.readdirSync(stateDir).sort()).toEqual(["terraform.alpha.tfstate", "terraform.beta.tfstate"]);
  for (const name of ["alpha", "beta"]) {
    expect(await reconcile(path.join(fleetDir, `${name}.yaml`))).toMatchObject({ code: 0, report: { inSync: true } });
  }
  const diff = await timedAsync("cdktf diff", () => cdktf(["diff", "alpha"]));
  expect(diff.code).toBe(0);
  expect(diff.stdout).toMatch(/No changes/);
});

/**
 * The users' `cdktf` (cdktf-cli) with OpenTofu against the emulator, synthesizing into `outdir`.
 * cdktf runs `providers lock` after init unless told not to: it asks the registry, which CI cannot reach.
 */
function cdktfCli(outdir: string, env: NodeJS.ProcessEnv): (args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }> {
  return (args) =>
    spawnAsync(process.execPath, [require.resolve("cdktf-cli/bundle/bin/cdktf"), ...args, "--skip-provider-lock", "--output", outdir], asRole(args[0] === "deploy" || args[0] === "destroy" ? "apply" : "plan", {
      ...process.env,
      ...moto.env,
      ...tofuOnPath(toolchain),
      TERRAFORM_BINARY_NAME: "tofu",
      CDKTF_DISABLE_PLUGIN_CACHE_ENV: "1",
      CI: "1",
      ...env,
    }));
}

async function timedAsync<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await run();
  } finally {
    timings[label] = (timings[label] ?? 0) + (Date.now() - started) / 1000;
  }
}

it("moves a deployed fleet to layout: fleet-region, then to split, with the README's block: no change in AWS, every stack plans none", async () => {
  const { KMSClient, CreateKeyCommand } = await import("@aws-sdk/client-kms");
  const key = (await new KMSClient({ region: "us-west-2", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } })
    .send(new CreateKeyCommand({ Description: "ami-fleet e2e layout" }))).KeyMetadata!.Arn!;
  const source = await ec2.registerSource("us-east-1", "layout-e2e");
  // The project: fleets, config, state and cdktf.out in one folder, as a team's repository has them.
  const project = path.join(work, "layout-project");
  const fleetDir = path.join(project, "fleets");
  fs.mkdirSync(fleetDir, { recursive: true });
  const fleetFile = path.join(fleetDir, "golden-base.yaml");
  fs.writeFileSync(
    fleetFile,
    stringify({
      name: "golden-base",
      source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] },
      regions: ["eu-west-1", { region: "us-west-2", kmsKeyId: key, share: { accounts: [A2] } }],
      share: { accounts: [A1] },
      pointers: [{ key: "current", parameter: "/golden-base/current", image: "v1" }],
      // A recipient: its stack reads the copies' stack, so the block must refresh it after the stacks it reads.
      // Its Region sorts after its stack's name: an order by name or by "holds copies" would refresh it first.
      recipients: [{ account: MIGRATION_RECIPIENT, regions: ["us-west-2"] }],
    }),
  );
  // `npx ami-fleet` finds the installed package's bin, as after `npm ci` in a team's repository.
  fs.mkdirSync(path.join(project, "node_modules", ".bin"), { recursive: true });
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "fleets", private: true }));
  fs.symlinkSync(path.join(PROJECT_ROOT, "bin", "ami-fleet.js"), path.join(project, "node_modules", ".bin", "ami-fleet"));
  const config = path.join(project, "ami-fleet.config.yaml");
  const out = path.join(project, "cdktf.out");
  fs.writeFileSync(config, "layout: fleet\n");
  timed("synth", () => synth([fleetDir], out, { AMI_FLEET_CONFIG: config }));
  const fleetStack = path.join(out, "stacks", "golden-base");
  const recipientStack = path.join(out, "stacks", `golden-base-recipient-${MIGRATION_RECIPIENT}`);
  for (const stack of [fleetStack, recipientStack]) {
    timed("init", () => tofuOk(toolchain, stack, ["init", "-no-color"], moto.env));
    timed("apply", () => tofuOk(toolchain, stack, ["apply", "-no-color", "-auto-approve"], moto.env));
  }
  const before = JSON.parse(tofuOk(toolchain, fleetStack, ["output", "-json"], moto.env).stdout).copies_v1.value;
  const instancesBefore = [fleetStack, recipientStack]
    .flatMap((stack) => tofuOk(toolchain, stack, ["state", "list"], moto.env).stdout.trim().split("\n"))
    .filter((a) => !a.startsWith("data."))
    .sort();
  expect(instancesBefore).toContain(`aws_ami_copy.recipient_${MIGRATION_RECIPIENT}_copy_v1_us-west-2`);

  // The README's block, run as written, but for its synth line: the same synth, of this fleet's file alone.
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
  const block = /<!-- migration: begin[^>]*-->\n```sh\n([\s\S]*?)```\n<!-- migration: end -->/.exec(readme)?.[1];
  const synthLine = "AMI_FLEET_PATHS=fleets/$fleet.yaml npx cdktf synth --output migrate.out\n";
  expect(block).toContain(synthLine);
  const migrated = path.join(project, "migrate.out");
  const migrateTo = async (layout: string) => {
    fs.writeFileSync(config, `layout: ${layout}\n`);
    fs.rmSync(migrated, { recursive: true, force: true });
    timed("synth", () => synth([fleetFile], migrated, { AMI_FLEET_CONFIG: config }));
    const run = await timedAsync("layout migration", () =>
      spawnAsync("bash", ["-c", block!.replace(synthLine, "")], asRole("apply", { ...process.env, ...moto.env, ...tofuOnPath(toolchain) }), project),
    );
    if (run.code !== 0) throw new Error(`the README's migration block exited ${run.code}:\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
    // No resource was created or destroyed: the refresh-only applies report no resource change.
    expect(run.stdout).not.toMatch(/Resources: [1-9]\d* added|[1-9]\d* destroyed/);
    const stacks = fs.readdirSync(path.join(migrated, "stacks")).sort();
    const instances: Record<string, string[]> = {};
    for (const stack of stacks) {
      const dir = path.join(migrated, "stacks", stack);
      const replan = tofu(toolchain, dir, ["plan", "-no-color", "-detailed-exitcode"], moto.env);
      expect({ stack, code: replan.code, stderr: replan.stderr }).toEqual({ stack, code: 0, stderr: "" });
      instances[stack] = tofuOk(toolchain, dir, ["state", "list"], moto.env).stdout.trim().split("\n").filter((a) => a !== "" && !a.startsWith("data."));
    }
    // Every instance is in exactly one stack, the one the new layout declares it in.
    expect(Object.values(instances).flat().sort()).toEqual(instancesBefore);
    expect(await reconcile(fleetFile)).toMatchObject({ code: 0, report: { inSync: true } });
    return instances;
  };

  const byRegion = await migrateTo("fleet-region");
  expect(Object.keys(byRegion)).toEqual(["golden-base-eu-west-1", `golden-base-recipient-${MIGRATION_RECIPIENT}`, "golden-base-us-west-2"]);
  for (const region of ["eu-west-1", "us-west-2"]) {
    const stack = path.join(migrated, "stacks", `golden-base-${region}`);
    expect(JSON.parse(tofuOk(toolchain, stack, ["output", "-json"], moto.env).stdout).copies_v1.value).toEqual({ [region]: before[region] });
    for (const address of byRegion[`golden-base-${region}`]) expect(address.replace(/\[.*$/, "")).toMatch(new RegExp(`_${region}(_[a-z]+)?$`));
  }
  expect(byRegion["golden-base-us-west-2"]).toContain(`aws_kms_grant.key_grants_us-west-2["${A2}"]`);
  // The old state keeps no resource.
  const old = JSON.parse(fs.readFileSync(path.join(project, "terraform.golden-base.tfstate"), "utf8"));
  expect(old.resources.filter((r: any) => r.mode === "managed")).toEqual([]);

  // Then to split: the copies stay in the Region stacks, permissions and grants go to their share groups' stacks.
  const split = await migrateTo("split");
  for (const region of ["eu-west-1", "us-west-2"]) {
    expect(split[`golden-base-${region}`].map((a) => a.split(".")[0]).sort()).toEqual(["aws_ami_copy", "aws_ssm_parameter"]);
  }
  const groupOf = (account: string) => shareGroupOf({ kind: "account", value: account }, 8);
  expect(split[`golden-base-shares-v1-g${groupOf(A1)}`]).toEqual(
    expect.arrayContaining([`aws_ami_launch_permission.share_v1_eu-west-1_accounts["${A1}"]`, `aws_ami_launch_permission.share_v1_us-west-2_accounts["${A1}"]`]),
  );
  expect(split[`golden-base-grants-g${groupOf(A2)}`]).toContain(`aws_kms_grant.key_grants_us-west-2["${A2}"]`);
});

it("layout: split with cdktf deploy '*': copies first, then each share group's stack; a new image's share stacks wait for their copies, then deploy", async () => {
  const fleetDir = path.join(work, "split-fleets");
  fs.mkdirSync(fleetDir);
  const v1 = await ec2.registerSource("us-east-1", "split-e2e-v1");
  const v2 = await ec2.registerSource("us-east-1", "split-e2e-v2");
  const fleetFile = path.join(fleetDir, "split.yaml");
  const writeFleet = (images: Record<string, string>) =>
    fs.writeFileSync(
      fleetFile,
      stringify({
        name: "split",
        source: { region: "us-east-1", images: Object.entries(images).map(([key, amiId]) => ({ key, amiId })) },
        regions: ["eu-west-1", "us-west-2"],
        share: { accounts: [A1, A2] },
      }),
    );
  writeFleet({ v1 });
  const stateDir = path.join(work, "split-state");
  fs.mkdirSync(stateDir);
  const config = path.join(work, "split.config.yaml");
  fs.writeFileSync(config, stringify({ layout: "split", shareGroups: 2 }));
  const out = path.join(work, "split.out");
  const cdktf = cdktfCli(out, { AMI_FLEET_PATHS: fleetDir, AMI_FLEET_STATE_DIR: stateDir, AMI_FLEET_CONFIG: config });
  const groups = [...new Set([A1, A2].map((value) => shareGroupOf({ kind: "account", value }, 2)))].sort();
  const shareStacks = (image: string) => groups.map((g) => `split-shares-${image}-g${g}`);

  const deploy = await timedAsync("cdktf deploy", () => cdktf(["deploy", "*", "--auto-approve", "--parallelism", "2"]));
  expect({ code: deploy.code, out: deploy.stdout.slice(-2000) }).toMatchObject({ code: 0 });
  expect(fs.readdirSync(stateDir).sort()).toEqual(
    ["split-eu-west-1", "split-us-west-2", ...shareStacks("v1")].map((stack) => `terraform.${stack}.tfstate`).sort(),
  );
  // The share stacks hold the launch permissions, at the fleet layout's addresses, for their group's accounts.
  const permissions = shareStacks("v1").flatMap((stack) =>
    tofuOk(toolchain, path.join(out, "stacks", stack), ["state", "list"], moto.env).stdout.trim().split("\n").filter((a) => !a.startsWith("data.")),
  );
  expect(permissions.sort()).toEqual(
    ["eu-west-1", "us-west-2"].flatMap((region) => [A1, A2].map((account) => `aws_ami_launch_permission.share_v1_${region}_accounts["${account}"]`)).sort(),
  );
  expect(await reconcile(fleetFile)).toMatchObject({ code: 0, report: { inSync: true } });
  const diff = await timedAsync("cdktf diff", () => cdktf(["diff", shareStacks("v1")[0]]));
  expect({ code: diff.code, out: diff.stdout.slice(-1500) }).toMatchObject({ code: 0, out: expect.stringMatching(/No changes/) });

  // A new image version: its copies go to the copy stacks, and its share stacks cannot plan until those are applied.
  const base = path.join(work, "split-base.out");
  fs.renameSync(out, base);
  writeFleet({ v1, v2 });
  timed("synth", () => synth([fleetDir], out, { AMI_FLEET_CONFIG: config, AMI_FLEET_STATE_DIR: stateDir }));
  const changed = await runCli(["changed", "--base", base, out, "--format", "json"]);
  expect(changed.code).toBe(2);
  expect(JSON.parse(changed.stdout).plan.map((s: any) => [s.stack, s.waitsFor])).toEqual(
    [["split-eu-west-1", []], ["split-us-west-2", []], ...shareStacks("v2").map((stack) => [stack, ["split-eu-west-1", "split-us-west-2"]])].sort(([a], [b]) =>
      String(a).localeCompare(String(b)),
    ),
  );
  const early = path.join(out, "stacks", shareStacks("v2")[0]);
  tofuOk(toolchain, early, ["init", "-no-color"], moto.env);
  const tooEarly = tofu(toolchain, early, ["plan", "-no-color", "-input=false"], moto.env);
  expect(tooEarly.code).toBe(1);
  expect(tooEarly.stderr.replace(/\s+/g, " ")).toContain("the copy of image v2 in eu-west-1 is not in the state of stack split-eu-west-1: apply that stack first");
  fs.rmSync(out, { recursive: true, force: true });
  const second = await timedAsync("cdktf deploy", () => cdktf(["deploy", "*", "--auto-approve", "--parallelism", "2"]));
  expect({ code: second.code, out: second.stdout.slice(-2000) }).toMatchObject({ code: 0 });
  expect(await reconcile(fleetFile)).toMatchObject({ code: 0, report: { inSync: true } });
});

it("layout: split with the S3 backend: a share stack reads the copy ids from its copy stack's key, with the environment's endpoint and credentials", async () => {
  const { S3Client, CreateBucketCommand, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const s3 = new S3Client({ region: "us-east-1", endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  const bucket = "split-state";
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const source = await ec2.registerSource("us-east-1", "split-s3-e2e");
  const fleetDir = path.join(work, "split-s3-fleets");
  fs.mkdirSync(fleetDir);
  const fleetFile = path.join(fleetDir, "splits3.yaml");
  fs.writeFileSync(
    fleetFile,
    stringify({ name: "splits3", source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] }, regions: ["eu-west-1"], share: { accounts: [A1] } }),
  );
  const config = path.join(work, "split-s3.config.yaml");
  fs.writeFileSync(config, stringify({ layout: "split", shareGroups: 1, backend: { type: "s3", bucket, region: "us-east-1", keyPrefix: "ami-fleet/" } }));
  // The backend's emulator settings go to init (partial configuration); the share stack's
  // terraform_remote_state gets none of them, so its endpoint comes from the environment, as
  // README "Stack layout" tells teams to give it credentials.
  const emulatorBackend = path.join(work, "split-emulator.s3.tfbackend");
  fs.writeFileSync(
    emulatorBackend,
    [`endpoints = { s3 = "${moto.endpoint}", sts = "${moto.endpoint}" }`, "use_path_style = true", "skip_credentials_validation = true", "skip_requesting_account_id = true"].join("\n"),
  );
  const env = { ...moto.env, AWS_ENDPOINT_URL_S3: moto.endpoint, AWS_ENDPOINT_URL_STS: moto.endpoint };
  const out = path.join(work, "split-s3.out");
  timed("synth", () => synth([fleetDir], out, { AMI_FLEET_CONFIG: config }));
  for (const stack of ["splits3-eu-west-1", "splits3-shares-v1-g0"]) {
    const dir = path.join(out, "stacks", stack);
    timed("init", () => tofuOk(toolchain, dir, ["init", "-no-color", `-backend-config=${emulatorBackend}`], env));
    timed("apply", () => tofuOk(toolchain, dir, ["apply", "-no-color", "-auto-approve"], env));
  }
  const stateOf = async (stack: string) =>
    JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `ami-fleet/${stack}.tfstate` }))).Body!.transformToString());
  const copyId = (await stateOf("splits3-eu-west-1")).outputs.copies_v1.value["eu-west-1"];
  const permission = (await stateOf("splits3-shares-v1-g0")).resources.find((r: any) => r.type === "aws_ami_launch_permission");
  expect(permission.instances.map((i: any) => [i.index_key, i.attributes.image_id])).toEqual([[A1, copyId]]);
  expect(await reconcile(fleetFile)).toMatchObject({ code: 0, report: { inSync: true } });
  const replan = tofu(toolchain, path.join(out, "stacks", "splits3-shares-v1-g0"), ["plan", "-no-color", "-detailed-exitcode"], env);
  expect({ code: replan.code, stderr: replan.stderr }).toEqual({ code: 0, stderr: "" });
});

it("recipients: the owner's stack, then each recipient's through its role; their own copies and pointers, reconcile in sync; drift reported exactly and repaired by apply", async () => {
  const { KMSClient, CreateKeyCommand, ListGrantsCommand } = await import("@aws-sdk/client-kms");
  const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");
  const { DescribeSnapshotsCommand, ModifySnapshotAttributeCommand } = await import("@aws-sdk/client-ec2");
  const { assumeRole } = await import("./helpers/live");
  const RA = "222233334444";
  const RB = "333344445555";
  const roleOf = (account: string) => `arn:aws:iam::${account}:role/ami-fleet-recipient`;
  const as = async (account: string) => assumeRole(moto.env, roleOf(account));
  const keyIn = async (region: string, credentials = { accessKeyId: "test", secretAccessKey: "test" } as Awaited<ReturnType<typeof as>>) =>
    (await new KMSClient({ region, endpoint: moto.endpoint, credentials }).send(new CreateKeyCommand({ Description: "ami-fleet e2e recipients" }))).KeyMetadata!.Arn!;
  const ownerKey = await keyIn("eu-west-1");
  const raKeys = { "eu-west-1": await keyIn("eu-west-1", await as(RA)), "us-west-2": await keyIn("us-west-2", await as(RA)) };
  const source = await ec2.registerSource("us-east-1", "recipients-e2e");
  const fleetDir = path.join(work, "recipient-fleets");
  fs.mkdirSync(fleetDir);
  const fleetFile = path.join(fleetDir, "crossed.yaml");
  fs.writeFileSync(
    fleetFile,
    stringify({
      name: "crossed",
      source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] },
      regions: [{ region: "eu-west-1", kmsKeyId: ownerKey }, "us-west-2"],
      tags: { team: "platform" },
      pointers: [{ key: "current", parameter: "/crossed/current", image: "v1" }],
      recipients: [{ account: RA, kmsKeyIds: raKeys }, { account: RB, tags: { owner: "b" } }],
    }),
  );
  const out = path.join(work, "recipients.out");
  const stack = (name: string) => path.join(out, "stacks", name);
  const env = moto.env;
  timed("synth", () => synth([fleetDir], out));
  expect(fs.readdirSync(path.join(out, "stacks")).sort()).toEqual(["crossed", `crossed-recipient-${RA}`, `crossed-recipient-${RB}`]);
  for (const name of ["crossed", `crossed-recipient-${RA}`, `crossed-recipient-${RB}`]) timed("init", () => tofuOk(toolchain, stack(name), ["init", "-no-color"], env));

  // 1. A first deploy in order (README): a recipient stack planned before the owner's stack has any state stops, before any change.
  const early = tofu(toolchain, stack(`crossed-recipient-${RA}`), ["plan", "-no-color"], env);
  expect(early.code).toBe(1);
  expect(early.stderr).toMatch(/data\.terraform_remote_state\.copies_eu-west-1: Unable to read remote state/);
  timed("apply", () => tofuOk(toolchain, stack("crossed"), ["apply", "-no-color", "-auto-approve"], env));
  const ownerCopies = JSON.parse(tofuOk(toolchain, stack("crossed"), ["output", "-json"], env).stdout).copies_v1.value as Record<string, string>;
  timed("plan", () => tofuOk(toolchain, stack(`crossed-recipient-${RA}`), ["plan", "-no-color", "-out=first.tfplan"], env));
  const firstPlan = JSON.parse(tofuOk(toolchain, stack(`crossed-recipient-${RA}`), ["show", "-json", "first.tfplan"], env).stdout);
  const snapshotOf = async (region: string, imageId: string, credentials?: Awaited<ReturnType<typeof as>>) => {
    const [image] = (await new Ec2(moto.env, credentials).in(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images!;
    return { image, snapshotId: image.BlockDeviceMappings![0].Ebs!.SnapshotId! };
  };
  const euSnapshot = (await snapshotOf("eu-west-1", ownerCopies["eu-west-1"])).snapshotId;
  const usSnapshot = (await snapshotOf("us-west-2", ownerCopies["us-west-2"])).snapshotId;
  expect(planChanges(firstPlan)).toEqual(
    [
      `create aws_ami_copy.recipient_${RA}_copy_v1_eu-west-1`,
      `create aws_ami_copy.recipient_${RA}_copy_v1_us-west-2`,
      `create aws_ami_launch_permission.recipient_${RA}_share_v1_eu-west-1_accounts`,
      `create aws_ami_launch_permission.recipient_${RA}_share_v1_us-west-2_accounts`,
      `create aws_kms_grant.recipient_${RA}_key_grants_eu-west-1`,
      `create aws_snapshot_create_volume_permission.recipient_${RA}_snapshots_v1_eu-west-1["${euSnapshot}"]`,
      `create aws_snapshot_create_volume_permission.recipient_${RA}_snapshots_v1_us-west-2["${usSnapshot}"]`,
      `create aws_ssm_parameter.recipient_${RA}_pointer_current_eu-west-1`,
      `create aws_ssm_parameter.recipient_${RA}_pointer_current_us-west-2`,
    ].sort(),
  );
  savePlanFixture("recipient-first", firstPlan);
  timed("apply", () => tofuOk(toolchain, stack(`crossed-recipient-${RA}`), ["apply", "-no-color", "-auto-approve", "first.tfplan"], env));
  timed("apply", () => tofuOk(toolchain, stack(`crossed-recipient-${RB}`), ["apply", "-no-color", "-auto-approve"], env));

  // 2. Each recipient owns its copies: A's under its own key in each Region; B's copy of the encrypted one encrypted (its default key), the other not.
  const copiesOf = (account: string) => JSON.parse(tofuOk(toolchain, stack(`crossed-recipient-${account}`), ["output", "-json"], env).stdout).recipient_copies_v1.value as Record<string, string>;
  const ownCopies: Record<string, Record<string, string>> = { [RA]: copiesOf(RA), [RB]: copiesOf(RB) };
  for (const account of [RA, RB]) {
    const credentials = await as(account);
    for (const region of ["eu-west-1", "us-west-2"]) {
      const id = ownCopies[account][region];
      expect(id).not.toBe(ownerCopies[region]);
      const { image, snapshotId } = await snapshotOf(region, id, credentials);
      const [snapshot] = (await new Ec2(moto.env, credentials).in(region).send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots!;
      const tags = Object.fromEntries(image.Tags!.map((t) => [t.Key, t.Value]));
      expect({ owner: image.OwnerId, name: image.Name, ownerCopy: tags["ami-fleet:owner-copy"], fleet: tags["ami-fleet:fleet"], sourceAmi: tags["ami-fleet:source-ami"] }).toEqual({
        owner: account,
        name: (await snapshotOf(region, ownerCopies[region])).image.Name,
        ownerCopy: ownerCopies[region],
        fleet: "crossed",
        sourceAmi: source,
      });
      const expected = account === RA ? { encrypted: true, key: raKeys[region as "eu-west-1"] } : { encrypted: region === "eu-west-1" };
      expect({ encrypted: snapshot.Encrypted, ...(account === RA ? { key: snapshot.KmsKeyId } : {}) }).toEqual(expected);
      // The pointer in each account names that account's own copy.
      const ssm = new SSMClient({ region, endpoint: moto.endpoint, credentials });
      expect((await ssm.send(new GetParameterCommand({ Name: "/crossed/current" }))).Parameter!.Value).toBe(id);
    }
  }
  // The grant on the owner's key names A (the copies in us-west-2 are not under a customer managed key: no grant there).
  const grants = (await new KMSClient({ region: "eu-west-1", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } }).send(new ListGrantsCommand({ KeyId: ownerKey }))).Grants!;
  expect(grants.map((g) => g.GranteePrincipal).sort()).toEqual([`arn:aws:iam::${RA}:root`, `arn:aws:iam::${RB}:root`]);
  const deployedState = await reconcile(fleetFile);
  expect({ code: deployedState.code, findings: deployedState.report.fleets[0].findings.map((f) => `${f.kind} ${f.region} ${f.account} ${f.message}`), errors: deployedState.report.errors }).toEqual({ code: 0, findings: [], errors: [] });
  for (const name of [`crossed-recipient-${RA}`, `crossed-recipient-${RB}`]) {
    expect(tofu(toolchain, stack(name), ["plan", "-no-color", "-detailed-exitcode"], env).code).toBe(0);
  }

  // 3. Out of band: the owner revokes A's read access to the eu-west-1 copy's snapshot; B's pointer moved to the owner's copy.
  await ec2.in("eu-west-1").send(new ModifySnapshotAttributeCommand({ SnapshotId: euSnapshot, Attribute: "createVolumePermission", CreateVolumePermission: { Remove: [{ UserId: RA }] } }));
  await new Ec2(moto.env, await as(RB)).putPointer("us-west-2", "/crossed/current", ownerCopies["us-west-2"]);
  const drift = await reconcile(fleetFile);
  expect({ code: drift.code, errors: drift.report.errors }).toEqual({ code: 2, errors: [] });
  expect(drift.report.fleets[0].findings.map((f) => `${f.kind} ${f.region} ${f.account}`).sort()).toEqual([
    `missing-snapshot-permission eu-west-1 ${RA}`,
    `pointer-drift us-west-2 ${RB}`,
  ]);

  // 4. Terraform sees both on refresh; the repair plan moves B's pointer back (review gates it), apply restores both.
  const repairs: Record<string, string[]> = {};
  for (const account of [RA, RB]) {
    timed("plan", () => tofuOk(toolchain, stack(`crossed-recipient-${account}`), ["plan", "-no-color", "-out=repair.tfplan"], env));
    const plan = JSON.parse(tofuOk(toolchain, stack(`crossed-recipient-${account}`), ["show", "-json", "repair.tfplan"], env).stdout);
    repairs[account] = planChanges(plan);
    if (account === RB) {
      savePlanFixture("recipient-repair", plan);
      const planFile = path.join(work, "recipient-repair.json");
      fs.writeFileSync(planFile, JSON.stringify(plan));
      const review = await runCli(["review", "--plan", planFile, "--format", "json"], { env });
      expect(review.code).toBe(2);
      expect(JSON.parse(review.stdout).dangers.map((d: any) => `${d.category} ${d.address}`)).toEqual([`pointer-move aws_ssm_parameter.recipient_${RB}_pointer_current_us-west-2`]);
    }
    timed("apply", () => tofuOk(toolchain, stack(`crossed-recipient-${account}`), ["apply", "-no-color", "-auto-approve", "repair.tfplan"], env));
  }
  expect(repairs).toEqual({
    [RA]: [`create aws_snapshot_create_volume_permission.recipient_${RA}_snapshots_v1_eu-west-1["${euSnapshot}"]`],
    [RB]: [`update aws_ssm_parameter.recipient_${RB}_pointer_current_us-west-2`],
  });
  expect(await reconcile(fleetFile)).toMatchObject({ code: 0, report: { inSync: true, errors: [] } });

  // 5. A new image version: planned before the owner's stack applied it, a recipient's stack stops with the precondition.
  const doc = parse(fs.readFileSync(fleetFile, "utf8"));
  doc.source.images.push({ key: "v2", amiId: await ec2.registerSource("us-east-1", "recipients-e2e-v2") });
  fs.writeFileSync(fleetFile, stringify(doc));
  timed("synth", () => synth([fleetDir], out));
  const tooEarly = tofu(toolchain, stack(`crossed-recipient-${RB}`), ["plan", "-no-color"], env);
  expect(tooEarly.code).toBe(1);
  expect(tooEarly.stderr).toMatch(/the copy of image v2 in eu-west-1 is not in the state of stack crossed: apply\s+that stack first/);
});
