import { App } from "cdktf";
import * as path from "path";
import { processIo } from "./lib/cli/io";
import { loadOrReport } from "./lib/cli/validate-command";
import { DEFAULT_FLEET_DIR } from "./lib/fleet/load";
import { FleetStack } from "./stacks/fleet-stack";

/**
 * The cdktf app: every fleet file under fleets/ (or the paths in AMI_FLEET_PATHS, separated by
 * the platform's path delimiter) becomes one stack. An invalid fleet stops synth with the same
 * messages as `ami-fleet validate`, and nothing is written.
 */
function main(): void {
  const paths = process.env.AMI_FLEET_PATHS?.split(path.delimiter).filter(Boolean) ?? [DEFAULT_FLEET_DIR];
  const fleets = loadOrReport(paths, processIo());
  if (!fleets) {
    process.stderr.write("ami-fleet: nothing was synthesized.\n");
    process.exit(1);
  }
  const app = new App();
  for (const fleet of fleets) new FleetStack(app, fleet);
  app.synth();
}

try {
  main();
} catch (error) {
  // A user runs this through `cdktf synth`: a clear line, never a stack trace.
  process.stderr.write(`ami-fleet: nothing was synthesized: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
}
