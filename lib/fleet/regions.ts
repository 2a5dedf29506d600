import { distance as levenshtein } from "fastest-levenshtein";
import * as fs from "fs";
import * as path from "path";
import { partition as sdkPartition } from "@aws-sdk/core/client";

/**
 * AWS Regions by partition, from the AWS SDK's own partition data (the `partitions` of
 * @aws-sdk/core's endpoint rules), so a new Region needs an SDK update, not an ami-fleet release.
 * AMIs are copied within a partition only: a copy across aws / aws-cn / aws-us-gov is a different
 * mechanism (DOMAIN.md, "Copying").
 */

interface PartitionsInfo {
  readonly partitions: readonly {
    readonly id: string;
    readonly regionRegex: string;
    readonly regions: Readonly<Record<string, { readonly description?: string }>>;
  }[];
}

/**
 * The SDK's partition data. @aws-sdk/core exposes `partition(region)` but not the list behind it,
 * which the did-you-mean hint needs; the list ships in the package as a module holding one JSON
 * object. Every Region read from it is checked against `partition()` below, so a change of the
 * package's layout fails loudly (a test covers it) instead of silently accepting nothing.
 */
function loadPartitions(): PartitionsInfo {
  const root = path.dirname(require.resolve("@aws-sdk/core/package.json"));
  const file = path.join(root, "dist-es", "submodules", "client", "util-endpoints", "lib", "aws", "partitions.js");
  const text = fs.readFileSync(file, "utf8");
  return JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1)) as PartitionsInfo;
}

function regionsByPartition(): Record<string, string[]> {
  const byPartition: Record<string, string[]> = {};
  for (const { id, regionRegex, regions } of loadPartitions().partitions) {
    const pattern = new RegExp(regionRegex);
    // Pseudo-Regions such as aws-global are endpoints, not Regions: the partition's Region pattern excludes them.
    const names = Object.keys(regions).filter((name) => pattern.test(name) && sdkPartition(name).name === id);
    if (names.length > 0) byPartition[id] = names.sort();
  }
  if (!byPartition.aws?.includes("us-east-1")) {
    throw new Error("cannot read the AWS SDK's Region list from @aws-sdk/core (its layout changed?): reinstall or update ami-fleet");
  }
  return byPartition;
}

/** Region names by partition id (aws, aws-cn, aws-us-gov, ...), as the installed AWS SDK knows them. */
export const REGIONS_BY_PARTITION: Readonly<Record<string, readonly string[]>> = regionsByPartition();

const PARTITION_OF_REGION: ReadonlyMap<string, string> = new Map(
  Object.entries(REGIONS_BY_PARTITION).flatMap(([partition, regions]) =>
    regions.map((region) => [region, partition] as const),
  ),
);

/** All known Region names, sorted. */
export const KNOWN_REGIONS: readonly string[] = [...PARTITION_OF_REGION.keys()].sort();

/** The partition a Region belongs to, or undefined for an unknown Region. */
export function partitionOf(region: string): string | undefined {
  return PARTITION_OF_REGION.get(region);
}

/** Region names are short: anything longer gets no did-you-mean (and costs no edit distance). */
const LONGEST_HINTED_NAME = 32;

/** The closest known Region name, for "did you mean" hints on typos. */
export function closestRegion(name: string): string | undefined {
  if (name.length > LONGEST_HINTED_NAME) return undefined;
  let best: { region: string; distance: number } | undefined;
  for (const region of KNOWN_REGIONS) {
    const distance = levenshtein(name, region);
    if (!best || distance < best.distance) best = { region, distance };
  }
  return best && best.distance <= 3 ? best.region : undefined;
}

