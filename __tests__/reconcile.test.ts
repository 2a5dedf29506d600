import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { DescribeImagesCommand, ModifySnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { DriftReport, Finding } from "../lib/drift/findings";
import { loadFleets } from "../lib/fleet/load";
import { reconcileJson, runCli } from "./helpers/cli";
import { startFaultProxy } from "./helpers/fault-proxy";
import { Ec2 } from "./helpers/live";
import { emulatorEnv, Moto, startMoto } from "./helpers/moto";
import { shareGroupOf } from "../lib/project/layout";

/** Reconciler against the real emulator: live state made with the SDK, the real CLI as a child process. */
jest.setTimeout(120_000);

const ACCOUNTS = ["444455556666", "777788889999"];
const REGIONS = ["ap-southeast-2", "eu-west-1", "us-west-2"];
/** Keys in the emulator (the stacks' grants are made on them): the declared one, and another. */
let KEY_EU: string;
let OTHER_KEY_EU: string;

let moto: Moto;
let ec2: Ec2;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  ec2 = new Ec2(moto.env);
});
afterAll(async () => moto?.stop());
beforeEach(async () => {
  await moto.reset();
  const kms = new KMSClient({ region: "eu-west-1", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  KEY_EU = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  OTHER_KEY_EU = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-reconcile-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes a fleet file for one or more new source AMIs, applies it to the emulator, returns the copies. */
async function deployedFleet(change: (doc: any) => void = () => undefined, imageKeys = ["v1"]) {
  const sources: Record<string, string> = {};
  for (const key of imageKeys) sources[key] = await ec2.registerSource("us-east-1", `golden-source-${key}`);
  const source = sources[imageKeys[0]];
  const doc: any = {
    name: "golden",
    source: { region: "us-east-1", images: imageKeys.map((key) => ({ key, amiId: sources[key] })) },
    regions: [...REGIONS],
    share: { accounts: [...ACCOUNTS] },
    tags: { team: "platform" },
  };
  change(doc);
  const file = path.join(dir, "golden.yaml");
  fs.writeFileSync(file, stringify(doc));
  const [fleet] = loadFleets([file]);
  const copies = await ec2.applyFleet(fleet, sources);
  return { file, source, copies, doc };
}

async function reconcile(file: string, args: string[] = [], env = moto.env) {
  return reconcileJson(file, args, env);
}

function findings(report: DriftReport): Finding[] {
  return report.fleets.flatMap((f) => f.findings);
}

function kinds(report: DriftReport): string[] {
  return findings(report).map((f) => `${f.kind} ${f.region}`).sort();
}

describe("reconcile against the emulator", () => {
  it("reports in sync (exit 0) for a fleet applied as declared", async () => {
    const { file } = await deployedFleet();
    const result = await reconcile(file);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.report).toMatchObject({ version: 1, inSync: true, errors: [], fleets: [{ name: "golden", findings: [] }] });
  });

  it("reports a deregistered copy as missing-copy (exit 2)", async () => {
    const { file, copies } = await deployedFleet();
    await ec2.deregister("eu-west-1", copies.get("v1/eu-west-1")!);
    const result = await reconcile(file);
    expect(result.code).toBe(2);
    expect(findings(result.report)).toEqual([
      expect.objectContaining({ kind: "missing-copy", severity: "high", fleet: "golden", image: "v1", region: "eu-west-1", remedy: expect.stringContaining("cdktf deploy golden") }),
    ]);
  });

  it("names, in each remedy, the stack of the project's layout that holds the resource (ami-fleet.config.yaml)", async () => {
    const { file, copies } = await deployedFleet();
    await ec2.deregister("eu-west-1", copies.get("v1/eu-west-1")!);
    await ec2.removePermission("us-west-2", copies.get("v1/us-west-2")!, { UserId: "777788889999" });
    const config = path.join(path.dirname(file), "layout.yaml");
    const remedies = async (layout: string) => {
      fs.writeFileSync(config, layout === "split" ? "layout: split\nshareGroups: 4\n" : `layout: ${layout}\n`);
      const result = await reconcile(file, [], { ...moto.env, AMI_FLEET_CONFIG: config });
      return findings(result.report).map((f) => `${f.kind} ${f.remedy.split(" (")[0]}`).sort();
    };
    expect(await remedies("fleet")).toEqual(["missing-copy cdktf deploy golden", "missing-permission cdktf deploy golden"]);
    expect(await remedies("fleet-region")).toEqual(["missing-copy cdktf deploy golden-eu-west-1", "missing-permission cdktf deploy golden-us-west-2"]);
    const group = shareGroupOf({ kind: "account", value: "777788889999" }, 4);
    expect(await remedies("split")).toEqual(["missing-copy cdktf deploy golden-eu-west-1", `missing-permission cdktf deploy golden-shares-v1-g${group}`]);
    // A broken config is an error naming it, not a remedy naming a stack that does not exist.
    fs.writeFileSync(config, "layout: sideways\n");
    const broken = await reconcile(file, [], { ...moto.env, AMI_FLEET_CONFIG: config });
    expect({ code: broken.code, stdout: broken.stdout }).toEqual({ code: 1, stdout: "" });
    expect(broken.stderr).toMatch(/layout\.yaml: layout: .*Use layout: fleet/);
  });

  it("reports launch permissions added and removed out of band, and a public copy as critical", async () => {
    const { file, copies } = await deployedFleet();
    await ec2.addPermission("eu-west-1", copies.get("v1/eu-west-1")!, { UserId: "999988887777" });
    await ec2.removePermission("us-west-2", copies.get("v1/us-west-2")!, { UserId: "777788889999" });
    await ec2.addPermission("ap-southeast-2", copies.get("v1/ap-southeast-2")!, { Group: "all" });
    const result = await reconcile(file);
    expect(result.code).toBe(2);
    expect(kinds(result.report)).toEqual(["extra-permission eu-west-1", "missing-permission us-west-2", "public-image ap-southeast-2"]);
    const extra = findings(result.report).find((f) => f.kind === "extra-permission")!;
    expect(extra).toMatchObject({
      principal: "account 999988887777",
      amiId: copies.get("v1/eu-west-1"),
      remedy: `aws ec2 modify-image-attribute --region eu-west-1 --image-id ${copies.get("v1/eu-west-1")} --launch-permission "Remove=[{UserId=999988887777}]"`,
    });
    expect(findings(result.report).find((f) => f.kind === "public-image")!.severity).toBe("critical");
    expect(findings(result.report).find((f) => f.kind === "missing-permission")!.principal).toBe("account 777788889999");
  });

  it("reports copies built from another source than the one declared now (stale-copy)", async () => {
    const { file, doc, source } = await deployedFleet();
    const newer = await ec2.registerSource("us-east-1", "golden-source-2");
    doc.source.images[0].amiId = newer;
    fs.writeFileSync(file, stringify(doc));
    const result = await reconcile(file);
    expect(result.code).toBe(2);
    expect(kinds(result.report)).toEqual(REGIONS.map((r) => `stale-copy ${r}`));
    expect(findings(result.report)[0]).toMatchObject({ expected: newer, actual: source, severity: "high" });
    expect(findings(result.report)[0].remedy).toContain("tofu apply -replace='aws_ami_copy.copy_v1_ap-southeast-2'");
  });

  it("reports copies of undeclared images and of removed Regions (orphan-copy)", async () => {
    const { file, doc, source } = await deployedFleet((d) => (d.regions = [...REGIONS, "eu-central-1"]));
    // Remove one Region and pretend image v0 was dropped from the file.
    doc.regions = [...REGIONS];
    fs.writeFileSync(file, stringify(doc));
    const [fleet] = loadFleets([file]);
    const old = await ec2.applyFleet({ ...fleet, images: [{ key: "v0", source: { kind: "ami", amiId: source } }], regions: [fleet.regions[1]], copyNameTemplate: "{fleet}-old-{sourceAmi}" }, { v0: source });
    const result = await reconcile(file, ["--scan-regions", "eu-central-1"]);
    expect(result.code).toBe(2);
    expect(kinds(result.report)).toEqual(["orphan-copy eu-central-1", "orphan-copy eu-west-1"]);
    const orphan = findings(result.report).find((f) => f.region === "eu-west-1")!;
    expect(orphan).toMatchObject({ image: "v0", amiId: old.get("v0/eu-west-1") });
    expect(orphan.remedy).toContain(`aws ec2 deregister-image --region eu-west-1 --image-id ${old.get("v0/eu-west-1")}`);
  });

  it("reports a copy encrypted with another key than declared (encryption-mismatch)", async () => {
    const other = OTHER_KEY_EU;
    const { file, doc } = await deployedFleet((d) => (d.regions = [{ region: "eu-west-1", kmsKeyId: other }, "us-west-2"]));
    doc.regions = [{ region: "eu-west-1", kmsKeyId: KEY_EU }, "us-west-2"];
    fs.writeFileSync(file, stringify(doc));
    const result = await reconcile(file);
    expect(result.code).toBe(2);
    // The declared key carries no grant for the share accounts yet either (the deployed ones are on the other key).
    expect(kinds(result.report)).toEqual(["encryption-mismatch eu-west-1", "missing-grant eu-west-1", "missing-grant eu-west-1"]);
    expect(findings(result.report)).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: "encryption-mismatch", region: "eu-west-1", expected: `encrypted with ${KEY_EU}`, actual: `encrypted with ${other}` })]),
    );
  });

  it("reports an unencrypted copy where the fleet declares a key", async () => {
    const { file, doc } = await deployedFleet((d) => (d.regions = ["eu-west-1"]));
    doc.regions = [{ region: "eu-west-1", kmsKeyId: KEY_EU }];
    fs.writeFileSync(file, stringify(doc));
    const result = await reconcile(file);
    expect(kinds(result.report)).toEqual(["encryption-mismatch eu-west-1", "missing-grant eu-west-1", "missing-grant eu-west-1"]);
    expect(findings(result.report).find((f) => f.kind === "encryption-mismatch")!.actual).toBe("unencrypted");
  });

  it("is in sync for copies encrypted with the declared key", async () => {
    const { file } = await deployedFleet((d) => (d.regions = [{ region: "eu-west-1", kmsKeyId: KEY_EU }]));
    const result = await reconcile(file);
    expect(result.report.inSync).toBe(true);
  });

  it("reports changed and missing tags (tag-drift)", async () => {
    const { file, copies } = await deployedFleet();
    await ec2.tag("us-west-2", copies.get("v1/us-west-2")!, { team: "someone-else" });
    const result = await reconcile(file);
    expect(findings(result.report)).toEqual([
      expect.objectContaining({ kind: "tag-drift", region: "us-west-2", expected: "team=platform", actual: "team=someone-else", severity: "low" }),
    ]);
  });

  it("finds a copy re-created by hand without tags by its name, as tag-drift (and its description), not missing", async () => {
    const { file, copies, source, doc } = await deployedFleet((d) => (d.regions = ["eu-west-1"]));
    await ec2.deregister("eu-west-1", copies.get("v1/eu-west-1")!);
    const [fleet] = loadFleets([file]);
    const { CopyImageCommand } = await import("@aws-sdk/client-ec2");
    const name = `${doc.name}-v1-${source}`;
    const handmade = await ec2.in("eu-west-1").send(new CopyImageCommand({ SourceImageId: source, SourceRegion: "us-east-1", Name: name }));
    for (const account of fleet.share.accounts) await ec2.addPermission("eu-west-1", handmade.ImageId!, { UserId: account });
    const result = await reconcile(file);
    expect(kinds(result.report)).toEqual(["description-drift eu-west-1", "tag-drift eu-west-1"]);
    expect(findings(result.report).find((f) => f.kind === "tag-drift")!.remedy).toMatch(/^aws ec2 create-tags --region eu-west-1 --resources ami-/);
  });

  it("reports a pointer moved or deleted out of band (pointer-drift, pointer-missing), reading 10 names a call", async () => {
    const { file, copies } = await deployedFleet((d) => (d.pointers = [{ key: "latest", parameter: "/golden/{fleet}/latest", image: "v1" }]));
    const clean = await reconcile(file, ["--stats"]);
    expect(clean.code).toBe(0);
    expect((clean.report.stats as any).calls.GetParameters).toBe(REGIONS.length);
    await ec2.putPointer("eu-west-1", "/golden/golden/latest", "ami-0ffffffffffffffff");
    await ec2.deletePointer("us-west-2", "/golden/golden/latest");
    const result = await reconcile(file);
    expect(result.code).toBe(2);
    expect(findings(result.report).map((f) => [f.kind, f.region, f.expected, f.actual])).toEqual([
      ["pointer-drift", "eu-west-1", copies.get("v1/eu-west-1"), "ami-0ffffffffffffffff"],
      ["pointer-missing", "us-west-2", copies.get("v1/us-west-2"), "none"],
    ]);
  });

  it("renders markdown and text, and writes --out atomically", async () => {
    const { file, copies } = await deployedFleet();
    await ec2.addPermission("eu-west-1", copies.get("v1/eu-west-1")!, { Group: "all" });
    const out = path.join(dir, "drift.md");
    const md = await runCli(["reconcile", file, "--format", "markdown", "--out", out], { env: moto.env });
    expect(md.code).toBe(2);
    expect(md.stdout).toBe("");
    const text = fs.readFileSync(out, "utf8");
    expect(text).toMatch(/^### ami-fleet drift: 1 finding \(1 critical\) in 1 of 1 fleets/);
    expect(text).toContain("| 🚨 critical | `public-image` | eu-west-1 | v1 |");
    const plain = await runCli(["reconcile", file, "--format", "text"], { env: moto.env });
    expect(plain.stdout).toContain("CRITICAL public-image");
    expect(plain.stdout).not.toMatch(/\x1b\[/); // NO_COLOR and not a TTY
    expect(plain.stdout.trim().split("\n").pop()).toMatch(/^1 finding \(1 critical\) in 1 of 1 fleets \(\d+ API calls\)$/);
    // Without --format: text, though stdout is a pipe (a CI log, less, tee), not a terminal.
    const piped = await runCli(["reconcile", file], { env: moto.env });
    expect(piped.stdout).toContain("CRITICAL public-image");
    expect(() => JSON.parse(piped.stdout)).toThrow();
  });

  it("saves the live state and reproduces the same report offline from it", async () => {
    const { file, copies } = await deployedFleet();
    await ec2.addPermission("eu-west-1", copies.get("v1/eu-west-1")!, { UserId: "999988887777" });
    const state = path.join(dir, "state.json");
    const live = await reconcile(file, ["--save-state", state]);
    const offline = await reconcile(file, ["--state-file", state], { ...emulatorEnv("http://127.0.0.1:1") });
    expect(offline.code).toBe(live.code);
    expect(offline.report.fleets).toEqual(live.report.fleets);
    expect(offline.report.stats).toMatchObject({ source: "state-file" });
  });
});

describe("reconcile when AWS does not answer", () => {
  it("reports an unreadable Region as an error, never as missing copies, and still reports the others", async () => {
    const { file, copies } = await deployedFleet();
    await ec2.addPermission("us-west-2", copies.get("v1/us-west-2")!, { UserId: "999988887777" });
    const proxy = await startFaultProxy(moto.endpoint);
    try {
      proxy.deny("eu-west-1");
      proxy.drop("ap-southeast-2");
      const result = await reconcile(file, [], emulatorEnv(proxy.endpoint));
      expect(result.code).toBe(1);
      expect(kinds(result.report)).toEqual(["extra-permission us-west-2"]);
      expect(result.report.inSync).toBe(false);
      expect(result.report.errors).toEqual([
        { fleet: "golden", region: "ap-southeast-2", message: expect.stringMatching(/^cannot read Region: /) },
        { fleet: "golden", region: "eu-west-1", message: expect.stringMatching(/^cannot read Region: UnauthorizedOperation: /) },
      ]);
    } finally {
      await proxy.close();
    }
  });

  it("answers throttling with the SDK's retries", async () => {
    const { file } = await deployedFleet();
    const proxy = await startFaultProxy(moto.endpoint);
    try {
      proxy.throttleNext(2);
      const result = await reconcile(file, ["--stats", "--concurrency", "1"], { ...emulatorEnv(proxy.endpoint), AWS_MAX_ATTEMPTS: "3" });
      expect(result.code).toBe(0);
      expect(result.report.inSync).toBe(true);
      const stats = result.report.stats as { totalCalls: number; attempts: number };
      expect(stats.attempts).toBe(stats.totalCalls + 2);
      expect(result.stderr).toMatch(/^stats: \d+ calls \(/m);
    } finally {
      await proxy.close();
    }
  });
});

describe("reconcile under throttling that outlasts the retries", () => {
  it("is an error naming the Region, the action and the throttling, never drift nor in sync", async () => {
    const { file } = await deployedFleet();
    const proxy = await startFaultProxy(moto.endpoint);
    try {
      proxy.throttleNext(10_000);
      const result = await reconcile(file, ["--concurrency", "1"], { ...emulatorEnv(proxy.endpoint), AWS_MAX_ATTEMPTS: "2" });
      expect({ code: result.code, inSync: result.report.inSync, findings: findings(result.report) }).toEqual({ code: 1, inSync: false, findings: [] });
      expect(result.report.errors.length).toBeGreaterThan(0);
      for (const error of result.report.errors) expect(error.message).toMatch(/\(throttled on [A-Za-z]+: the SDK's retries ran out; run again, or with a lower --concurrency\)/);
      expect(result.report.errors.map((e) => e.message).join("\n")).toMatch(/throttled on DescribeImages/);
    } finally {
      await proxy.close();
    }
  });
});

describe("reconcile API calls", () => {
  it("makes one DescribeImages, one GetEbsEncryptionByDefault, one DescribeSnapshots batch and one public-snapshot listing per Region, one DescribeImageAttribute per copy", async () => {
    const { file } = await deployedFleet(undefined, ["v1", "v2"]);
    const result = await reconcile(file, ["--stats"]);
    expect(result.report.inSync).toBe(true);
    const regions = REGIONS.length;
    const copies = 2 * regions;
    expect(result.report.stats).toMatchObject({
      calls: { DescribeImages: regions, DescribeImageAttribute: copies, DescribeSnapshots: 2 * regions, GetEbsEncryptionByDefault: regions },
      totalCalls: 4 * regions + copies,
    });
    expect(result.stderr).toContain(`stats: ${4 * regions + copies} calls (`);
  });

  it("reports a copy's snapshot made public by hand as critical, with the call that takes it back (fleets without recipients too)", async () => {
    const { file, copies } = await deployedFleet();
    const copyId = copies.get("v1/us-west-2")!;
    const [image] = (await ec2.in("us-west-2").send(new DescribeImagesCommand({ ImageIds: [copyId] }))).Images!;
    const snapshotId = image.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    await ec2.in("us-west-2").send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission", OperationType: "add", GroupNames: ["all"] }));
    const result = await reconcile(file);
    expect(result.code).toBe(2);
    expect(findings(result.report)).toEqual([
      expect.objectContaining({
        kind: "extra-snapshot-permission",
        severity: "critical",
        region: "us-west-2",
        amiId: copyId,
        remedy: `aws ec2 modify-snapshot-attribute --region us-west-2 --snapshot-id ${snapshotId} --attribute createVolumePermission --operation-type remove --group-names all`,
      }),
    ]);
  });
});
