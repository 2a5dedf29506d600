import { App } from "cdktf";
import * as path from "path";
import { formatProblem, FleetSpecError } from "./lib/spec/errors";
import { DEFAULT_FLEET_DIR, loadFleets } from "./lib/spec/load";
import { FleetStack } from "./stacks/fleet-stack";

/**
 * The cdktf app: every fleet file under fleets/ (or the paths in AMI_FLEET_PATHS, separated by
 * the platform's path delimiter) becomes one stack. An invalid fleet stops synth with the same
 * messages as `ami-fleet validate`, and nothing is written.
 */
function main(): void {
  const paths = process.env.AMI_FLEET_PATHS?.split(path.delimiter).filter(Boolean) ?? [DEFAULT_FLEET_DIR];
  let fleets;
  try {
    fleets = loadFleets(paths);
  } catch (error) {
    if (!(error instanceof FleetSpecError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    process.stderr.write(`ami-fleet: ${error.problems.length} problem(s); nothing was synthesized.\n`);
    process.exit(1);
  }
  const app = new App();
  for (const fleet of fleets) new FleetStack(app, fleet);
  app.synth();
}

main();
