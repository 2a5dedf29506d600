import { Testing } from "cdktf";
import * as fc from "fast-check";
import { Fleet } from "../lib/fleet/fleet";
import { STACK_LAYOUTS, StackLayout } from "../lib/project/config";
import { fleetChange } from "../lib/review/fleet-change";
import { instanceAddresses } from "../lib/review/synth-summary";
import { addFleetStacks } from "../stacks/fleet-app";
import { fleetOf, keyArn } from "./helpers/fleets";
import { parseAddress } from "../lib/fleet/addresses";
import { stackOf } from "../lib/project/layout";

/**
 * The fleet change is what the review judges sharing by, for every stack, planned or waiting. Over
 * generated pairs of fleets: the launch permissions the change grants and revokes are exactly the
 * permission instances the head's stacks add to and drop from the base's, and those are the same
 * in every layout. So no stack, however the layout splits the fleet, grants a principal the review
 * did not judge.
 */
jest.setTimeout(300_000);

const ORG = "arn:aws:organizations::111122223333:organization/o-abc123def4";
const ACCOUNTS = ["444455556666", "777788889999", "999988887777"];
const RECIPIENTS = ["222233334444", "333344445555"];
const REGIONS = ["eu-west-1", "us-west-2", "ap-southeast-2"];
const SOURCES: Record<string, string> = { v1: "ami-0123456789abcdef0", v2: "ami-0f1e2d3c4b5a69788" };

const fleetArb = fc
  .record({
    regions: fc.subarray(REGIONS, { minLength: 1 }),
    images: fc.subarray(["v1", "v2"], { minLength: 1 }),
    accounts: fc.subarray(ACCOUNTS),
    organization: fc.boolean(),
    public: fc.boolean(),
    regionAccount: fc.option(fc.constantFrom(...ACCOUNTS), { nil: undefined }),
    recipients: fc.subarray(RECIPIENTS),
    // Encrypted with each Region's key: KMS grants for the accounts (or, with an Organization, the key policy admits them).
    encrypted: fc.boolean(),
  })
  .map((f) => {
    const doc = {
      name: "golden",
      source: { region: "us-east-1", images: f.images.map((key) => ({ key, amiId: SOURCES[key] })) },
      regions: f.regions.map((region, i) => (i === 0 && f.regionAccount ? { region, share: { accounts: [f.regionAccount] } } : region)),
      share: { accounts: f.accounts, organizationArns: f.organization ? [ORG] : [], ...(f.public && !f.encrypted ? { public: true, acknowledgePublic: true } : {}) },
      encryption: f.encrypted
        ? { encrypted: true, kmsKeyIds: Object.fromEntries(f.regions.map((region) => [region, keyArn(region)])), keyPolicyGrantsRecipients: f.organization }
        : { acknowledgeUnencryptedSharing: true },
      recipients: f.recipients.map((account) => ({ account })),
    };
    return fleetOf(doc);
  });

/**
 * The instances of a fleet's stacks in a layout (every stack, synthesized) that give someone access:
 * launch permissions, KMS grants, and snapshot permissions as resources (their instances are
 * snapshot ids, known only to a plan).
 */
function accessInstances(fleet: Fleet, layout: StackLayout): string[] {
  const app = Testing.app();
  const stacks = addFleetStacks(app, [fleet], { layout, shareGroups: 2, backend: { type: "local" } });
  return stacks
    .flatMap((stack) => instanceAddresses(JSON.parse(Testing.synth(stack))))
    .filter((a) => /^aws_(ami_launch_permission|kms_grant|snapshot_create_volume_permission)\./.test(a))
    .map((a) => a.replace('["<unknown until plan>"]', ""))
    .sort();
}

it("the fleet change's grants and revokes (launch permissions, KMS grants, snapshot readers) are the instances the stacks add and drop, the same in every layout", () => {
  fc.assert(
    fc.property(fleetArb, fleetArb, (base, head) => {
      const [before, after] = [base, head].map((fleet) => {
        const byLayout = STACK_LAYOUTS.map((layout) => accessInstances(fleet, layout));
        for (const instances of byLayout) expect(instances).toEqual(byLayout[0]);
        return new Set(byLayout[0]);
      });
      const change = fleetChange([base], [head]);
      const addresses = (action: "grant" | "revoke") =>
        [
          ...change.sharing.filter((s) => s.action === action).map((s) => s.address),
          ...change.grants.filter((g) => g.action === action).map((g) => g.address),
          ...change.snapshotReaders.filter((r) => r.action === action).map((r) => r.resource),
        ].sort();
      expect(addresses("grant")).toEqual([...after].filter((a) => !before.has(a)).sort());
      expect(addresses("revoke")).toEqual([...before].filter((a) => !after.has(a)).sort());
    }),
    { numRuns: 40 },
  );
});

it("stackOf names the stack that holds each resource instance, in every layout (remedies and the review rely on it)", () => {
  const doc = (grants: boolean) =>
    fleetOf({
      name: "golden",
      source: { region: "us-east-1", images: [{ key: "v1", amiId: SOURCES.v1 }, { key: "current", lookup: { owners: ["self"], name: "golden-*", mostRecent: true } }] },
      regions: ["eu-west-1", { region: "us-west-2", share: { accounts: ["999988887777"] } }],
      // A KMS grant names accounts only: with an Organization, the key policy must admit it instead.
      encryption: { encrypted: true, kmsKeyIds: { "eu-west-1": keyArn("eu-west-1"), "us-west-2": keyArn("us-west-2") }, keyPolicyGrantsRecipients: !grants },
      share: { accounts: ACCOUNTS.slice(0, 2), organizationArns: grants ? [] : [ORG] },
      pointers: [{ key: "latest", parameter: "/golden/latest", image: "current" }],
      recipients: [{ account: RECIPIENTS[0], regions: ["eu-west-1"] }],
    });
  const fleet = doc(false);
  const withGrants = doc(true);
  for (const subject of [fleet, withGrants]) {
    for (const layout of STACK_LAYOUTS) {
      const app = Testing.app();
      const placed: string[] = [];
      for (const stack of addFleetStacks(app, [subject], { layout, shareGroups: 3, backend: { type: "local" } })) {
        for (const instance of instanceAddresses(JSON.parse(Testing.synth(stack)))) {
          const address = parseAddress(instance.replace('["<unknown until plan>"]', ""));
          expect({ instance, parsed: address !== undefined }).toEqual({ instance, parsed: true });
          placed.push(`${instance} ${stackOf(subject.name, address!, layout, 3) === stack.node.id ? "in its stack" : `not in ${stack.node.id}`}`);
        }
      }
      expect(placed.filter((p) => !p.endsWith("in its stack"))).toEqual([]);
      expect(placed.some((p) => p.startsWith("aws_kms_grant."))).toBe(subject === withGrants);
    }
  }
});
