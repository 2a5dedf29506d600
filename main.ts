import { App } from "cdktf";
import * as path from "path";
import { FleetSpecError } from "./lib/fleet/errors";
import { DEFAULT_FLEET_DIR, loadFleets } from "./lib/fleet/load";
import { loadProjectConfig } from "./lib/project/config";
import { fleetStacks } from "./lib/project/layout";
import { FleetStack } from "./stacks/fleet-stack";

/**
 * The cdktf app: every fleet file under fleets/ (or the paths in AMI_FLEET_PATHS, separated by
 * the platform's path delimiter) becomes one stack, or one per Region (`layout: fleet-region` in
 * ami-fleet.config.yaml). An invalid fleet stops synth with the same messages as
 * `ami-fleet validate`, and nothing is written.
 */
function main(): void {
  const paths = process.env.AMI_FLEET_PATHS?.split(path.delimiter).filter(Boolean) ?? [DEFAULT_FLEET_DIR];
  const fleets = loadFleets(paths);
  const loaded = loadProjectConfig(process.cwd());
  if ("problems" in loaded) throw new FleetSpecError(loaded.problems);
  const app = new App();
  const { layout, backend } = loaded.config;
  for (const fleet of fleets) {
    for (const stack of fleetStacks(fleet, layout)) new FleetStack(app, stack.fleet, { backend, name: stack.name });
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
