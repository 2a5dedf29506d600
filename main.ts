import { App } from "cdktf";
import * as path from "path";
import { FleetSpecError } from "./lib/fleet/errors";
import { DEFAULT_FLEET_DIR, loadFleets } from "./lib/fleet/load";
import { loadProjectConfig } from "./lib/project/config";
import { addFleetStacks, checkStackNames } from "./stacks/fleet-app";

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
  // Every stack name is checked before the app exists (it creates the output folder).
  checkStackNames(fleets, loaded.config);
  const app = new App();
  addFleetStacks(app, fleets, loaded.config);
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
