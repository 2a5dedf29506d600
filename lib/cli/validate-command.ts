import { FleetSpecError } from "../fleet/errors";
import { Fleet } from "../fleet/fleet";
import { fleetAdvice, formatAdvice } from "../fleet/advice";
import { desiredRecipientCopies, fleetCounts } from "../fleet/desired";
import { loadFleets } from "../fleet/load";
import { loadProjectConfig } from "../project/config";
import { layoutAdvice } from "../project/layout";
import { CliIo, EXIT } from "./io";

/**
 * `ami-fleet validate [paths...]`: 0 when every fleet file and the project config
 * (ami-fleet.config.yaml, or AMI_FLEET_CONFIG) are valid (with a line per fleet on stdout), 1
 * otherwise with one line per problem on stderr.
 */
export function validateCommand(paths: readonly string[], io: CliIo): number {
  const fleets = loadOrReport(paths, io);
  // The project config (state backend) is checked too: synth reads it beside the fleets.
  const config = loadProjectConfig(process.cwd());
  if ("problems" in config) io.stderr.write(new FleetSpecError(config.problems).report());
  if (!fleets || "problems" in config) return EXIT.error;
  for (const fleet of fleets) io.stdout.write(`${summarizeFleet(fleet)}\n`);
  const advice = fleets.flatMap((fleet) => [...fleetAdvice(fleet), ...layoutAdvice(fleet, config.config.layout, config.config.shareGroups)]);
  for (const item of advice) io.stderr.write(`${formatAdvice(item)}\n`);
  return EXIT.ok;
}

/** Loads fleets, or writes every problem to stderr and returns undefined. */
export function loadOrReport(paths: readonly string[], io: CliIo): Fleet[] | undefined {
  try {
    return loadFleets(paths);
  } catch (error) {
    if (!(error instanceof FleetSpecError)) throw error;
    io.stderr.write(error.report());
    return undefined;
  }
}

/** `fleets/golden-base.yaml: golden-base: 2 images x 3 Regions = 6 copies, 3 launch permissions, 0 KMS grants` */
export function summarizeFleet(fleet: Fleet): string {
  const { copies, permissions, grants } = fleetCounts(fleet);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return (
    `${fleet.file}: ${fleet.name}: ${plural(fleet.images.length, "image")} x ${plural(fleet.regions.length, "Region")} = ` +
    `${plural(copies, "copy").replace("copys", "copies")}, ${plural(permissions, "launch permission")}, ${plural(grants, "KMS grant")}` +
    (fleet.recipients.length > 0
      ? `; ${plural(desiredRecipientCopies(fleet).length, "recipient copy").replace("copys", "copies")} in ${plural(fleet.recipients.length, "account")}`
      : "")
  );
}
