import { App } from "cdktf";
import * as path from "path";
import { FleetSpecError } from "./lib/fleet/errors";
import { DEFAULT_FLEET_DIR, loadFleets } from "./lib/fleet/load";
import { loadProjectConfig } from "./lib/project/config";
import { fleetStacks } from "./lib/project/layout";
import { FleetStack } from "./stacks/fleet-stack";

/**
 * The cdktf app: every fleet file under fleets/ (or the paths in AMI_FLEET_PATHS, separated by
 * the platform's path delimiter) becomes one stack, one per Region (`layout: fleet-region` in
 * ami-fleet.config.yaml), or copy, share and grant stacks (`layout: split`). An invalid fleet stops synth with the same messages as
 * `ami-fleet validate`, and nothing is written.
 */
function main(): void {
  const paths = process.env.AMI_FLEET_PATHS?.split(path.delimiter).filter(Boolean) ?? [DEFAULT_FLEET_DIR];
  const fleets = loadFleets(paths);
  const loaded = loadProjectConfig(process.cwd());
  if ("problems" in loaded) throw new FleetSpecError(loaded.problems);
  const { layout, backend, shareGroups } = loaded.config;
  // Every stack name is checked before the app exists (it creates the output folder).
  const owners = new Map<string, string>();
  const parts = fleets.map((fleet) => fleetStacks(fleet, layout, shareGroups));
  for (const [i, fleet] of fleets.entries()) {
    for (const stack of parts[i]) {
      const owner = owners.get(stack.name);
      if (owner !== undefined) {
        throw new FleetSpecError([
          {
            file: fleet.file,
            path: "name",
            message: `makes stack ${stack.name}, which ${owner} makes too (layout: ${layout})`,
            fix: "Rename one of the fleets so their stack names differ",
          },
        ]);
      }
      owners.set(stack.name, fleet.file);
    }
  }
  const app = new App();
  for (const stacks of parts) {
    const built = new Map<string, FleetStack>();
    for (const stack of stacks) {
      const copyStacks = stack.copyStacks && new Map([...stack.copyStacks].map(([region, name]) => [region, built.get(name)!]));
      built.set(stack.name, new FleetStack(app, stack.fleet, { backend, name: stack.name, holds: stack.holds, copyStacks, recipient: stack.recipient }));
    }
  }
  app.synth();
}

try {
  main();
} catch (error) {
  // A user runs this through `cdktf synth`: clear lines, never a stack trace.
  if (error instanceof FleetSpecError) process.stderr.write(`${error.report()}ami-fleet: nothing was synthesized.\n`);
  else process.stderr.write(`ami-fleet: nothing was synthesized: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
}
