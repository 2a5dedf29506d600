import { fleetChange } from "../lib/review/fleet-change";
import { reviewPlans } from "../lib/review/plan-review";
import { renderReviewMarkdown, renderReviewText } from "../lib/report/review";
import { fleetOf, keyArn } from "./helpers/fleets";
import * as fs from "fs";
import * as path from "path";

/**
 * The verdicts only the fleet change can give (who may launch, who gets copies of their own, which
 * pointers move or lose their name), judged from the base and head fleet files: the same whatever
 * stacks hold the resources, and whether or not a stack could be planned yet.
 */

const ORG = "arn:aws:organizations::111122223333:organization/o-abc123def4";
const MEMBER = "444455556666";
const OUTSIDER = "999988887777";
const RECIPIENT = "222233334444";

function doc(overrides: Record<string, unknown> = {}): Record<string, any> {
  return {
    name: "golden",
    source: { region: "us-east-1", images: [{ key: "v1", amiId: "ami-0123456789abcdef0" }] },
    regions: ["eu-west-1", "us-west-2"],
    encryption: { encrypted: true, kmsKeyIds: { "eu-west-1": keyArn("eu-west-1"), "us-west-2": keyArn("us-west-2") } },
    share: { accounts: [MEMBER] },
    organization: { arn: ORG, memberAccounts: [MEMBER, "777788889999"] },
    pointers: [{ key: "current", parameter: "/golden/current", image: "v1" }],
    ...overrides,
  };
}

const change = (base: Record<string, any>[], head: Record<string, any>[]) =>
  fleetChange(
    base.map((d) => fleetOf(d)),
    head.map((d) => fleetOf(d)),
  );
const dangers = (c: ReturnType<typeof fleetChange>) => c.dangers.map((d) => `${d.category} ${d.address}`).sort();

describe("the fleet change's verdicts", () => {
  it("no change, no verdict", () => {
    expect(change([doc()], [doc()])).toEqual({ copies: [], pointers: [], sharing: [], grants: [], snapshotReaders: [], recipients: [], dangers: [], copiedBy: {} });
  });

  it("an account inside the Organization is granted on every copy, without danger", () => {
    const c = change([doc()], [doc({ share: { accounts: [MEMBER, "777788889999"] } })]);
    expect(c.sharing.map((s) => `${s.action} ${s.principal} ${s.image}@${s.region} ${s.address}`)).toEqual([
      'grant account 777788889999 v1@eu-west-1 aws_ami_launch_permission.share_v1_eu-west-1_accounts["777788889999"]',
      'grant account 777788889999 v1@us-west-2 aws_ami_launch_permission.share_v1_us-west-2_accounts["777788889999"]',
    ]);
    expect(c.dangers).toEqual([]);
  });

  it("an account added to an encrypted fleet gets a grant on each Region's key; a recipient its grants and its read access to each copy's snapshots", () => {
    const c = change([doc()], [doc({ share: { accounts: [MEMBER, "777788889999"] }, recipients: [{ account: RECIPIENT, regions: ["eu-west-1"] }] })]);
    expect(c.grants.map((g) => `${g.action} ${g.account} ${g.region} ${g.address}`)).toEqual([
      'grant 777788889999 eu-west-1 aws_kms_grant.key_grants_eu-west-1["777788889999"]',
      'grant 777788889999 us-west-2 aws_kms_grant.key_grants_us-west-2["777788889999"]',
      `grant ${RECIPIENT} eu-west-1 aws_kms_grant.recipient_${RECIPIENT}_key_grants_eu-west-1`,
    ]);
    expect(c.snapshotReaders).toEqual([
      { fleet: "golden", image: "v1", region: "eu-west-1", recipient: RECIPIENT, resource: `aws_snapshot_create_volume_permission.recipient_${RECIPIENT}_snapshots_v1_eu-west-1`, action: "grant" },
    ]);
    // Taken back: each is retired; a key policy that admits the accounts needs no grant at all.
    expect(change([doc({ share: { accounts: [MEMBER, "777788889999"] } })], [doc()]).grants.map((g) => `${g.action} ${g.address}`)).toEqual([
      'revoke aws_kms_grant.key_grants_eu-west-1["777788889999"]',
      'revoke aws_kms_grant.key_grants_us-west-2["777788889999"]',
    ]);
    const byPolicy = (d: Record<string, any>) => ({ ...d, encryption: { ...d.encryption, keyPolicyGrantsRecipients: true } });
    expect(change([byPolicy(doc())], [byPolicy(doc({ share: { accounts: [MEMBER, "777788889999"] } }))]).grants).toEqual([]);
  });

  it("an account outside the fleet's Organization is outside-organization on each copy it may launch", () => {
    const c = change([doc()], [doc({ share: { accounts: [MEMBER, OUTSIDER] } })]);
    expect(dangers(c)).toEqual([
      `outside-organization aws_ami_launch_permission.share_v1_eu-west-1_accounts["${OUTSIDER}"]`,
      `outside-organization aws_ami_launch_permission.share_v1_us-west-2_accounts["${OUTSIDER}"]`,
    ]);
    expect(c.dangers[0].message).toBe(`grants account ${OUTSIDER} in eu-west-1: not a member account of o-abc123def4`);
  });

  it("a Region's own principal counts in that Region only", () => {
    const c = change([doc()], [doc({ regions: ["eu-west-1", { region: "us-west-2", share: { accounts: [OUTSIDER] } }] })]);
    expect(dangers(c)).toEqual([`outside-organization aws_ami_launch_permission.share_v1_us-west-2_accounts["${OUTSIDER}"]`]);
  });

  it("public sharing (acknowledged in the file) is public, and outside the Organization", () => {
    // Public copies cannot be encrypted: an unencrypted fleet, shared before.
    const plain = (share: Record<string, unknown>) => doc({ encryption: undefined, share });
    const c = change([plain({ accounts: [MEMBER] })], [plain({ accounts: [MEMBER], public: true, acknowledgePublic: true })]);
    expect(dangers(c)).toEqual([
      "outside-organization aws_ami_launch_permission.share_v1_eu-west-1_public",
      "outside-organization aws_ami_launch_permission.share_v1_us-west-2_public",
      "public aws_ami_launch_permission.share_v1_eu-west-1_public",
      "public aws_ami_launch_permission.share_v1_us-west-2_public",
    ]);
  });

  it("a new fleet is judged whole: its public copies and outside accounts, though its share stacks wait for its copies; the Organization it declares is a trust anchor of its own", () => {
    const c = change([], [doc({ name: "fresh", encryption: undefined, share: { accounts: [OUTSIDER], public: true, acknowledgePublic: true }, pointers: [] })]);
    expect(dangers(c)).toEqual(
      [
        ...["eu-west-1", "us-west-2"].flatMap((r) => [
          `outside-organization aws_ami_launch_permission.share_v1_${r}_accounts["${OUTSIDER}"]`,
          `outside-organization aws_ami_launch_permission.share_v1_${r}_public`,
          `public aws_ami_launch_permission.share_v1_${r}_public`,
          `unencrypted-shared aws_ami_copy.copy_v1_${r}`,
        ]),
        "trust-anchor fresh: organization",
      ].sort(),
    );
    expect(c.dangers.find((d) => d.category === "trust-anchor")!.message).toBe(
      `changes organization of fleet fresh from (fleet not on the target branch) to ${ORG} with member accounts ${MEMBER}, 777788889999: it decides which principals are granted without an outside-organization danger. ` +
        "This change is judged against the target branch's value; once merged, later changes are judged against the new one",
    );
  });

  it("a new recipient gets its own copies: a recipient danger, and its launch permission on each copy it copies", () => {
    const c = change([doc()], [doc({ recipients: [{ account: RECIPIENT, regions: ["eu-west-1"] }] })]);
    expect(c.recipients).toEqual([{ fleet: "golden", account: RECIPIENT, action: "add", regions: ["eu-west-1"] }]);
    expect(c.sharing.map((s) => `${s.action} ${s.address} ${s.recipient}`)).toEqual([
      `grant aws_ami_launch_permission.recipient_${RECIPIENT}_share_v1_eu-west-1_accounts ${RECIPIENT}`,
    ]);
    // Not a member of the Organization: outside-organization too.
    expect(dangers(c)).toEqual([`outside-organization aws_ami_launch_permission.recipient_${RECIPIENT}_share_v1_eu-west-1_accounts`, `recipient golden: recipient ${RECIPIENT}`]);
    expect(c.dangers.find((d) => d.category === "recipient")!.message).toMatch(/^gives account 222233334444 copies of its own of v1 in eu-west-1: they are that account's AMIs/);
    // A recipient gaining a Region is judged again; one that stays as it was is not.
    const more = change([doc({ recipients: [{ account: RECIPIENT, regions: ["eu-west-1"] }] })], [doc({ recipients: [{ account: RECIPIENT }] })]);
    expect(more.recipients).toEqual([{ fleet: "golden", account: RECIPIENT, action: "add", regions: ["us-west-2"] }]);
    const same = change([doc({ recipients: [{ account: RECIPIENT }] })], [doc({ recipients: [{ account: RECIPIENT }] })]);
    expect(same.dangers).toEqual([]);
  });

  it("a renamed pointer deletes the old name in every Region and every recipient's account", () => {
    const withRecipient = { recipients: [{ account: RECIPIENT, regions: ["eu-west-1"] }], organization: { arn: ORG } };
    const c = change([doc(withRecipient)], [doc({ ...withRecipient, pointers: [{ key: "current", parameter: "/golden/latest", image: "v1" }] })]);
    expect(dangers(c)).toEqual([
      "destroy aws_ssm_parameter.pointer_current_eu-west-1",
      "destroy aws_ssm_parameter.pointer_current_us-west-2",
      `destroy aws_ssm_parameter.recipient_${RECIPIENT}_pointer_current_eu-west-1`,
    ]);
    expect(c.dangers.map((d) => d.message)).toContain(
      `renames pointer /golden/current in eu-west-1 of account ${RECIPIENT} to /golden/latest: the old name is deleted, so launches that still resolve /golden/current fail`,
    );
  });

  it("a pointer moved to another image version is a pointer-move in every Region", () => {
    const images = { source: { region: "us-east-1", images: [{ key: "v1", amiId: "ami-0123456789abcdef0" }, { key: "v2", amiId: "ami-0f1e2d3c4b5a69788" }] } };
    const c = change([doc(images)], [doc({ ...images, pointers: [{ key: "current", parameter: "/golden/current", image: "v2" }] })]);
    expect(dangers(c)).toEqual(["pointer-move aws_ssm_parameter.pointer_current_eu-west-1", "pointer-move aws_ssm_parameter.pointer_current_us-west-2"]);
  });

  it("a removed Region or fleet revokes its principals and destroys its copies and pointers: each copy is a destroy danger, and the permissions that go with it are not judged twice", () => {
    const region = change([doc()], [doc({ regions: ["eu-west-1"], encryption: { encrypted: true, kmsKeyIds: { "eu-west-1": keyArn("eu-west-1") } } })]);
    expect(region.sharing.map((s) => `${s.action} ${s.address}`)).toEqual([`revoke aws_ami_launch_permission.share_v1_us-west-2_accounts["${MEMBER}"]`]);
    expect(dangers(region)).toEqual(["destroy aws_ami_copy.copy_v1_us-west-2", "destroy aws_ssm_parameter.pointer_current_us-west-2"]);
    expect(region.dangers.find((d) => d.address === "aws_ami_copy.copy_v1_us-west-2")!.message).toBe(
      "destroys the copy of image v1 in us-west-2: instances and launch templates using it can no longer launch",
    );
    const fleet = change([doc()], []);
    expect(fleet.sharing.map((s) => s.action)).toEqual(["revoke", "revoke"]);
    expect(dangers(fleet)).toEqual([
      "destroy aws_ami_copy.copy_v1_eu-west-1",
      "destroy aws_ami_copy.copy_v1_us-west-2",
      "destroy aws_ssm_parameter.pointer_current_eu-west-1",
      "destroy aws_ssm_parameter.pointer_current_us-west-2",
    ]);
  });

  it("a recipient's Region removed destroys that account's own copy: a destroy danger naming the account, whatever stacks the change plans", () => {
    const both = { recipients: [{ account: RECIPIENT }], organization: { arn: ORG, memberAccounts: [MEMBER, RECIPIENT] } };
    const one = { recipients: [{ account: RECIPIENT, regions: ["eu-west-1"] }], organization: both.organization };
    const c = change([doc(both)], [doc(one)]);
    expect(dangers(c)).toEqual([`destroy aws_ami_copy.recipient_${RECIPIENT}_copy_v1_us-west-2`, `destroy aws_ssm_parameter.recipient_${RECIPIENT}_pointer_current_us-west-2`]);
    expect(c.dangers.find((d) => d.category === "destroy" && d.address.startsWith("aws_ami_copy."))!.message).toBe(
      `destroys account ${RECIPIENT}'s own copy of image v1 in us-west-2: instances and launch templates in account ${RECIPIENT} using it can no longer launch`,
    );
    // Its launch permission, grant and snapshot access there go with its copy: revoked, but judged by the destroy.
    expect(c.sharing.map((s) => `${s.action} ${s.address}`)).toEqual([`revoke aws_ami_launch_permission.recipient_${RECIPIENT}_share_v1_us-west-2_accounts`]);
    expect(c.grants.map((g) => `${g.action} ${g.address}`)).toEqual([`revoke aws_kms_grant.recipient_${RECIPIENT}_key_grants_us-west-2`]);
    // The recipient removed altogether: every copy and pointer of its own.
    expect(dangers(change([doc(both)], [doc({ organization: both.organization })]))).toEqual([
      `destroy aws_ami_copy.recipient_${RECIPIENT}_copy_v1_eu-west-1`,
      `destroy aws_ami_copy.recipient_${RECIPIENT}_copy_v1_us-west-2`,
      `destroy aws_ssm_parameter.recipient_${RECIPIENT}_pointer_current_eu-west-1`,
      `destroy aws_ssm_parameter.recipient_${RECIPIENT}_pointer_current_us-west-2`,
    ]);
  });

  it("an argument that forces a new copy (source, key, encryption, name) is a replace of the owner's copy and of every recipient's copy of it", () => {
    const withRecipient = { recipients: [{ account: RECIPIENT, regions: ["eu-west-1"] }], organization: { arn: ORG, memberAccounts: [MEMBER, RECIPIENT] } };
    const source = (amiId: string) => ({ source: { region: "us-east-1", images: [{ key: "v1", amiId }] } });
    const newSource = change([doc(withRecipient)], [doc({ ...withRecipient, ...source("ami-0f1e2d3c4b5a69788") })]);
    expect(dangers(newSource)).toEqual([
      "replace aws_ami_copy.copy_v1_eu-west-1",
      "replace aws_ami_copy.copy_v1_us-west-2",
      `replace aws_ami_copy.recipient_${RECIPIENT}_copy_v1_eu-west-1`,
    ]);
    expect(newSource.dangers[0].message).toBe("replaces the copy of image v1 in eu-west-1 (name, source_ami_id): the old AMI is deregistered after the new one exists");
    const newKey = doc({ ...withRecipient, encryption: { encrypted: true, kmsKeyIds: { "eu-west-1": keyArn("eu-west-1", "1b5c2f1e-7a4d-4c11-9a3e-2f6d8e4b1c90"), "us-west-2": keyArn("us-west-2") } } });
    expect(dangers(change([doc(withRecipient)], [newKey]))).toEqual(["replace aws_ami_copy.copy_v1_eu-west-1", `replace aws_ami_copy.recipient_${RECIPIENT}_copy_v1_eu-west-1`]);
    expect(dangers(change([doc()], [doc({ copyName: "{fleet}-{image}-{region}-{sourceAmi}" })]))).toEqual(["replace aws_ami_copy.copy_v1_eu-west-1", "replace aws_ami_copy.copy_v1_us-west-2"]);
    // The recipient's own key: its copy alone.
    const ownKey = { ...withRecipient, recipients: [{ account: RECIPIENT, regions: ["eu-west-1"], kmsKeyIds: { "eu-west-1": `arn:aws:kms:eu-west-1:${RECIPIENT}:key/1234abcd-12ab-34cd-56ef-1234567890ab` } }] };
    expect(dangers(change([doc(withRecipient)], [doc(ownKey)]))).toEqual([`replace aws_ami_copy.recipient_${RECIPIENT}_copy_v1_eu-west-1`]);
  });

  it("access taken from an account whose copies stay is a revoke danger: its launch permissions and its KMS grants", () => {
    const c = change([doc({ share: { accounts: [MEMBER, "777788889999"] } })], [doc()]);
    expect(dangers(c)).toEqual([
      'revoke aws_ami_launch_permission.share_v1_eu-west-1_accounts["777788889999"]',
      'revoke aws_ami_launch_permission.share_v1_us-west-2_accounts["777788889999"]',
      'revoke aws_kms_grant.key_grants_eu-west-1["777788889999"]',
      'revoke aws_kms_grant.key_grants_us-west-2["777788889999"]',
    ]);
    expect(c.dangers[0].message).toBe("revokes account 777788889999's launch permission on image v1 in eu-west-1: its instances and launch templates can no longer launch it");
  });

  it("the trust anchors come from the target branch: a change that edits them is judged by the old ones and blocked by its own danger", () => {
    // The outsider added to the shares and to the member accounts in one change: still outside, and the members' change blocks.
    const members = { organization: { arn: ORG, memberAccounts: [MEMBER, "777788889999", OUTSIDER] } };
    const widened = change([doc()], [doc({ ...members, share: { accounts: [MEMBER, OUTSIDER] } })]);
    expect(dangers(widened)).toEqual([
      `outside-organization aws_ami_launch_permission.share_v1_eu-west-1_accounts["${OUTSIDER}"]`,
      `outside-organization aws_ami_launch_permission.share_v1_us-west-2_accounts["${OUTSIDER}"]`,
      "trust-anchor golden: organization",
    ]);
    expect(widened.dangers.find((d) => d.category === "trust-anchor")!.message).toMatch(
      new RegExp(`^changes organization of fleet golden from ${ORG} with member accounts ${MEMBER}, 777788889999 to ${ORG} with member accounts ${MEMBER}, 777788889999, ${OUTSIDER}: `),
    );
    // The Organization removed while sharing more: judged against the Organization the target branch declares.
    const dropped = change([doc()], [doc({ organization: undefined, share: { accounts: [MEMBER, OUTSIDER] } })]);
    expect(dangers(dropped)).toEqual([
      `outside-organization aws_ami_launch_permission.share_v1_eu-west-1_accounts["${OUTSIDER}"]`,
      `outside-organization aws_ami_launch_permission.share_v1_us-west-2_accounts["${OUTSIDER}"]`,
      "trust-anchor golden: organization",
    ]);
    // The key policy trusted instead of grants: the grants it retires, and the anchor.
    const byPolicy = change([doc()], [doc({ encryption: { ...doc().encryption, keyPolicyGrantsRecipients: true } })]);
    expect(dangers(byPolicy)).toEqual([
      `revoke aws_kms_grant.key_grants_eu-west-1["${MEMBER}"]`,
      `revoke aws_kms_grant.key_grants_us-west-2["${MEMBER}"]`,
      "trust-anchor golden: encryption.keyPolicyGrantsRecipients",
    ]);
    // The same anchors on both sides, the members in another order too: nothing to say.
    expect(dangers(change([doc(members)], [doc(members)]))).toEqual([]);
    expect(dangers(change([doc(members)], [doc({ organization: { arn: ORG, memberAccounts: [OUTSIDER, "777788889999", MEMBER] } })]))).toEqual([]);
  });

  it("a shared copy the fleet does not encrypt is unencrypted-shared when it is made or first shared, allowed where the file acknowledges it", () => {
    const plain = (overrides: Record<string, unknown> = {}) => doc({ encryption: undefined, pointers: [], ...overrides });
    const twoImages = { source: { region: "us-east-1", images: [{ key: "v1", amiId: "ami-0123456789abcdef0" }, { key: "v2", amiId: "ami-0f1e2d3c4b5a69788" }] } };
    expect(dangers(change([plain()], [plain(twoImages)]))).toEqual(["unencrypted-shared aws_ami_copy.copy_v2_eu-west-1", "unencrypted-shared aws_ami_copy.copy_v2_us-west-2"]);
    // Another account on copies already shared unencrypted: nothing new is exposed unencrypted.
    expect(dangers(change([plain()], [plain({ share: { accounts: [MEMBER, "777788889999"] } })]))).toEqual([]);
    // Shared for the first time.
    expect(dangers(change([plain({ share: undefined })], [plain()]))).toEqual(["unencrypted-shared aws_ami_copy.copy_v1_eu-west-1", "unencrypted-shared aws_ami_copy.copy_v1_us-west-2"]);
    // Acknowledged on the target branch: allowed.
    const ack = { encryption: { acknowledgeUnencryptedSharing: true } };
    const acknowledged = change([plain(ack)], [plain({ ...twoImages, ...ack })]);
    expect(acknowledged.dangers.map((d) => `${d.category} ${d.acknowledged}`)).toEqual(["unencrypted-shared true", "unencrypted-shared true"]);
    expect(acknowledged.dangers[0].message).toMatch(/; fleet golden acknowledges this on the target branch \(encryption.acknowledgeUnencryptedSharing\)$/);
    // Acknowledged by the change itself: not acknowledged, and the acknowledgement is a trust-anchor danger.
    const selfAcknowledged = change([plain()], [plain({ ...twoImages, ...ack })]);
    expect(selfAcknowledged.dangers.map((d) => `${d.category} ${d.address} ${d.acknowledged ?? false}`)).toEqual([
      "trust-anchor golden: encryption.acknowledgeUnencryptedSharing false",
      "unencrypted-shared aws_ami_copy.copy_v2_eu-west-1 false",
      "unencrypted-shared aws_ami_copy.copy_v2_us-west-2 false",
    ]);
    expect(selfAcknowledged.dangers[0].message).toMatch(/^changes encryption.acknowledgeUnencryptedSharing of fleet golden from \(not set\) to true: /);
  });

  it("a source resolved at plan time changes nothing the fleet files can tell: the plans judge its replacement", () => {
    const lookup = { source: { region: "us-east-1", images: [{ key: "v1", lookup: { owners: ["self"], name: "golden-*", mostRecent: true } }] } };
    expect(change([doc(lookup)], [doc(lookup)])).toEqual({ copies: [], pointers: [], sharing: [], grants: [], snapshotReaders: [], recipients: [], dangers: [], copiedBy: {} });
  });
});

describe("one review of a change: the plans with the fleet change", () => {
  const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "plans", `${name}.json`), "utf8"));

  it("judges sharing from the fleet change alone, keeps the plans' own verdicts, and renders the fleet's permissions and recipients", () => {
    // The replace fixture: copies of v1 replaced (plan verdicts), shared unencrypted (a verdict the fleet change now gives).
    const plan = fixture("replace");
    const alone = reviewPlans([plan]);
    expect(alone.dangers.map((d) => d.category)).toEqual(expect.arrayContaining(["replace", "unencrypted-shared"]));
    const fleetChangeOnly = change([doc()], [doc({ share: { accounts: [MEMBER, OUTSIDER] }, recipients: [{ account: RECIPIENT }] })]);
    const review = reviewPlans([plan], { fleetChange: fleetChangeOnly });
    const categories = [...new Set(review.dangers.map((d) => d.category))];
    // The plan does none of the change: the outsider's permissions and the recipient's copies are unplanned.
    expect(categories).toEqual(["replace", "outside-organization", "recipient", "unplanned"]);
    expect(review.dangers.filter((d) => d.category === "unplanned").map((d) => d.address)).toEqual(
      expect.arrayContaining([`aws_ami_launch_permission.share_v1_eu-west-1_accounts["${OUTSIDER}"]`, `aws_ami_copy.recipient_${RECIPIENT}_copy_v1_eu-west-1`]),
    );
    expect(review.blocked).toBe(true);
    expect(review.fleetChange!.recipients).toHaveLength(1);
    // Listed as waiting for an apply, their stacks are judged from the fleet change and not planned: no longer unplanned.
    const waitingStacks = { stackOf: (fleet: string, address: string) => (address.includes(`recipient_${RECIPIENT}_`) ? `${fleet}-recipient-${RECIPIENT}` : fleet), waiting: ["golden", `golden-recipient-${RECIPIENT}`] };
    expect(reviewPlans([plan], { fleetChange: fleetChangeOnly, stacks: waitingStacks }).dangers.map((d) => d.category)).not.toContain("unplanned");
    const text = renderReviewText(review, { color: false });
    expect(text).toContain(`recipients (accounts with copies of their own):\n  + account ${RECIPIENT} (fleet golden): eu-west-1, us-west-2`);
    expect(text).toContain(`  + account ${OUTSIDER}: v1@eu-west-1, v1@us-west-2`);
    expect(renderReviewMarkdown(review)).toContain(`- add account ${RECIPIENT} (fleet golden): eu-west-1, us-west-2`);
  });

  it("a change whose stacks all wait has no plan, and is still judged; without the fleet change no plan is an error", () => {
    const c = change([], [doc({ name: "fresh", share: { accounts: [OUTSIDER] }, pointers: [] })]);
    const review = reviewPlans([], { fleetChange: c, stacks: { stackOf: (fleet) => fleet, waiting: ["fresh"] } });
    expect(review.blocked).toBe(true);
    expect(review.dangers.map((d) => d.category)).toEqual(["trust-anchor", "outside-organization", "outside-organization"]);
    // Not waiting, and no plan: every copy and permission of the new fleet is unplanned.
    const skipped = reviewPlans([], { fleetChange: c });
    expect(skipped.dangers.filter((d) => d.category === "unplanned").map((d) => d.message)).toEqual(
      expect.arrayContaining([`the fleet change creates the copy of image v1 in eu-west-1, but no reviewed plan does`]),
    );
    expect(() => reviewPlans([])).toThrow("no plan to review");
  });

  it("a pointer the fleet change removes that no plan deletes is unplanned; one a plan creates that the change does not is unexplained", () => {
    const plan = fixture("pointer-move");
    const pointed = (pointers: object[]) => doc({ name: "pointed", encryption: undefined, share: undefined, organization: undefined, pointers });
    const latest = { key: "latest", parameter: "/golden/pointed/latest", image: "v1" };
    // The fixture's plan moves the pointer in place (no create, no delete): removing it in the file is not what it does.
    const removed = reviewPlans([plan], { fleetChange: change([pointed([latest])], [pointed([])]) });
    expect(removed.dangers.filter((d) => d.category === "unplanned").map((d) => d.address)).toEqual([
      "aws_ssm_parameter.pointer_latest_eu-west-1",
      "aws_ssm_parameter.pointer_latest_us-west-2",
    ]);
    const created = { ...plan, resource_changes: plan.resource_changes.map((rc: any) => (rc.type === "aws_ssm_parameter" ? { ...rc, change: { ...rc.change, actions: ["create"], before: null } } : rc)) };
    const unexplained = reviewPlans([created], { fleetChange: change([pointed([latest])], [pointed([latest])]) });
    expect(unexplained.dangers.filter((d) => d.category === "unexplained").map((d) => d.message)).toEqual([
      expect.stringMatching(/^the plans create pointer \/golden\/pointed\/latest in eu-west-1, which the fleet change does not/),
      expect.stringMatching(/^the plans create pointer \/golden\/pointed\/latest in us-west-2/),
    ]);
    // Reconcile reported them missing: the plan repairs drift.
    const drift = ["eu-west-1", "us-west-2"].map((region) => ({ kind: "pointer-missing", fleet: "pointed", region, parameter: "/golden/pointed/latest" }));
    expect(reviewPlans([created], { fleetChange: change([pointed([latest])], [pointed([latest])]), drift }).dangers.map((d) => d.category)).not.toContain("unexplained");
    // Another pointer, or another fleet's, missing explains nothing here.
    for (const other of [{ parameter: "/golden/other" }, { fleet: "golden" }]) {
      const unrelated = drift.map((d) => ({ ...d, ...other }));
      expect(reviewPlans([created], { fleetChange: change([pointed([latest])], [pointed([latest])]), drift: unrelated }).dangers.map((d) => d.category)).toContain("unexplained");
    }
  });

  it("a recipient stack's KMS grant and snapshot permissions agree with the fleet change that adds the recipient; without it they are unexplained, unless reconcile reported them missing", () => {
    // The real plan of a new recipient's stack (plan-apply.e2e: fleet `crossed`, the owner's key in eu-west-1).
    const plan = fixture("recipient-first");
    const RA = "222233334444";
    const crossed = (recipients: object[]) => ({
      name: "crossed",
      source: { region: "us-east-1", images: [{ key: "v1", amiId: "ami-3198f1757d3d64526" }] },
      regions: [{ region: "eu-west-1", kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/61a07edf-43b0-4612-bad0-d48215804a47" }, "us-west-2"],
      tags: { team: "platform" },
      pointers: [{ key: "current", parameter: "/crossed/current", image: "v1" }],
      recipients,
    });
    const recipient = {
      account: RA,
      kmsKeyIds: { "eu-west-1": `arn:aws:kms:eu-west-1:${RA}:key/ca0bdab3-71bc-4f0d-92f7-c7cfd3a9015d`, "us-west-2": `arn:aws:kms:us-west-2:${RA}:key/f5993f5e-4f5d-4c2b-90cf-0447884bf68b` },
    };
    const agreeing = (review: ReturnType<typeof reviewPlans>) => review.dangers.filter((d) => d.category === "unexplained" || d.category === "unplanned").map((d) => `${d.category} ${d.address}`);
    expect(agreeing(reviewPlans([plan], { fleetChange: change([crossed([])], [crossed([recipient])]) }))).toEqual([]);

    // The same plan when the fleet files did not change: everything it makes is unexplained, the grant and snapshot permissions too.
    const unchanged = change([crossed([recipient])], [crossed([recipient])]);
    const unexplained = agreeing(reviewPlans([plan], { fleetChange: unchanged }));
    expect(unexplained).toEqual(
      expect.arrayContaining([
        `unexplained aws_kms_grant.recipient_${RA}_key_grants_eu-west-1`,
        `unexplained aws_snapshot_create_volume_permission.recipient_${RA}_snapshots_v1_eu-west-1`,
        `unexplained aws_snapshot_create_volume_permission.recipient_${RA}_snapshots_v1_us-west-2`,
      ]),
    );
    const review = reviewPlans([plan], { fleetChange: unchanged });
    expect(review.dangers.find((d) => d.address === `aws_kms_grant.recipient_${RA}_key_grants_eu-west-1`)?.message).toMatch(
      new RegExp(`^the plans create the KMS grant for account ${RA} in eu-west-1, which the fleet change does not`),
    );
    // Reconcile reported the grant and one snapshot's access missing: the plan repairs that drift.
    const drift = [
      { kind: "missing-grant", fleet: "crossed", region: "eu-west-1", account: RA },
      { kind: "missing-snapshot-permission", fleet: "crossed", image: "v1", region: "eu-west-1", account: RA },
    ];
    const repaired = agreeing(reviewPlans([plan], { fleetChange: unchanged, drift }));
    expect(repaired).not.toContain(`unexplained aws_kms_grant.recipient_${RA}_key_grants_eu-west-1`);
    expect(repaired).not.toContain(`unexplained aws_snapshot_create_volume_permission.recipient_${RA}_snapshots_v1_eu-west-1`);
    expect(repaired).toContain(`unexplained aws_snapshot_create_volume_permission.recipient_${RA}_snapshots_v1_us-west-2`);
  });

  it("a KMS grant the fleet change implies that no plan makes, outside a waiting stack, is unplanned", () => {
    const plan = fixture("replace");
    const c = change([doc()], [doc({ share: { accounts: [MEMBER, "777788889999"] } })]);
    expect(c.grants).toHaveLength(2);
    const stackOf = (fleet: string, address: string) => (address.startsWith("aws_kms_grant.") ? `${fleet}-grants-g0` : fleet);
    const unplanned = (waiting: string[]) =>
      reviewPlans([plan], { fleetChange: c, stacks: { stackOf, waiting } }).dangers.filter((d) => d.category === "unplanned" && d.address.startsWith("aws_kms_grant."));
    expect(unplanned([]).map((d) => d.message)).toEqual([
      "the fleet change creates the KMS grant for account 777788889999 in eu-west-1, but no reviewed plan does, and stack golden-grants-g0 is not listed to plan after an apply: plan golden-grants-g0 too (ami-fleet changed lists it)",
      "the fleet change creates the KMS grant for account 777788889999 in us-west-2, but no reviewed plan does, and stack golden-grants-g0 is not listed to plan after an apply: plan golden-grants-g0 too (ami-fleet changed lists it)",
    ]);
    expect(unplanned(["golden-grants-g0"])).toEqual([]);
  });

  it("an owner's copy a plan replaces (a source found anew at plan time) replaces every recipient's copy of it: judged now, though the recipient's stack waits", () => {
    const plan = fixture("replace");
    const withRecipient = doc({ recipients: [{ account: RECIPIENT, regions: ["eu-west-1"] }], organization: { arn: ORG, memberAccounts: [MEMBER, RECIPIENT] } });
    const unchanged = change([withRecipient], [withRecipient]);
    expect(unchanged.copiedBy).toEqual({ golden: { "aws_ami_copy.copy_v1_eu-west-1": [`aws_ami_copy.recipient_${RECIPIENT}_copy_v1_eu-west-1`] } });
    // Another fleet's copy at the same address is not the one its recipients copy.
    const other = change([withRecipient, doc({ name: "other", pointers: [] })], [withRecipient, doc({ name: "other", pointers: [] })]);
    const otherPlan = { ...plan, resource_changes: plan.resource_changes.map((rc: any) => (rc.type === "aws_ami_copy" ? JSON.parse(JSON.stringify(rc).replace(/"ami-fleet:fleet":"golden"/g, '"ami-fleet:fleet":"other"')) : rc)) };
    expect(reviewPlans([otherPlan], { fleetChange: other }).dangers.filter((d) => d.address.includes("recipient_"))).toEqual([]);
    const review = reviewPlans([plan], { fleetChange: unchanged, stacks: { stackOf: (fleet, address) => (address.includes("recipient_") ? `${fleet}-recipient-${RECIPIENT}` : fleet), waiting: [`golden-recipient-${RECIPIENT}`] } });
    const replaced = review.dangers.filter((d) => d.category === "replace");
    expect(replaced.map((d) => `${d.allowed ? "allowed" : "blocking"} ${d.address}`)).toEqual([
      "blocking aws_ami_copy.copy_v1_ap-southeast-2",
      "blocking aws_ami_copy.copy_v1_eu-west-1",
      "blocking aws_ami_copy.copy_v1_us-west-2",
      `blocking aws_ami_copy.recipient_${RECIPIENT}_copy_v1_eu-west-1`,
    ]);
    expect(replaced[3].message).toBe(
      `replaces account ${RECIPIENT}'s own copy of image v1 in eu-west-1 (source_ami_id: it copies aws_ami_copy.copy_v1_eu-west-1, which the plans replace): ` +
        "the old AMI is deregistered after the new one exists, by its stack's plan after this apply",
    );
  });

  it("a copy is known by its fleet and address: another fleet's plan making a copy at the same address neither plans nor explains this fleet's", () => {
    // golden's first plan (fixture `initial`) creates copies of v1 and v2; the fleet change adds fleet `fresh`, whose v1 copies have the same addresses.
    const plan = fixture("initial");
    const fresh = doc({ name: "fresh", encryption: undefined, share: undefined, organization: undefined, pointers: [] });
    const review = reviewPlans([plan], { fleetChange: change([], [fresh]) });
    const agreeing = review.dangers.filter((d) => d.category === "unplanned" || d.category === "unexplained").filter((d) => d.address.startsWith("aws_ami_copy."));
    expect(agreeing.map((d) => `${d.category} ${d.address}`).sort()).toEqual([
      "unexplained aws_ami_copy.copy_v1_eu-west-1",
      "unexplained aws_ami_copy.copy_v1_us-west-2",
      "unexplained aws_ami_copy.copy_v2_eu-west-1",
      "unexplained aws_ami_copy.copy_v2_us-west-2",
      "unplanned aws_ami_copy.copy_v1_eu-west-1",
      "unplanned aws_ami_copy.copy_v1_us-west-2",
    ]);
  });

  it("two stacks' plans are one review: the same dangers as the plans of one stack", () => {
    const plan = fixture("replace");
    const copies = plan.resource_changes.filter((rc: any) => rc.type === "aws_ami_copy");
    const others = plan.resource_changes.filter((rc: any) => rc.type !== "aws_ami_copy");
    const split = [
      { ...plan, resource_changes: copies },
      { ...plan, resource_changes: others, prior_state: undefined, planned_values: { root_module: { resources: [] } } },
    ];
    const c = change([doc()], [doc()]);
    const whole = reviewPlans([plan], { fleetChange: c });
    const parts = reviewPlans(split, { fleetChange: c });
    expect(parts.dangers).toEqual(whole.dangers);
    expect(parts.blocked).toBe(whole.blocked);
  });
});
