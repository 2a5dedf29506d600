import { Testing } from "cdktf";
import * as fc from "fast-check";
import { Fleet } from "../lib/fleet/fleet";
import { STACK_LAYOUTS, StackLayout } from "../lib/project/config";
import { fleetChange } from "../lib/review/fleet-change";
import { instanceAddresses } from "../lib/review/synth-summary";
import { addFleetStacks } from "../stacks/fleet-app";
import { fleetOf } from "./helpers/fleets";

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
  })
  .map((f) => {
    const doc = {
      name: "golden",
      source: { region: "us-east-1", images: f.images.map((key) => ({ key, amiId: SOURCES[key] })) },
      regions: f.regions.map((region, i) => (i === 0 && f.regionAccount ? { region, share: { accounts: [f.regionAccount] } } : region)),
      share: { accounts: f.accounts, organizationArns: f.organization ? [ORG] : [], ...(f.public ? { public: true, acknowledgePublic: true } : {}) },
      encryption: { acknowledgeUnencryptedSharing: true },
      recipients: f.recipients.map((account) => ({ account })),
    };
    return fleetOf(doc);
  });

/** The launch permission instances of a fleet's stacks in a layout (every stack, synthesized). */
function permissionInstances(fleet: Fleet, layout: StackLayout): string[] {
  const app = Testing.app();
  const stacks = addFleetStacks(app, [fleet], { layout, shareGroups: 2, backend: { type: "local" } });
  return stacks.flatMap((stack) => instanceAddresses(JSON.parse(Testing.synth(stack)))).filter((a) => a.startsWith("aws_ami_launch_permission.")).sort();
}

it("the fleet change's grants and revokes are the permission instances the stacks add and drop, the same in every layout", () => {
  fc.assert(
    fc.property(fleetArb, fleetArb, (base, head) => {
      const [before, after] = [base, head].map((fleet) => {
        const byLayout = STACK_LAYOUTS.map((layout) => permissionInstances(fleet, layout));
        for (const instances of byLayout) expect(instances).toEqual(byLayout[0]);
        return new Set(byLayout[0]);
      });
      const change = fleetChange([base], [head]);
      const addresses = (action: "grant" | "revoke") => change.sharing.filter((s) => s.action === action).map((s) => s.address).sort();
      expect(addresses("grant")).toEqual([...after].filter((a) => !before.has(a)).sort());
      expect(addresses("revoke")).toEqual([...before].filter((a) => !after.has(a)).sort());
    }),
    { numRuns: 40 },
  );
});
