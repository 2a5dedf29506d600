import { Advice } from "../fleet/advice";
import { fleetCounts } from "../fleet/desired";
import { Fleet } from "../fleet/fleet";
import { StackLayout } from "./config";

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
  /** The fleet as this stack sees it: every Region, or the stack's one Region. */
  readonly fleet: Fleet;
}

export function fleetStacks(fleet: Fleet, layout: StackLayout): FleetStackPart[] {
  if (layout === "fleet") return [{ name: fleet.name, fleet }];
  return fleet.regions.map((target) => ({ name: regionStackName(fleet.name, target.region), fleet: { ...fleet, regions: [target] } }));
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
export function stackInstances(fleet: Fleet): number {
  const { copies, permissions, grants, pointers } = fleetCounts(fleet);
  return copies + permissions + grants + pointers;
}

/** A stack too large to plan in reasonable time, when the Region layout would split it. */
export function layoutAdvice(fleet: Fleet, layout: StackLayout): Advice[] {
  if (layout !== "fleet" || fleet.regions.length < 2) return [];
  const instances = stackInstances(fleet);
  if (instances <= LARGE_STACK_INSTANCES) return [];
  const largest = Math.max(...fleetStacks(fleet, "fleet-region").map((stack) => stackInstances(stack.fleet)));
  return [
    {
      file: fleet.file,
      path: "regions",
      message:
        `stack ${fleet.name} holds ${instances} resource instances, and every plan of it goes through each one (a 4,020-instance ` +
        `stack plans in about 25 s, a 120,600-instance one did not in 24 minutes; README "Performance"); layout: fleet-region in ` +
        `ami-fleet.config.yaml splits it into ${fleet.regions.length} stacks of at most ${largest} (README "Stack layout")`,
    },
  ];
}
