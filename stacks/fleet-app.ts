import { App } from "cdktf";
import { FleetSpecError } from "../lib/fleet/errors";
import { Fleet } from "../lib/fleet/fleet";
import { ProjectConfig } from "../lib/project/config";
import { fleetStacks } from "../lib/project/layout";
import { FleetStack } from "./fleet-stack";

/**
 * Refuses fleets whose stacks would share a name in the layout (before anything is synthesized:
 * creating the App creates its output folder). Throws a FleetSpecError naming the file and the fix.
 */
export function checkStackNames(fleets: readonly Fleet[], config: ProjectConfig): void {
  const owners = new Map<string, string>();
  for (const fleet of fleets) {
    for (const stack of fleetStacks(fleet, config.layout, config.shareGroups)) {
      const owner = owners.get(stack.name);
      if (owner !== undefined) {
        throw new FleetSpecError([
          {
            file: fleet.file,
            path: "name",
            message: `makes stack ${stack.name}, which ${owner} makes too (layout: ${config.layout})`,
            fix: "Rename one of the fleets so their stack names differ",
          },
        ]);
      }
      owners.set(stack.name, fleet.file);
    }
  }
}

/**
 * Adds every fleet's stacks to `app` in the configured layout (one per fleet; per fleet and Region;
 * or split into copy, share and grant stacks; and one per recipient), each reading the stacks it
 * depends on. Returns the stacks, in the order they deploy.
 */
export function addFleetStacks(app: App, fleets: readonly Fleet[], config: ProjectConfig): FleetStack[] {
  checkStackNames(fleets, config);
  const all: FleetStack[] = [];
  for (const fleet of fleets) {
    const built = new Map<string, FleetStack>();
    for (const stack of fleetStacks(fleet, config.layout, config.shareGroups)) {
      const copyStacks = stack.copyStacks && new Map([...stack.copyStacks].map(([region, name]) => [region, built.get(name)!]));
      const made = new FleetStack(app, stack.fleet, { backend: config.backend, name: stack.name, holds: stack.holds, copyStacks, recipient: stack.recipient });
      built.set(stack.name, made);
      all.push(made);
    }
  }
  return all;
}
