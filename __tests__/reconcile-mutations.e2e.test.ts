/**
 * Every kind of object the stacks manage, changed or removed out of band after a real deploy
 * (OpenTofu and the AWS provider against the emulator). For each, reconcile exits 2 with exactly the
 * finding that names it, and a full `tofu plan` changes exactly the resource it concerns, or nothing
 * when Terraform cannot see it; after the repair reconcile is in sync again, and then `tofu plan
 * -refresh=false` (what the PR workflow runs on that word) plans exactly what the full plan does.
 * The stacks are then destroyed, as a removed fleet is. (A copy's description cannot be changed in
 * the emulator: moto's ModifyImageAttribute ignores Description; `diff.test` judges it.)
 */
import { DescribeImagesCommand, ModifySnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import { CreateKeyCommand, KMSClient, ListGrantsCommand, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { AddTagsToResourceCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { AwsCredentialIdentity } from "@smithy/types";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import type { DriftReport } from "../lib/drift/findings";
import { runCli } from "./helpers/cli";
import { asRole } from "./helpers/iam";
import { assumeRole, Ec2 } from "./helpers/live";
import { Moto, startMoto } from "./helpers/moto";
import { loadToolchain, synth, Toolchain, tofuAsync, tofuOk } from "./helpers/tofu";

const SHARED = "444455556666";
const RECIPIENT = "222233334444";
const STRANGER = "999988887777";
const REGION = "eu-west-1";
const POINTER = "/mutant/current";
const RECIPIENT_STACK = `mutant-recipient-${RECIPIENT}`;

let moto: Moto;
let toolchain: Toolchain;
let work: string;

beforeAll(async () => {
  toolchain = loadToolchain();
  moto = await startMoto();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-mutations-"));
}, 60_000);

afterAll(async () => {
  await moto?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

interface Mutation {
  readonly name: string;
  /** The change made by hand, as the harness (not a role the policies describe). */
  readonly mutate: () => Promise<void>;
  /** The one finding reconcile must report: kind, and the account it is in or names. */
  readonly finding: string;
  /** What a full `tofu plan` of the stacks changes for it (`<stack>: <actions> <address>`), or nothing when Terraform cannot see it. */
  readonly planned?: readonly string[];
  /** How it is undone: the stacks' apply, or the reconcile remedy's own call (what Terraform cannot see). */
  readonly repair: "apply" | (() => Promise<void>);
  /** Mutations of one batch touch different objects: they are made, judged and repaired together. */
  readonly batch: 1 | 2 | 3;
}

it("reports every managed object changed out of band; once in sync, plan -refresh=false is the full plan", async () => {
  const harness = { accessKeyId: "test", secretAccessKey: "test" };
  const recipient = await assumeRole(moto.env, `arn:aws:iam::${RECIPIENT}:role/ami-fleet-recipient`);
  const kms = (credentials: AwsCredentialIdentity) => new KMSClient({ region: REGION, endpoint: moto.endpoint, credentials });
  const ssm = (credentials: AwsCredentialIdentity) => new SSMClient({ region: REGION, endpoint: moto.endpoint, credentials });
  const ownerKey = (await kms(harness).send(new CreateKeyCommand({ Description: "mutations owner" }))).KeyMetadata!.Arn!;
  const recipientKey = (await kms(recipient).send(new CreateKeyCommand({ Description: "mutations recipient" }))).KeyMetadata!.Arn!;
  const owner = new Ec2(moto.env);
  const theirs = new Ec2(moto.env, recipient);
  const source = await owner.registerSource("us-east-1", "mutations-source");
  const fleets = path.join(work, "fleets");
  fs.mkdirSync(fleets);
  const fleetFile = path.join(fleets, "mutant.yaml");
  fs.writeFileSync(
    fleetFile,
    stringify({
      name: "mutant",
      description: "Golden base, mutated",
      source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] },
      regions: [{ region: REGION, kmsKeyId: ownerKey }],
      encryption: { encrypted: true },
      share: { accounts: [SHARED] },
      tags: { team: "platform" },
      pointers: [{ key: "current", parameter: POINTER, image: "v1" }],
      recipients: [{ account: RECIPIENT, kmsKeyIds: { [REGION]: recipientKey } }],
    }),
  );
  const out = path.join(work, "cdktf.out");
  synth([fleets], out);
  const stacks = ["mutant", RECIPIENT_STACK];
  const dir = (stack: string) => path.join(out, "stacks", stack);
  for (const stack of stacks) tofuOk(toolchain, dir(stack), ["init", "-no-color"], moto.env);
  for (const stack of stacks) tofuOk(toolchain, dir(stack), ["apply", "-no-color", "-auto-approve"], moto.env);

  const reconcile = async (args: string[] = []) => {
    const run = await runCli(["reconcile", fleetFile, "--format", "json", ...args], { env: asRole("reconcile", moto.env) });
    const report = JSON.parse(run.stdout) as DriftReport;
    return { code: run.code, errors: report.errors, findings: report.fleets.flatMap((f) => f.findings.map((x) => `${x.kind} ${x.account ?? "owner"}${x.principal ? ` ${x.principal}` : ""}`)).sort() };
  };
  /**
   * Each stack's planned changes, with or without the refresh, the stacks planned at once: a full
   * plan that refreshes a revoked grant waits the provider's 3 minutes for it to appear (KMS's
   * eventual consistency) before it drops it from the state. The plan stays in `<refresh>.tfplan`.
   */
  const plans = async (refresh: boolean) =>
    (
      await Promise.all(
        stacks.map(async (stack) => {
          await tofuAsync(toolchain, dir(stack), ["plan", "-no-color", `-refresh=${refresh}`, `-out=${refresh}.tfplan`], moto.env);
          const plan = JSON.parse((await tofuAsync(toolchain, dir(stack), ["show", "-json", `${refresh}.tfplan`], moto.env)).stdout);
          return (plan.resource_changes ?? [])
            .filter((c: any) => !(c.change.actions.length === 1 && ["no-op", "read"].includes(c.change.actions[0])))
            .map((c: any) => `${stack}: ${c.change.actions.join("+")} ${c.address}`);
        }),
      )
    )
      .flat()
      .sort();
  const inSyncAndPlansAgree = async (after: string) => {
    expect({ after, ...(await reconcile()) }).toEqual({ after, code: 0, errors: [], findings: [] });
    const [full, fast] = [await plans(true), await plans(false)];
    expect({ after, plans: full }).toEqual({ after, plans: fast });
  };
  await inSyncAndPlansAgree("the deploy");
  // Every Region enabled for the accounts, the owner's and the recipient's, holds no orphan.
  expect(await reconcile(["--scan-regions", "all"])).toEqual({ code: 0, errors: [], findings: [] });

  const [copy] = (await owner.in(REGION).send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "tag:ami-fleet:fleet", Values: ["mutant"] }] }))).Images!;
  const copyId = copy.ImageId!;
  const snapshotId = copy.BlockDeviceMappings![0].Ebs!.SnapshotId!;
  const [recipientCopy] = (await theirs.in(REGION).send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "tag:ami-fleet:fleet", Values: ["mutant"] }] }))).Images!;
  const grantOf = async (account: string) =>
    (await kms(harness).send(new ListGrantsCommand({ KeyId: ownerKey }))).Grants!.find((g) => g.GranteePrincipal === `arn:aws:iam::${account}:root`)!.GrantId!;
  const snapshotPermission = (operation: "Add" | "Remove", entry: { UserId: string } | { Group: "all" }) =>
    owner.in(REGION).send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission", CreateVolumePermission: { [operation]: [entry] } }));

  const mutations: Mutation[] = [
    {
      name: "a stranger's launch permission added",
      mutate: () => owner.addPermission(REGION, copyId, { UserId: STRANGER }),
      finding: `extra-permission owner account ${STRANGER}`,
      batch: 1,
      repair: () => owner.removePermission(REGION, copyId, { UserId: STRANGER }),
    },
    {
      name: "the copy made public",
      mutate: () => owner.addPermission(REGION, copyId, { Group: "all" }),
      finding: "public-image owner public (group all)",
      batch: 1,
      repair: () => owner.removePermission(REGION, copyId, { Group: "all" }),
    },
    {
      name: "a declared account's launch permission removed",
      mutate: () => owner.removePermission(REGION, copyId, { UserId: SHARED }),
      finding: `missing-permission owner account ${SHARED}`,
      planned: [`mutant: create aws_ami_launch_permission.share_v1_${REGION}_accounts["${SHARED}"]`],
      batch: 1,
      repair: "apply",
    },
    {
      name: "a declared tag changed on the copy",
      mutate: () => owner.tag(REGION, copyId, { team: "someone-else" }),
      finding: "tag-drift owner",
      planned: [`mutant: update aws_ami_copy.copy_v1_${REGION}`],
      batch: 1,
      repair: "apply",
    },
    {
      name: "an undeclared tag added to the copy",
      mutate: () => owner.tag(REGION, copyId, { "added-by": "hand" }),
      finding: "tag-drift owner",
      planned: [`mutant: update aws_ami_copy.copy_v1_${REGION}`],
      batch: 2,
      repair: "apply",
    },
    {
      name: "the shared account's KMS grant revoked",
      mutate: async () => void (await kms(harness).send(new RevokeGrantCommand({ KeyId: ownerKey, GrantId: await grantOf(SHARED) }))),
      finding: `missing-grant ${SHARED}`,
      planned: [`mutant: create aws_kms_grant.key_grants_${REGION}["${SHARED}"]`],
      batch: 1,
      repair: "apply",
    },
    {
      name: "the recipient's KMS grant revoked",
      mutate: async () => void (await kms(harness).send(new RevokeGrantCommand({ KeyId: ownerKey, GrantId: await grantOf(RECIPIENT) }))),
      finding: `missing-grant ${RECIPIENT}`,
      planned: [`${RECIPIENT_STACK}: create aws_kms_grant.recipient_${RECIPIENT}_key_grants_${REGION}`],
      batch: 1,
      repair: "apply",
    },
    {
      name: "the recipient's snapshot permission removed",
      mutate: async () => void (await snapshotPermission("Remove", { UserId: RECIPIENT })),
      finding: `missing-snapshot-permission ${RECIPIENT}`,
      planned: [`${RECIPIENT_STACK}: create aws_snapshot_create_volume_permission.recipient_${RECIPIENT}_snapshots_v1_${REGION}["${snapshotId}"]`],
      batch: 1,
      repair: "apply",
    },
    {
      name: "the copy's snapshot made public",
      mutate: async () => void (await snapshotPermission("Add", { Group: "all" })),
      finding: "extra-snapshot-permission owner",
      batch: 1,
      repair: async () => void (await snapshotPermission("Remove", { Group: "all" })),
    },
    {
      name: "the pointer moved to another AMI",
      mutate: () => owner.putPointer(REGION, POINTER, source),
      finding: "pointer-drift owner",
      planned: [`mutant: update aws_ssm_parameter.pointer_current_${REGION}`],
      batch: 1,
      repair: "apply",
    },
    {
      name: "the pointer deleted",
      mutate: () => owner.deletePointer(REGION, POINTER),
      finding: "pointer-missing owner",
      planned: [`mutant: create aws_ssm_parameter.pointer_current_${REGION}`],
      batch: 2,
      repair: "apply",
    },
    {
      name: "the pointer's description changed",
      mutate: async () =>
        void (await ssm(harness).send(new PutParameterCommand({ Name: POINTER, Value: copyId, Type: "String", Overwrite: true, Description: "changed by hand" }))),
      finding: "description-drift owner",
      planned: [`mutant: update aws_ssm_parameter.pointer_current_${REGION}`],
      batch: 3,
      repair: "apply",
    },
    {
      name: "a tag added to the pointer",
      mutate: async () => void (await ssm(harness).send(new AddTagsToResourceCommand({ ResourceType: "Parameter", ResourceId: POINTER, Tags: [{ Key: "added-by", Value: "hand" }] }))),
      finding: "tag-drift owner",
      planned: [`mutant: update aws_ssm_parameter.pointer_current_${REGION}`],
      batch: 3,
      repair: "apply",
    },
    {
      name: "the recipient's pointer moved to the owner's copy",
      mutate: () => theirs.putPointer(REGION, POINTER, copyId),
      finding: `pointer-drift ${RECIPIENT}`,
      planned: [`${RECIPIENT_STACK}: update aws_ssm_parameter.recipient_${RECIPIENT}_pointer_current_${REGION}`],
      batch: 1,
      repair: "apply",
    },
    {
      name: "the recipient's copy retagged",
      mutate: () => theirs.tag(REGION, recipientCopy.ImageId!, { team: "someone-else" }),
      finding: `tag-drift ${RECIPIENT}`,
      planned: [`${RECIPIENT_STACK}: update aws_ami_copy.recipient_${RECIPIENT}_copy_v1_${REGION}`],
      batch: 1,
      repair: "apply",
    },
    {
      name: "the recipient's copy deregistered",
      mutate: () => theirs.deregister(REGION, recipientCopy.ImageId!),
      finding: `missing-copy ${RECIPIENT}`,
      // The recipient's pointer names its copy: the new copy's id moves it too.
      planned: [
        `${RECIPIENT_STACK}: create aws_ami_copy.recipient_${RECIPIENT}_copy_v1_${REGION}`,
        `${RECIPIENT_STACK}: update aws_ssm_parameter.recipient_${RECIPIENT}_pointer_current_${REGION}`,
      ],
      batch: 2,
      repair: "apply",
    },
  ];

  // Each batch's mutations are made together, judged together and repaired together: each one's
  // finding and planned change is its own, so the batch's are exactly the union of its members'.
  for (const batch of [1, 2, 3] as const) {
    const members = mutations.filter((m) => m.batch === batch);
    for (const mutation of members) await mutation.mutate();
    const drift = await reconcile();
    // The plan without refresh, which the PR workflow runs on a green reconcile, reads no AWS: it
    // is still empty, so each finding is all that stands between its drift and a skipped repair.
    const [fast, full] = [await plans(false), await plans(true)];
    expect({ batch, code: drift.code, errors: drift.errors, findings: drift.findings, fast, full }).toEqual({
      batch,
      code: 2,
      errors: [],
      findings: members.map((m) => m.finding).sort(),
      fast: [],
      full: [...new Set(members.flatMap((m) => m.planned ?? []))].sort(),
    });
    for (const mutation of members) if (mutation.repair !== "apply") await mutation.repair();
    // The reviewed full plan, applied as saved: no second refresh.
    for (const stack of stacks) tofuOk(toolchain, dir(stack), ["apply", "-no-color", "true.tfplan"], moto.env);
    await inSyncAndPlansAgree(`repairing batch ${batch}: ${members.map((m) => m.name).join("; ")}`);
  }

  // A fleet removed: its stacks destroyed, the recipient's first (it reads the owner's copies).
  for (const stack of [...stacks].reverse()) tofuOk(toolchain, dir(stack), ["destroy", "-no-color", "-auto-approve"], moto.env);
  const left = (await owner.in(REGION).send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "tag:ami-fleet:fleet", Values: ["mutant"] }] }))).Images!;
  expect(left).toEqual([]);
  const grants = (await kms(harness).send(new ListGrantsCommand({ KeyId: ownerKey }))).Grants!;
  expect(grants).toEqual([]);
});
