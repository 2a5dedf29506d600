import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { formatAddress, parseAddress } from "../lib/fleet/addresses";
import { runCli } from "./helpers/cli";
import { synthLayout } from "./helpers/tofu";

/**
 * Recipients (fleet file `recipients:`): accounts that get copies of their own. Each is a stack of
 * its own in every layout, after the stacks of the owner's copies. Real synth.
 */
jest.setTimeout(120_000);

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-recipients-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const OWNER_KEY = "arn:aws:kms:eu-west-1:111122223333:key/0b5c2f1e-7a4d-4c11-9a3e-2f6d8e4b1c90";
const A = "222233334444";
const B = "333344445555";
const A_KEY = `arn:aws:kms:eu-west-1:${A}:key/5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b`;

function fleetDoc(): Record<string, any> {
  return {
    name: "golden",
    source: {
      region: "us-east-1",
      images: [
        { key: "v1", amiId: "ami-0123456789abcdef0", deprecateAt: "2027-01-01T00:00:00Z" },
        { key: "v2", amiId: "ami-0f1e2d3c4b5a69788" },
      ],
    },
    regions: [{ region: "eu-west-1", kmsKeyId: OWNER_KEY }, "us-west-2"],
    share: { accounts: ["444455556666"] },
    tags: { team: "platform" },
    pointers: [{ key: "current", parameter: "/golden/current", image: "v2" }],
    recipients: [
      { account: A, kmsKeyIds: { "eu-west-1": A_KEY }, tags: { owner: "payments" } },
      { account: B, role: "copier", regions: ["us-west-2"] },
    ],
  };
}

function synthWith(layout: string | undefined, doc: object, out = "out"): Record<string, any> {
  return synthLayout(dir, layout, doc, out);
}

function manifestDependencies(out = "out"): Record<string, string[]> {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, out, "manifest.json"), "utf8"));
  return Object.fromEntries(Object.entries(manifest.stacks).map(([name, stack]: [string, any]) => [name, [...stack.dependencies].sort()]));
}

describe("recipients: what a recipient stack holds", () => {
  it("one stack per recipient, after the owner's, with the owner's side for it and its own copies through its role", () => {
    const stacks = synthWith(undefined, fleetDoc());
    expect(Object.keys(stacks).sort()).toEqual(["golden", `golden-recipient-${A}`, `golden-recipient-${B}`]);
    expect(manifestDependencies()[`golden-recipient-${A}`]).toEqual(["golden"]);
    const a = stacks[`golden-recipient-${A}`];
    // Its provider assumes the recipient's role (the default name); the default provider is the owner's.
    expect(a.provider.aws).toEqual([
      { region: "us-east-1" },
      { alias: "recipient", region: "us-east-1", assume_role: [{ role_arn: `arn:aws:iam::${A}:role/ami-fleet-recipient`, session_name: "ami-fleet-golden" }] },
    ]);
    expect(stacks[`golden-recipient-${B}`].provider.aws[1].assume_role[0].role_arn).toBe(`arn:aws:iam::${B}:role/copier`);
    const copyId = (image: string, region: string) => `\${try(data.terraform_remote_state.copies_${region}.outputs.copies_${image}["${region}"], "")}`;
    // Owner side, per image and Region: the launch permission and the snapshots' read access.
    const permission = a.resource.aws_ami_launch_permission[`recipient_${A}_share_v1_eu-west-1_accounts`];
    expect(permission).toMatchObject({ region: "eu-west-1", account_id: A, image_id: copyId("v1", "eu-west-1") });
    expect(permission.provider).toBeUndefined();
    const snapshots = a.resource.aws_snapshot_create_volume_permission[`recipient_${A}_snapshots_v1_eu-west-1`];
    expect(snapshots).toMatchObject({ region: "eu-west-1", account_id: A, snapshot_id: "${each.value}" });
    expect(snapshots.for_each).toContain("data.aws_ami.owner_copy_v1_eu-west-1.block_device_mappings");
    expect(a.data.aws_ami["owner_copy_v1_eu-west-1"]).toMatchObject({ region: "eu-west-1", owners: ["self"], filter: [{ name: "image-id", values: [copyId("v1", "eu-west-1")] }] });
    // The owner's key is customer managed in eu-west-1 only: one grant there, to the recipient's root.
    expect(Object.keys(a.resource.aws_kms_grant)).toEqual([`recipient_${A}_key_grants_eu-west-1`]);
    expect(a.resource.aws_kms_grant[`recipient_${A}_key_grants_eu-west-1`]).toMatchObject({
      key_id: OWNER_KEY,
      grantee_principal: `arn:aws:iam::${A}:root`,
      operations: expect.arrayContaining(["Decrypt", "DescribeKey", "CreateGrant", "ReEncryptFrom"]),
    });
    // Its copies, in its account, re-encrypted with its key where it has one.
    const copies = a.resource.aws_ami_copy;
    expect(Object.keys(copies).sort()).toEqual([`recipient_${A}_copy_v1_eu-west-1`, `recipient_${A}_copy_v1_us-west-2`, `recipient_${A}_copy_v2_eu-west-1`, `recipient_${A}_copy_v2_us-west-2`]);
    const euCopy = copies[`recipient_${A}_copy_v1_eu-west-1`];
    expect(euCopy).toMatchObject({
      provider: "aws.recipient",
      region: "eu-west-1",
      source_ami_id: copyId("v1", "eu-west-1"),
      source_ami_region: "eu-west-1",
      encrypted: true,
      kms_key_id: A_KEY,
      deprecation_time: "2027-01-01T00:00:00Z",
      name: "${data.aws_ami.owner_copy_v1_eu-west-1.name}",
    });
    expect(euCopy.depends_on.sort()).toEqual([
      `aws_ami_launch_permission.recipient_${A}_share_v1_eu-west-1_accounts`,
      `aws_kms_grant.recipient_${A}_key_grants_eu-west-1`,
      `aws_snapshot_create_volume_permission.recipient_${A}_snapshots_v1_eu-west-1`,
    ]);
    expect(euCopy.tags).toEqual({
      team: "platform",
      owner: "payments",
      "ami-fleet:fleet": "golden",
      "ami-fleet:image": "v1",
      "ami-fleet:source-ami": '${data.aws_ami.owner_copy_v1_eu-west-1.tags["ami-fleet:source-ami"]}',
      "ami-fleet:source-region": "us-east-1",
      "ami-fleet:owner-copy": copyId("v1", "eu-west-1"),
    });
    const usCopy = copies[`recipient_${A}_copy_v2_us-west-2`];
    expect(usCopy.encrypted).toBeUndefined();
    expect(usCopy.kms_key_id).toBeUndefined();
    expect(usCopy.deprecation_time).toBeUndefined();
    // The fleet's pointers, in its account, naming its own copies.
    expect(a.resource.aws_ssm_parameter).toEqual({
      [`recipient_${A}_pointer_current_eu-west-1`]: expect.objectContaining({ provider: "aws.recipient", region: "eu-west-1", name: "/golden/current", data_type: "aws:ec2:image", insecure_value: `\${aws_ami_copy.recipient_${A}_copy_v2_eu-west-1.id}` }),
      [`recipient_${A}_pointer_current_us-west-2`]: expect.objectContaining({ insecure_value: `\${aws_ami_copy.recipient_${A}_copy_v2_us-west-2.id}` }),
    });
    // B gets us-west-2 only, where the owner's copies are not under a customer managed key: no grant.
    const b = stacks[`golden-recipient-${B}`];
    expect(Object.keys(b.resource.aws_ami_copy).sort()).toEqual([`recipient_${B}_copy_v1_us-west-2`, `recipient_${B}_copy_v2_us-west-2`]);
    expect(b.resource.aws_kms_grant).toBeUndefined();
    expect(Object.keys(b.data.terraform_remote_state)).toEqual(["copies_us-west-2"]);
  });

  it("the owner's stack refuses at plan time a Windows or Marketplace source where a recipient copies it, and knows nothing else of recipients", () => {
    const withRecipients = synthWith(undefined, fleetDoc(), "with.out").golden;
    const doc = fleetDoc();
    delete doc.recipients;
    const without = synthWith(undefined, doc, "without.out").golden;
    const preconditions = (tf: any, copy: string) => tf.resource.aws_ami_copy[copy].lifecycle.precondition.map((p: any) => p.error_message as string);
    expect(preconditions(withRecipients, "copy_v1_us-west-2").some((m: string) => /cannot be copied into another account, as recipients 222233334444, 333344445555 would in us-west-2/.test(m))).toBe(true);
    expect(preconditions(withRecipients, "copy_v1_eu-west-1").some((m: string) => /as recipients 222233334444 would in eu-west-1/.test(m))).toBe(true);
    expect(preconditions(without, "copy_v1_us-west-2").some((m: string) => /as recipients/.test(m))).toBe(false);
    // Otherwise the owner's stack is the same: recipients add no resource to it.
    const strip = (tf: any) => ({ ...tf.resource, aws_ami_copy: Object.keys(tf.resource.aws_ami_copy) });
    expect(strip(withRecipients)).toEqual(strip(without));
  });

  it("makes no share stack that would hold nothing: a recipient's launch permission is in its own stack", () => {
    const { share: _none, ...unshared } = fleetDoc() as Record<string, unknown>;
    const stacks = synthWith("split", unshared, "unshared");
    expect(Object.keys(stacks).sort()).toEqual(["golden-eu-west-1", `golden-recipient-${A}`, `golden-recipient-${B}`, "golden-us-west-2"]);
    for (const [name, tf] of Object.entries(stacks)) expect(`${name}: ${Object.keys(tf.resource ?? {}).length > 0 ? "holds resources" : "empty"}`).toBe(`${name}: holds resources`);
  });

  it("reads the Region stacks in the split layout, and deploys after them", async () => {
    const stacks = synthWith("split", fleetDoc());
    expect(Object.keys(stacks)).toEqual(expect.arrayContaining([`golden-recipient-${A}`, `golden-recipient-${B}`, "golden-eu-west-1", "golden-us-west-2"]));
    expect(manifestDependencies()[`golden-recipient-${A}`]).toEqual(["golden-eu-west-1", "golden-us-west-2"]);
    expect(manifestDependencies()[`golden-recipient-${B}`]).toEqual(["golden-us-west-2"]);
    // `show` (and so the README's migration block) lists every stack after those it reads: a recipient
    // stack, though it holds copies (its own), after the Region stacks.
    const shown = await runCli(["show", path.join(dir, "out")]);
    const order = [...shown.stdout.matchAll(/^([^ \n][^:]*):/gm)].map((m) => m[1]);
    expect(order.sort()).toEqual(Object.keys(stacks).sort());
    const listed = [...shown.stdout.matchAll(/^([^ \n][^:]*):/gm)].map((m) => m[1]);
    for (const [stack, dependencies] of Object.entries(manifestDependencies())) {
      for (const dependency of dependencies) expect(`${dependency} before ${stack}: ${listed.indexOf(dependency) < listed.indexOf(stack)}`).toBe(`${dependency} before ${stack}: true`);
    }
    const remote = stacks[`golden-recipient-${A}`].data.terraform_remote_state;
    expect(remote["copies_eu-west-1"].config.path).toMatch(/terraform\.golden-eu-west-1\.tfstate$/);
    expect(stacks[`golden-recipient-${A}`]["//"]["ami-fleet"].reads).toEqual([
      { stack: "golden-eu-west-1", outputs: ["copies_v1", "copies_v2"] },
      { stack: "golden-us-west-2", outputs: ["copies_v1", "copies_v2"] },
    ]);
  });

  it("every recipient address parses back to its recipient, image and Region, and formats to itself", () => {
    const stacks = synthWith(undefined, fleetDoc());
    const addresses = Object.values(stacks)
      .filter((tf: any) => tf["//"]["ami-fleet"].reads)
      .flatMap((tf: any) => Object.entries(tf.resource).flatMap(([type, byName]) => Object.keys(byName as object).map((name) => `${type}.${name}`)))
      .map((a) => (a.startsWith("aws_snapshot_create_volume_permission.") ? `${a}["snap-0123456789abcdef0"]` : a));
    expect(new Set(addresses.map((a) => a.split(".")[0]))).toEqual(
      new Set(["aws_ami_copy", "aws_ami_launch_permission", "aws_kms_grant", "aws_snapshot_create_volume_permission", "aws_ssm_parameter"]),
    );
    for (const address of addresses) {
      const parsed = parseAddress(address);
      expect({ address, recipient: parsed?.recipient }).toEqual({ address, recipient: expect.stringMatching(/^(222233334444|333344445555)$/) });
      expect(formatAddress(parsed!)).toBe(address);
    }
    expect(parseAddress(`aws_snapshot_create_volume_permission.recipient_${A}_snapshots_v1_eu-west-1["snap-0123456789abcdef0"]`)).toEqual({
      type: "aws_snapshot_create_volume_permission",
      image: "v1",
      region: "eu-west-1",
      key: "snap-0123456789abcdef0",
      recipient: A,
    });
    // Not of the naming rules: an owner's snapshot permission, a recipient's for_each launch permission, a short account.
    for (const address of [
      'aws_snapshot_create_volume_permission.snapshots_v1_eu-west-1["snap-1"]',
      `aws_ami_launch_permission.recipient_${A}_share_v1_eu-west-1_accounts["${A}"]`,
      `aws_ami_launch_permission.recipient_${A}_share_v1_eu-west-1_ous`,
      "aws_ami_copy.recipient_2222_copy_v1_eu-west-1",
    ]) {
      expect({ address, parsed: parseAddress(address) }).toEqual({ address, parsed: undefined });
    }
  });

  it("validate counts the recipients' copies, and their launch permissions among the copies'", async () => {
    const fleets = path.join(dir, "fleets");
    fs.mkdirSync(fleets, { recursive: true });
    fs.writeFileSync(path.join(fleets, "golden.yaml"), stringify(fleetDoc()));
    const result = await runCli(["validate", fleets]);
    expect(result.code).toBe(0);
    // 2 images x 2 Regions; launch permissions: 4 for the share account, 4 for A, 2 for B (us-west-2 only);
    // the owner's key is in eu-west-1: a grant there for the share account (the recipients' are counted with their stacks).
    expect(result.stdout).toBe(`${path.join(fleets, "golden.yaml")}: golden: 2 images x 2 Regions = 4 copies, 10 launch permissions, 1 KMS grant; 6 recipient copies in 2 accounts\n`);
  });
});
