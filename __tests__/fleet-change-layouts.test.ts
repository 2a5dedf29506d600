import { Testing } from "cdktf";
import * as fc from "fast-check";
import { Fleet } from "../lib/fleet/fleet";
import { STACK_LAYOUTS, StackLayout } from "../lib/project/config";
import { fleetChange, TRUST_ANCHORS } from "../lib/review/fleet-change";
import { reviewPlans } from "../lib/review/plan-review";
import { instanceAddresses } from "../lib/review/synth-summary";
import { addFleetStacks } from "../stacks/fleet-app";
import { fleetOf, keyArn } from "./helpers/fleets";
import { formatAddress, parseAddress } from "../lib/fleet/addresses";
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

/**
 * What the gate promises: over generated base/head pairs (sources, keys, names, Regions, shares,
 * recipients and their Regions and keys, pointers, and every trust anchor), every copy, launch
 * permission, KMS grant, snapshot permission and pointer the head's stacks drop, in any layout, and
 * every copy whose forcing arguments change, yields a blocking danger, judged from the fleet change
 * alone with no plan and every stack waiting; and every change of a trust anchor yields its own.
 */
const richArb = fc
  .record({
    regions: fc.subarray(REGIONS, { minLength: 1 }),
    images: fc.subarray(["v1", "v2"], { minLength: 1 }),
    // v1 from one of two AMIs; v2 found by a lookup, by one of two name patterns.
    v1: fc.constantFrom(SOURCES.v1, "ami-0aaaaaaaaaaaaaaa1"),
    v2Name: fc.constantFrom("golden-*", "golden-v2-*"),
    accounts: fc.subarray(ACCOUNTS),
    organization: fc.boolean(),
    members: fc.subarray([...ACCOUNTS, ...RECIPIENTS]),
    public: fc.boolean(),
    recipients: fc.subarray(RECIPIENTS),
    recipientRegions: fc.subarray(REGIONS),
    recipientKey: fc.boolean(),
    encrypted: fc.boolean(),
    otherKey: fc.boolean(),
    keyPolicy: fc.boolean(),
    acknowledge: fc.boolean(),
    copyName: fc.boolean(),
    pointer: fc.boolean(),
  })
  .map((f) => {
    const key = (region: string) => keyArn(region, f.otherKey && region === f.regions[0] ? "1b5c2f1e-7a4d-4c11-9a3e-2f6d8e4b1c90" : undefined);
    const recipientRegions = f.recipientRegions.filter((r) => f.regions.includes(r));
    const doc = {
      name: "golden",
      source: {
        region: "us-east-1",
        images: f.images.map((k) => (k === "v1" ? { key: k, amiId: f.v1 } : { key: k, lookup: { owners: ["self"], name: f.v2Name, mostRecent: true } })),
      },
      regions: f.regions,
      share: { accounts: f.accounts, organizationArns: f.organization ? [ORG] : [], ...(f.public && !f.encrypted ? { public: true, acknowledgePublic: true } : {}) },
      ...(f.organization || f.members.length > 0 ? { organization: { arn: ORG, memberAccounts: f.members } } : {}),
      encryption: f.encrypted
        ? { encrypted: true, kmsKeyIds: Object.fromEntries(f.regions.map((region) => [region, key(region)])), keyPolicyGrantsRecipients: f.organization || f.keyPolicy }
        : f.acknowledge
          ? { acknowledgeUnencryptedSharing: true }
          : {},
      recipients: f.recipients.map((account) => ({
        account,
        ...(recipientRegions.length > 0 ? { regions: recipientRegions } : {}),
        ...(f.recipientKey ? { kmsKeyIds: Object.fromEntries((recipientRegions.length > 0 ? recipientRegions : f.regions).map((r) => [r, `arn:aws:kms:${r}:${account}:key/2b5c2f1e-7a4d-4c11-9a3e-2f6d8e4b1c90`])) } : {}),
      })),
      ...(f.copyName ? { copyName: "{fleet}-{image}-{region}-{sourceAmi}" } : {}),
      pointers: f.pointer ? [{ key: "latest", parameter: "/golden/latest", image: f.images[0] }] : [],
    };
    return fleetOf(doc);
  });

/** The arguments of `aws_ami_copy` that force a new copy, with a data source's expression read as its configuration. */
const FORCING = ["name", "source_ami_id", "source_ami_region", "encrypted", "kms_key_id"];

/** Every resource instance of a fleet's stacks in a layout, with each owner's copy's forcing arguments. */
function stackInstances(fleet: Fleet, layout: StackLayout): { instances: Set<string>; forcing: Map<string, string> } {
  const app = Testing.app();
  const instances = new Set<string>();
  const forcing = new Map<string, string>();
  for (const stack of addFleetStacks(app, [fleet], { layout, shareGroups: 2, backend: { type: "local" } })) {
    const tf = JSON.parse(Testing.synth(stack));
    for (const a of instanceAddresses(tf)) instances.add(a.replace('["<unknown until plan>"]', ""));
    for (const [name, copy] of Object.entries<any>(tf.resource?.aws_ami_copy ?? {})) {
      const resolve = (v: unknown) => (typeof v === "string" ? v.replace(/\$\{data\.aws_ami\.([\w-]+)\.id\}/g, (_, d) => JSON.stringify(tf.data?.aws_ami?.[d] ?? d)) : v);
      forcing.set(`aws_ami_copy.${name}`, JSON.stringify(FORCING.map((k) => resolve(copy[k]) ?? null)));
    }
  }
  return { instances, forcing };
}

it("every copy, launch permission, grant, snapshot permission and pointer a change drops, and every copy it replaces, is a blocking danger in every layout, planned or waiting; every trust anchor changed is one", () => {
  fc.assert(
    fc.property(richArb, richArb, (base, head) => {
      const change = fleetChange([base], [head]);
      // No plan at all, every stack waiting: the verdict is the fleet change's alone.
      const review = reviewPlans([], { fleetChange: change, stacks: { stackOf: () => "any", waiting: ["any"] } });
      const blocking = review.dangers.filter((d) => !d.allowed);
      const at = (category: string, address: string) => blocking.some((d) => d.category === category && d.address === address);
      const anchorChanged = (field: string) => at("trust-anchor", `golden: ${field}`);
      for (const { field, value } of TRUST_ANCHORS) expect({ field, danger: anchorChanged(field) }).toEqual({ field, danger: value(base) !== value(head) });

      const copyGone = (image: string, region: string, recipient?: string) =>
        at("destroy", formatAddress({ type: "aws_ami_copy", image, region, ...(recipient !== undefined ? { recipient } : {}) }));
      /** A dropped instance is judged at its address, or by the destroy of the copy (or the Region's copies) it serves. */
      const judged = (address: string): boolean => {
        const parsed = parseAddress(address)!;
        if (["destroy", "revoke", "replace"].some((c) => at(c, address))) return true;
        if (parsed.type === "aws_ami_launch_permission" || parsed.type === "aws_snapshot_create_volume_permission") {
          return copyGone(parsed.image, parsed.region) || (parsed.recipient !== undefined && copyGone(parsed.image, parsed.region, parsed.recipient));
        }
        if (parsed.type === "aws_kms_grant") {
          const regionGone = blocking.some((d) => d.category === "destroy" && parseAddress(d.address)?.region === parsed.region && parseAddress(d.address)?.recipient === parsed.recipient);
          return regionGone || anchorChanged("encryption.keyPolicyGrantsRecipients");
        }
        return false;
      };
      const byLayout = STACK_LAYOUTS.map((layout) => {
        const [before, after] = [base, head].map((fleet) => stackInstances(fleet, layout));
        const dropped = [...before.instances].filter((a) => !after.instances.has(a) && /^aws_(ami_copy|ami_launch_permission|kms_grant|snapshot_create_volume_permission|ssm_parameter)\./.test(a));
        const replacedOwners = [...before.forcing].filter(([a, f]) => after.forcing.has(a) && after.forcing.get(a) !== f && parseAddress(a)?.recipient === undefined).map(([a]) => a);
        // A recipient's copy is copied from the owner's: it is replaced with it.
        const replacedRecipients = [...before.forcing.keys()].filter((a) => {
          const parsed = parseAddress(a)!;
          const owner = parsed.type === "aws_ami_copy" && parsed.recipient !== undefined ? formatAddress({ type: "aws_ami_copy", image: parsed.image, region: parsed.region }) : undefined;
          return owner !== undefined && after.forcing.has(a) && (replacedOwners.includes(owner) || before.forcing.get(a) !== after.forcing.get(a));
        });
        const unjudged = [...dropped.filter((a) => !judged(a)), ...[...replacedOwners, ...replacedRecipients].filter((a) => !at("replace", a))];
        expect(unjudged).toEqual([]);
        return dropped.sort();
      });
      for (const dropped of byLayout) expect(dropped).toEqual(byLayout[0]);
    }),
    { numRuns: 30 },
  );
});
