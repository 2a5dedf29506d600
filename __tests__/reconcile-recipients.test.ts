import { ListGrantsCommand, KMSClient, CreateKeyCommand, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { CopyImageCommand, DeleteTagsCommand, DescribeImagesCommand, ModifySnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { DriftReport, Finding } from "../lib/drift/findings";
import { loadFleets } from "../lib/fleet/load";
import { reconcileJson, runCli } from "./helpers/cli";
import { startFaultProxy } from "./helpers/fault-proxy";
import { assumeRole, Ec2 } from "./helpers/live";
import { emulatorEnv, Moto, startMoto } from "./helpers/moto";

/**
 * Reconcile of a fleet with recipients, against the emulator: the owner's copies and the
 * recipients' own (through their roles) made with the SDK as the stacks would, the real CLI.
 */
jest.setTimeout(180_000);

const A = "222233334444";
const B = "333344445555";
const roleOf = (account: string) => `arn:aws:iam::${account}:role/ami-fleet-recipient`;

let moto: Moto;
let owner: Ec2;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  owner = new Ec2(moto.env);
});
afterAll(async () => moto?.stop());
beforeEach(async () => {
  await moto.reset();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-reconcile-recipients-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function keyIn(region: string, credentials?: Awaited<ReturnType<typeof assumeRole>>): Promise<string> {
  const kms = new KMSClient({ region, endpoint: moto.endpoint, credentials: credentials ?? { accessKeyId: "test", secretAccessKey: "test" } });
  return (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
}

/**
 * An owner fleet in eu-west-1 (its copies under the owner's key) and us-west-2 (unencrypted), with a
 * pointer; recipient A in both Regions, re-encrypting with its own key in eu-west-1; recipient B in
 * us-west-2 only. Deployed as the stacks would.
 */
async function deployed() {
  const source = await owner.registerSource("us-east-1", "golden-source");
  const ownerKey = await keyIn("eu-west-1");
  const aKey = await keyIn("eu-west-1", await assumeRole(moto.env, roleOf(A)));
  const doc = {
    name: "golden",
    source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] },
    regions: [{ region: "eu-west-1", kmsKeyId: ownerKey }, "us-west-2"],
    tags: { team: "platform" },
    pointers: [{ key: "current", parameter: "/golden/current", image: "v1" }],
    recipients: [
      { account: A, kmsKeyIds: { "eu-west-1": aKey } },
      { account: B, regions: ["us-west-2"], tags: { owner: "b" } },
    ],
  };
  const file = path.join(dir, "golden.yaml");
  fs.writeFileSync(file, stringify(doc));
  const [fleet] = loadFleets([file]);
  const ownerCopies = await owner.applyFleet(fleet, { v1: source });
  const recipientCopies = await owner.applyRecipients(fleet, { v1: source }, ownerCopies);
  return { file, ownerKey, aKey, ownerCopies, recipientCopies };
}

async function reconcile(file: string, args: string[] = [], env = moto.env) {
  return reconcileJson(file, ["--stats", ...args], env);
}

const findings = (report: DriftReport): Finding[] => report.fleets.flatMap((f) => f.findings);
const summary = (report: DriftReport) => findings(report).map((f) => `${f.kind} ${f.region} ${f.account ?? "owner"}`).sort();

describe("reconcile: recipients", () => {
  it("is in sync for a fleet and its recipients deployed as declared, at the floor of calls", async () => {
    const { file, recipientCopies } = await deployed();
    // The copies are each recipient's own.
    const [aCopy] = (await new Ec2(moto.env, await assumeRole(moto.env, roleOf(A))).in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [recipientCopies.get(`${A}/v1/eu-west-1`)!] }))).Images!;
    expect(aCopy.OwnerId).toBe(A);
    const result = await reconcile(file);
    expect({ code: result.code, findings: findings(result.report), errors: result.report.errors }).toEqual({ code: 0, findings: [], errors: [] });
    // DescribeSnapshots twice per Region read, in every account: the copies' snapshots, and the public ones.
    // Owner: 2 Regions x (DescribeImages + GetEbsEncryptionByDefault + GetParameters) + 2 copies' DescribeImageAttribute
    // + 2 DescribeSnapshots + 2 DescribeSnapshotAttribute (one snapshot per copy) + 1 ListGrants (eu-west-1's key).
    // A: 2 Regions x (DescribeImages + GetEbsEncryptionByDefault + GetParameters + DescribeSnapshots) + 2 DescribeImageAttribute.
    // B: 1 Region x 4 + 1 DescribeImageAttribute.
    expect(result.report.stats.calls).toEqual({
      DescribeImages: 2 + 2 + 1,
      GetEbsEncryptionByDefault: 2 + 2 + 1,
      GetParameters: 2 + 2 + 1,
      DescribeImageAttribute: 2 + 2 + 1,
      DescribeSnapshots: 2 * (2 + 2 + 1),
      DescribeSnapshotAttribute: 2,
      ListGrants: 1,
      // The pointer in each Region of each account: its description (one DescribeParameters) and tags.
      DescribeParameters: 2 + 2 + 1,
      ListTagsForResource: 2 + 2 + 1,
    });
  });

  it("reports a revoked snapshot permission, a revoked grant, a moved and a deleted pointer in a recipient's account, each naming the account", async () => {
    const { file, ownerKey, ownerCopies, recipientCopies } = await deployed();
    // Out of band: the owner revokes A's read access to the eu-west-1 copy's snapshot and A's grant on the key.
    const [euCopy] = (await owner.in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [ownerCopies.get("v1/eu-west-1")!] }))).Images!;
    const snapshot = euCopy.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    await owner.in("eu-west-1").send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshot, Attribute: "createVolumePermission", CreateVolumePermission: { Remove: [{ UserId: A }] } }));
    const kms = new KMSClient({ region: "eu-west-1", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    const { Grants } = await kms.send(new ListGrantsCommand({ KeyId: ownerKey }));
    await kms.send(new RevokeGrantCommand({ KeyId: ownerKey, GrantId: Grants![0].GrantId! }));
    // And in A's account: its us-west-2 pointer names the owner's copy instead of its own; B's pointer is gone.
    const a = new Ec2(moto.env, await assumeRole(moto.env, roleOf(A)));
    await a.putPointer("us-west-2", "/golden/current", ownerCopies.get("v1/us-west-2")!);
    const b = new Ec2(moto.env, await assumeRole(moto.env, roleOf(B)));
    await b.deletePointer("us-west-2", "/golden/current");
    // An account the fleet does not name may copy the us-west-2 copy's snapshot.
    const [usCopy] = (await owner.in("us-west-2").send(new DescribeImagesCommand({ ImageIds: [ownerCopies.get("v1/us-west-2")!] }))).Images!;
    await owner.in("us-west-2").send(
      new ModifySnapshotAttributeCommand({ SnapshotId: usCopy.BlockDeviceMappings![0].Ebs!.SnapshotId!, Attribute: "createVolumePermission", CreateVolumePermission: { Add: [{ UserId: "999988887777" }] } }),
    );

    const result = await reconcile(file);
    expect(result.code).toBe(2);
    expect(result.report.errors).toEqual([]);
    expect(summary(result.report)).toEqual([
      `extra-snapshot-permission us-west-2 999988887777`,
      `missing-grant eu-west-1 ${A}`,
      `missing-snapshot-permission eu-west-1 ${A}`,
      `pointer-drift us-west-2 ${A}`,
      `pointer-missing us-west-2 ${B}`,
    ]);
    const drift = findings(result.report).find((f) => f.kind === "pointer-drift")!;
    expect(drift).toMatchObject({ expected: recipientCopies.get(`${A}/v1/us-west-2`), actual: ownerCopies.get("v1/us-west-2") });
    // Fixed by the recipient's stack (or, for what Terraform cannot see, the exact call).
    expect(drift.remedy).toMatch(new RegExp(`^cdktf deploy golden-recipient-${A} \\(Terraform restores aws_ssm_parameter\\.recipient_${A}_pointer_current_us-west-2\\)`));
    expect(findings(result.report).find((f) => f.kind === "missing-grant")!.remedy).toMatch(new RegExp(`^cdktf deploy golden-recipient-${A} `));
    expect(findings(result.report).find((f) => f.kind === "extra-snapshot-permission")!.remedy).toMatch(/^aws ec2 modify-snapshot-attribute --region us-west-2 --snapshot-id snap-\w+ --attribute createVolumePermission --operation-type remove --user-ids 999988887777$/);
  });

  it("reports a recipient's missing, stale and wrongly encrypted copies in its account", async () => {
    const { file, aKey, recipientCopies } = await deployed();
    const a = new Ec2(moto.env, await assumeRole(moto.env, roleOf(A)));
    const b = new Ec2(moto.env, await assumeRole(moto.env, roleOf(B)));
    // B's copy deregistered; A's eu-west-1 copy replaced by one under another key, copied from another owner copy.
    await b.deregister("us-west-2", recipientCopies.get(`${B}/v1/us-west-2`)!);
    const old = recipientCopies.get(`${A}/v1/eu-west-1`)!;
    const [oldCopy] = (await a.in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [old] }))).Images!;
    await a.deregister("eu-west-1", old);
    const otherKey = await keyIn("eu-west-1", await assumeRole(moto.env, roleOf(A)));
    expect(otherKey).not.toBe(aKey);
    const source = await a.registerSource("eu-west-1", "a-local");
    const tags = Object.fromEntries(oldCopy.Tags!.map((t) => [t.Key!, t.Value!]));
    await a.in("eu-west-1").send(
      new CopyImageCommand({
        SourceImageId: source,
        SourceRegion: "eu-west-1",
        Name: oldCopy.Name!,
        Encrypted: true,
        KmsKeyId: otherKey,
        TagSpecifications: [{ ResourceType: "image", Tags: Object.entries({ ...tags, "ami-fleet:owner-copy": "ami-0aaaaaaaaaaaaaaaa" }).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    const result = await reconcile(file);
    expect(result.code).toBe(2);
    // The copy made by hand has no description either.
    expect(summary(result.report)).toEqual([
      `description-drift eu-west-1 ${A}`,
      `encryption-mismatch eu-west-1 ${A}`,
      `missing-copy us-west-2 ${B}`,
      `pointer-drift eu-west-1 ${A}`,
      `stale-copy eu-west-1 ${A}`,
    ]);
    expect(findings(result.report).find((f) => f.kind === "missing-copy")!.remedy).toBe(
      `cdktf deploy golden-recipient-${B} (Terraform re-creates aws_ami_copy.recipient_${B}_copy_v1_us-west-2)`,
    );
  });

  it("a recipient account it cannot read (the role cannot be assumed, a call denied) is an error, never in sync or drift", async () => {
    const { file } = await deployed();
    const proxy = await startFaultProxy(moto.endpoint);
    try {
      proxy.failAction("AssumeRole", "deny");
      const denied = await reconcile(file, [], emulatorEnv(proxy.endpoint));
      expect(denied.code).toBe(1);
      expect(findings(denied.report)).toEqual([]);
      expect(denied.report.errors.map((e) => `${e.account} ${e.region}`).sort()).toEqual([`${A} eu-west-1`, `${A} us-west-2`, `${B} us-west-2`]);
      expect(denied.report.errors[0].message).toMatch(new RegExp(`^cannot assume role ${roleOf(A).replace(/[/]/g, "\\/")}: `));
    } finally {
      await proxy.close();
    }
    const grantsDenied = await startFaultProxy(moto.endpoint);
    try {
      grantsDenied.failAction("ListGrants", "deny");
      const result = await reconcile(file, [], emulatorEnv(grantsDenied.endpoint));
      expect(result.code).toBe(1);
      expect(result.report.inSync).toBe(false);
      expect(findings(result.report)).toEqual([]);
      expect(result.report.errors).toEqual([expect.objectContaining({ account: A, region: "eu-west-1", message: expect.stringMatching(/^cannot list the grants of key arn:aws:kms:eu-west-1:/) })]);
    } finally {
      await grantsDenied.close();
    }
  });
});

describe("reconcile: the floor with other fleets beside", () => {
  it("reads who may copy the snapshots of the copies of fleets with recipients only, not another fleet's in the same Region", async () => {
    await deployed();
    const source = await owner.registerSource("us-east-1", "plain-source");
    const plainFile = path.join(dir, "plain.yaml");
    fs.writeFileSync(plainFile, stringify({ name: "plain", source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] }, regions: ["eu-west-1"], encryption: { encrypted: false } }));
    await owner.applyFleet(loadFleets([plainFile])[0], { v1: source });
    const result = await reconcileJson(dir, ["--stats"], moto.env);
    expect({ code: result.code, errors: result.report.errors }).toEqual({ code: 0, errors: [] });
    // golden's two copies, one snapshot each; none of plain's.
    expect((result.report.stats as { calls: Record<string, number> }).calls.DescribeSnapshotAttribute).toBe(2);
  });
});

describe("reconcile --scan-regions in a recipient's account", () => {
  it("finds the recipient's copies left in a Region it no longer has, as orphans naming the account", async () => {
    const { file, recipientCopies } = await deployed();
    const a = new Ec2(moto.env, await assumeRole(moto.env, roleOf(A)));
    const left = await a.in("us-east-2").send(
      new CopyImageCommand({
        SourceImageId: recipientCopies.get(`${A}/v1/eu-west-1`)!,
        SourceRegion: "eu-west-1",
        Name: "golden-v1-left-behind",
        TagSpecifications: [{ ResourceType: "image", Tags: [{ Key: "ami-fleet:fleet", Value: "golden" }, { Key: "ami-fleet:image", Value: "v1" }] }],
      }),
    );
    expect((await reconcile(file)).code).toBe(0);
    const scanned = await reconcile(file, ["--scan-regions", "us-east-2"]);
    expect({ code: scanned.code, errors: scanned.report.errors }).toEqual({ code: 2, errors: [] });
    expect(findings(scanned.report).map((f) => `${f.kind} ${f.region} ${f.account ?? "owner"} ${f.amiId}`)).toEqual([`orphan-copy us-east-2 ${A} ${left.ImageId}`]);
  });
});

describe("reconcile: a recipient's copy that lost its tags", () => {
  it("is found by name and judged as its own copy of the owner's kept copy: tag-drift, never stale-copy (whose remedy would replace the AMI it launches)", async () => {
    const { file, recipientCopies } = await deployed();
    const a = new Ec2(moto.env, await assumeRole(moto.env, roleOf(A)));
    const copyId = recipientCopies.get(`${A}/v1/us-west-2`)!;
    const [image] = (await a.in("us-west-2").send(new DescribeImagesCommand({ ImageIds: [copyId] }))).Images!;
    await a.in("us-west-2").send(new DeleteTagsCommand({ Resources: [copyId], Tags: image.Tags!.map((t) => ({ Key: t.Key })) }));
    const result = await reconcile(file);
    expect(result.report.errors).toEqual([]);
    expect(summary(result.report)).toEqual([`tag-drift us-west-2 ${A}`]);
    expect(findings(result.report)[0].amiId).toBe(copyId);
  });
});

describe("reconcile: the KMS grants of the accounts an encrypted fleet shares with", () => {
  const S1 = "444455556666";
  const S2 = "777788889999";

  /** An encrypted fleet shared with two accounts, each Region's copies under its own key, deployed with its grants as the stacks make them. */
  async function encryptedShared() {
    const source = await owner.registerSource("us-east-1", "golden-shared-source");
    const keys = { "eu-west-1": await keyIn("eu-west-1"), "us-west-2": await keyIn("us-west-2") };
    const file = path.join(dir, "shared.yaml");
    fs.writeFileSync(
      file,
      stringify({
        name: "shared",
        source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] },
        regions: ["eu-west-1", "us-west-2"],
        encryption: { encrypted: true, kmsKeyIds: keys },
        share: { accounts: [S1, S2] },
      }),
    );
    const [fleet] = loadFleets([file]);
    await owner.applyFleet(fleet, { v1: source });
    return { file, keys };
  }

  it("reads each key's grants once and is in sync; a grant revoked by hand is missing-grant naming the account, fixed by the stack that holds it in the layout; unlisted grants are an error", async () => {
    const { file, keys } = await encryptedShared();
    const clean = await reconcile(file);
    expect({ code: clean.code, findings: findings(clean.report), errors: clean.report.errors }).toEqual({ code: 0, findings: [], errors: [] });
    expect((clean.report.stats as { calls: Record<string, number> }).calls.ListGrants).toBe(2);

    // Out of band: S2's grant on the us-west-2 key is revoked. The plan would skip the refresh on an in-sync verdict.
    const kms = new KMSClient({ region: "us-west-2", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    const { Grants } = await kms.send(new ListGrantsCommand({ KeyId: keys["us-west-2"] }));
    const grant = Grants!.find((g) => g.GranteePrincipal === `arn:aws:iam::${S2}:root`)!;
    await kms.send(new RevokeGrantCommand({ KeyId: keys["us-west-2"], GrantId: grant.GrantId! }));
    const result = await reconcile(file);
    expect(result.code).toBe(2);
    expect(summary(result.report)).toEqual([`missing-grant us-west-2 ${S2}`]);
    const [missing] = findings(result.report);
    expect(missing.remedy).toBe(`cdktf deploy shared (Terraform re-creates aws_kms_grant.key_grants_us-west-2["${S2}"])`);
    // In an app set up with CDK Terrain's CLI alone (Node 24: ami-fleet init), the remedy names the CLI that runs there.
    const app = path.join(dir, "terrain-app");
    fs.mkdirSync(path.join(app, "node_modules", ".bin"), { recursive: true });
    fs.writeFileSync(path.join(app, "node_modules", ".bin", "cdktn"), "");
    const inTerrain = await runCli(["reconcile", file, "--format", "json"], { cwd: app, env: moto.env });
    expect(JSON.parse(inTerrain.stdout).fleets[0].findings[0].remedy).toBe(`cdktn deploy shared (Terraform re-creates aws_kms_grant.key_grants_us-west-2["${S2}"])`);
    // With layout: split the grant lives in its share group's grants stack, and the remedy names it.
    const config = path.join(dir, "split.yaml");
    fs.writeFileSync(config, "layout: split\nshareGroups: 4\n");
    const split = await reconcile(file, [], { ...moto.env, AMI_FLEET_CONFIG: config });
    expect(findings(split.report)[0].remedy).toMatch(new RegExp(`^cdktf deploy shared-grants-g\\d \\(Terraform re-creates aws_kms_grant\\.key_grants_us-west-2\\["${S2}"\\]\\)$`));

    // Grants that cannot be listed: an error, never in sync.
    const proxy = await startFaultProxy(moto.endpoint);
    try {
      proxy.failAction("ListGrants", "deny");
      const denied = await reconcile(file, [], emulatorEnv(proxy.endpoint));
      expect({ code: denied.code, inSync: denied.report.inSync, findings: findings(denied.report) }).toEqual({ code: 1, inSync: false, findings: [] });
      expect(denied.report.errors.map((e) => e.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^cannot list the grants of key ${keys["eu-west-1"].replace(/[/]/g, "\\/")}`))]),
      );
    } finally {
      await proxy.close();
    }
  });
  it("a grant is known by its name: two fleets on one key shared with one account each need their own, and one revoked is missing-grant for its fleet alone", async () => {
    const source = await owner.registerSource("us-east-1", "twins-source");
    const key = await keyIn("eu-west-1");
    const files = ["red", "blue"].map((name) => {
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(
        file,
        stringify({
          name,
          source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] },
          regions: ["eu-west-1"],
          encryption: { encrypted: true, kmsKeyIds: { "eu-west-1": key } },
          share: { accounts: [S1] },
        }),
      );
      return file;
    });
    for (const fleet of loadFleets(files)) await owner.applyFleet(fleet, { v1: source });
    const clean = await reconcile(files[0], [files[1]]);
    expect({ code: clean.code, findings: findings(clean.report), errors: clean.report.errors }).toEqual({ code: 0, findings: [], errors: [] });

    // Out of band: blue's grant is revoked; red's, to the same account with the same operations, stays.
    const kms = new KMSClient({ region: "eu-west-1", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    const { Grants } = await kms.send(new ListGrantsCommand({ KeyId: key }));
    const blue = Grants!.find((g) => g.Name === `ami-fleet-blue-${S1}`)!;
    await kms.send(new RevokeGrantCommand({ KeyId: key, GrantId: blue.GrantId! }));
    const result = await reconcile(files[0], [files[1]]);
    expect(result.code).toBe(2);
    expect(findings(result.report).map((f) => `${f.fleet} ${f.kind} ${f.region} ${f.account}`)).toEqual([`blue missing-grant eu-west-1 ${S1}`]);
  });
});
