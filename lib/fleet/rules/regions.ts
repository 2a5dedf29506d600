import { ProblemSink } from "../errors";
import { Share, TargetRegion } from "../fleet";
import { closestRegion, partitionOf } from "../regions";
import { FleetFile } from "../schema";
import { checkShare, mergeShares } from "./sharing";

/** Rules for the source and target Regions: known names, one partition, no duplicates, the source Region only when explicit. */

/** The source Region's partition; undefined (and a problem) for an unknown Region. */
export function checkSourceRegion(problems: ProblemSink, document: FleetFile): string | undefined {
  const region = document.source.region;
  const partition = partitionOf(region);
  if (!partition) unknownRegion(problems, "source.region", region);
  return partition;
}

/** The target Regions, normalized, each with its share merged into the fleet's; problems for the rest. */
export function checkRegions(problems: ProblemSink, document: FleetFile, partition: string | undefined, fleetShare: Share): TargetRegion[] {
  const seen = new Map<string, number>();
  const regions: TargetRegion[] = [];
  document.regions.forEach((entry, index) => {
    const path = `regions[${index}]`;
    const target = typeof entry === "string" ? { region: entry } : entry;
    const namePath = typeof entry === "string" ? path : `${path}.region`;
    const regionPartition = partitionOf(target.region);
    if (!regionPartition) {
      unknownRegion(problems, namePath, target.region);
      return;
    } else if (partition && regionPartition !== partition) {
      problems.add(
        namePath,
        `${target.region} is in partition ${regionPartition}, the source is in ${partition} (${document.source.region})`,
        "Copies across partitions need another mechanism: remove this Region or use a source in its partition",
      );
      return;
    }
    const previous = seen.get(target.region);
    if (previous !== undefined) {
      problems.add(namePath, `${target.region} is listed twice (also regions[${previous}])`, "List each Region once");
      return;
    }
    seen.set(target.region, index);
    if (target.region === document.source.region && !("allowSourceRegion" in target && target.allowSourceRegion)) {
      problems.add(
        namePath,
        `${target.region} is the source Region: copying an image onto its own Region must be explicit`,
        `Write { region: ${target.region}, allowSourceRegion: true } to copy in place (e.g. to re-encrypt), or remove it`,
      );
    }
    const regionShare = checkShare(problems, "share" in target ? target.share : undefined, `${path}.share`, partition);
    regions.push({
      region: target.region,
      kmsKeyId: "kmsKeyId" in target ? target.kmsKeyId : undefined,
      share: mergeShares(fleetShare, regionShare),
    });
  });
  return regions;
}

function unknownRegion(problems: ProblemSink, path: string, region: string): void {
  const guess = closestRegion(region);
  problems.add(
    path,
    `unknown Region "${region}"`,
    guess ? `Did you mean "${guess}"?` : "Use a Region name such as us-east-1 or eu-west-1",
  );
}
