import { createHash } from "crypto";
import { Advice } from "../fleet/advice";
import { fleetCounts } from "../fleet/desired";
import { Fleet, Recipient, Share } from "../fleet/fleet";
import { Principal, principalOfPermission } from "../fleet/principals";
import type { FleetAddress } from "../fleet/addresses";
import { DEFAULT_SHARE_GROUPS, StackLayout } from "./config";

/**
 * Which stacks a fleet becomes. `fleet`: one stack, named after the fleet. `fleet-region`: one
 * stack per target Region, `<fleet>-<region>`, each holding that Region's copies, launch
 * permissions, KMS grants and pointers, so no stack depends on another. Resource addresses are the
 * same in both layouts (they already name the Region), which is what makes moving state from one to
 * the other a `tofu state mv` of each address (README "Stack layout").
 */
export interface FleetStackPart {
  /** The stack's name: its folder under cdktf.out/stacks and its state's name. */
  readonly name: string;
  /**
   * The fleet as this stack sees it: every Region, or the stack's one Region; in a share or grant
   * stack of the split layout, only its share group's principals (and a share stack's one image).
   */
  readonly fleet: Fleet;
  /** The kinds of resource the stack holds. */
  readonly holds: StackHolds;
  /**
   * Where a stack that holds launch permissions but not the copies reads each copy's id: the copy
   * stack of each Region (its `copies_<image>` output), by Region.
   */
  readonly copyStacks?: ReadonlyMap<string, string>;
  /**
   * A recipient stack: the recipient's copies and pointers (through its role) and the owner's
   * launch permission, snapshot permissions and grant for it, in every one of its Regions. It holds
   * none of the owner's own kinds, and reads the owner's copies from `copyStacks`.
   */
  readonly recipient?: Recipient;
}

/** The kinds of resource a stack holds. */
export interface StackHolds {
  /** The copies (with the source data sources and their preconditions). */
  readonly copies: boolean;
  readonly permissions: boolean;
  readonly grants: boolean;
  /** Pointers hold a copy's id, so they live with the copies. */
  readonly pointers: boolean;
}

const EVERYTHING: StackHolds = { copies: true, permissions: true, grants: true, pointers: true };
const NOTHING: StackHolds = { copies: false, permissions: false, grants: false, pointers: false };

/**
 * The stacks of a fleet in a layout. In `split`, the copy stacks come first and every share or
 * grant stack names the copy stacks it reads (`copyStacks`), so cdktf deploys them after.
 */
export function fleetStacks(fleet: Fleet, layout: StackLayout, shareGroups = DEFAULT_SHARE_GROUPS): FleetStackPart[] {
  const owned = ownerStacks(fleet, layout, shareGroups);
  // Recipients, in every layout: one stack each, after the stacks that hold the owner's copies.
  const copyStacks = new Map(
    fleet.regions.map((target) => [target.region, layout === "fleet" ? fleet.name : regionStackName(fleet.name, target.region)]),
  );
  const recipients = fleet.recipients.map((recipient) => ({
    name: recipientStackName(fleet.name, recipient.account),
    fleet,
    holds: NOTHING,
    copyStacks: new Map(recipient.regions.map(({ region }) => [region, copyStacks.get(region)!])),
    recipient,
  }));
  return [...owned, ...recipients];
}

/** The stacks of the owner's own resources (copies, launch permissions, grants, pointers). */
function ownerStacks(fleet: Fleet, layout: StackLayout, shareGroups: number): FleetStackPart[] {
  if (layout === "fleet") return [{ name: fleet.name, fleet, holds: EVERYTHING }];
  const regionStacks = fleet.regions.map((target) => ({ name: regionStackName(fleet.name, target.region), fleet: { ...fleet, regions: [target] } }));
  if (layout === "fleet-region") return regionStacks.map((stack) => ({ ...stack, holds: EVERYTHING }));
  const copyStacks = new Map(regionStacks.map((stack) => [stack.fleet.regions[0].region, stack.name]));
  const stacks: FleetStackPart[] = regionStacks.map((stack) => ({ ...stack, holds: { copies: true, permissions: false, grants: false, pointers: true } }));
  const grouped = (group: number): Fleet => ({
    ...fleet,
    share: shareOfGroup(fleet.share, group, shareGroups),
    regions: fleet.regions.map((target) => ({ ...target, share: shareOfGroup(target.share, group, shareGroups) })),
  });
  for (const image of fleet.images) {
    for (let group = 0; group < shareGroups; group++) {
      const part: Fleet = { ...grouped(group), images: [image] };
      // A recipient's launch permission is in its own stack: a group of recipients alone holds nothing here.
      if (fleetCounts({ ...part, recipients: [] }).permissions === 0) continue;
      stacks.push({
        name: shareStackName(fleet.name, image.key, group),
        fleet: part,
        holds: { copies: false, permissions: true, grants: false, pointers: false },
        copyStacks,
      });
    }
  }
  for (let group = 0; group < shareGroups; group++) {
    const part = grouped(group);
    if (fleetCounts(part).grants === 0) continue;
    stacks.push({ name: grantStackName(fleet.name, group), fleet: part, holds: { copies: false, permissions: false, grants: true, pointers: false } });
  }
  return stacks;
}

/**
 * The share group of a principal in the split layout: a hash of the principal alone, so adding
 * or removing one principal never moves another to a different stack (and changing the number of
 * groups moves most: README "Stack layout").
 */
export function shareGroupOf(principal: Principal, shareGroups: number): number {
  const digest = createHash("sha256").update(`${principal.kind}:${principal.value}`).digest();
  return digest.readUInt32BE(0) % shareGroups;
}

/**
 * The stack that holds a fleet resource in a layout: the one a remedy deploys, and a plan of the
 * change must cover. A recipient's resources are in its stack in every layout; in `split` a launch
 * permission is in its image's share stack of its principal's group, a KMS grant in its account's
 * grant stack, copies and pointers in their Region's stack.
 */
export function stackOf(fleetName: string, address: FleetAddress, layout: StackLayout, shareGroups = DEFAULT_SHARE_GROUPS): string {
  if (address.recipient !== undefined) return recipientStackName(fleetName, address.recipient);
  if (layout === "fleet") return fleetName;
  if (layout === "fleet-region") return regionStackName(fleetName, address.region);
  switch (address.type) {
    case "aws_ami_launch_permission": {
      const principal = principalOfPermission(address.group, address.key);
      // The resource as a whole (no instance key) spans the groups: its Region's stack names the fleet's part there.
      return principal ? shareStackName(fleetName, address.image, shareGroupOf(principal, shareGroups)) : regionStackName(fleetName, address.region);
    }
    case "aws_kms_grant":
      return address.key !== undefined ? grantStackName(fleetName, shareGroupOf({ kind: "account", value: address.key }, shareGroups)) : regionStackName(fleetName, address.region);
    default:
      return regionStackName(fleetName, address.region);
  }
}

function shareOfGroup(share: Share, group: number, shareGroups: number): Share {
  const inGroup = (principal: Principal) => shareGroupOf(principal, shareGroups) === group;
  return {
    accounts: share.accounts.filter((value) => inGroup({ kind: "account", value })),
    organizationArns: share.organizationArns.filter((value) => inGroup({ kind: "organization", value })),
    organizationalUnitArns: share.organizationalUnitArns.filter((value) => inGroup({ kind: "organizational-unit", value })),
    public: share.public && inGroup({ kind: "public", value: "all" }),
  };
}

/** `<fleet>-shares-<image>-g<group>`: one image version's launch permissions for one share group. */
export function shareStackName(fleetName: string, imageKey: string, group: number): string {
  return `${fleetName}-shares-${imageKey}-g${group}`;
}

/** `<fleet>-grants-g<group>`: the KMS grants of one share group's accounts, in every Region. */
export function grantStackName(fleetName: string, group: number): string {
  return `${fleetName}-grants-g${group}`;
}

/** `<fleet>-recipient-<account>`: one recipient's copies and pointers, and the owner's grants to it. */
export function recipientStackName(fleetName: string, account: string): string {
  return `${fleetName}-recipient-${account}`;
}

/** `<fleet>-<region>`: unique, because a Region name never ends with `-<another Region>`. */
export function regionStackName(fleetName: string, region: string): string {
  return `${fleetName}-${region}`;
}

/**
 * Resource instances in one stack above which `validate` advises the Region layout. OpenTofu plans
 * every instance of a stack, even without refresh: measured here (README "Performance"), a
 * 4,020-instance stack plans in about 25 s, a 120,600-instance one had not in 24 minutes.
 */
export const LARGE_STACK_INSTANCES = 10_000;

/** Managed resource instances a stack of `fleet` holds: copies, launch permissions, KMS grants, pointers. */
export function stackInstances(fleet: Fleet, holds: StackHolds = EVERYTHING): number {
  const counts = fleetCounts(fleet);
  return (Object.keys(counts) as (keyof StackHolds)[]).reduce((n, kind) => n + (holds[kind] ? counts[kind] : 0), 0);
}

/**
 * A stack too large to plan in reasonable time, with the layouts that would make every stack
 * smaller than this layout's largest (and by how much).
 */
export function layoutAdvice(fleet: Fleet, layout: StackLayout, shareGroups = DEFAULT_SHARE_GROUPS): Advice[] {
  const largestIn = (chosen: StackLayout) => {
    const sizes = fleetStacks(fleet, chosen, shareGroups).map((stack) => ({ name: stack.name, instances: stackInstances(stack.fleet, stack.holds) }));
    return { stacks: sizes.length, largest: sizes.reduce((a, b) => (b.instances > a.instances ? b : a)) };
  };
  const current = largestIn(layout);
  if (current.largest.instances <= LARGE_STACK_INSTANCES) return [];
  const better = (["fleet-region", "split"] as const)
    .filter((other) => other !== layout)
    .map((other) => ({ other, ...largestIn(other) }))
    .filter(({ largest }) => largest.instances < current.largest.instances);
  if (better.length === 0) return [];
  const options = better.map(({ other, stacks, largest }) => `layout: ${other} splits it into ${stacks} stacks of at most ${largest.instances}`).join("; ");
  return [
    {
      file: fleet.file,
      path: "regions",
      message:
        `stack ${current.largest.name} holds ${current.largest.instances} resource instances, and every plan of it goes through each one (a 4,020-instance ` +
        `stack plans in about 25 s, a 120,600-instance one did not in 24 minutes; README "Performance"); in ami-fleet.config.yaml, ${options} (README "Stack layout")`,
    },
  ];
}
