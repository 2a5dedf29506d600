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
