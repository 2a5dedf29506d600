import { Image, LaunchPermission } from "@aws-sdk/client-ec2";
import pLimit = require("p-limit");
import { Fleet, MANAGEMENT_TAGS, renderCopyName, SourceImage } from "../spec/fleet";
import { AwsReader, describeAwsError, SNAPSHOT_BATCH } from "./aws";
import { LiveImage, LivePermission, LiveRegion, LiveSnapshot, LiveSource, LiveState } from "./state";

/** How the reader runs. */
export interface ReadOptions {
  /** API calls in flight at once, across all Regions. @default 8 */
  readonly concurrency?: number;
  /** The clock, read once for `readAt`. */
  readonly now: () => Date;
  /**
   * Regions to read besides the targets, only to find copies a fleet left there (orphans of a
   * removed Region): every fleet's tag is looked for, no copy is expected.
   */
  readonly scanRegions?: readonly string[];
  /** Called as each Region finishes. */
  readonly onRegionDone?: (region: string, done: number, total: number, error?: string) => void;
}

/**
 * Reads, for every target Region of the fleets, the copies (by the fleet's management tag, then by
 * expected name for any copy not found so), their launch permissions and backing snapshots; and
 * resolves lookup and SSM sources the way a plan would. Uses the fewest calls the APIs allow:
 * one DescribeImages per Region (all fleets in one filter), one DescribeImageAttribute per image,
 * DescribeSnapshots in batches, one call per lookup/SSM source. A failed call is recorded as an
 * error where it happened; it never makes a copy look missing.
 */
export async function readLiveState(fleets: readonly Fleet[], aws: AwsReader, options: ReadOptions): Promise<LiveState> {
  const limit = pLimit(options.concurrency ?? 8);
  const sources = await resolveSources(fleets, aws, limit);
  // Per Region: the fleets whose copies are looked for, and those that expect copies there.
  const fleetsByRegion = new Map<string, { tagged: Fleet[]; expecting: Fleet[] }>();
  const entry = (region: string) => fleetsByRegion.get(region) ?? fleetsByRegion.set(region, { tagged: [], expecting: [] }).get(region)!;
  for (const fleet of fleets) {
    for (const target of fleet.regions) {
      entry(target.region).tagged.push(fleet);
      entry(target.region).expecting.push(fleet);
    }
    for (const region of options.scanRegions ?? []) {
      if (!fleet.regions.some((t) => t.region === region)) entry(region).tagged.push(fleet);
    }
  }
  const regionNames = [...fleetsByRegion.keys()].sort();
  const regions: Record<string, LiveRegion> = {};
  let done = 0;
  await Promise.all(
    regionNames.map(async (region) => {
      const { tagged, expecting } = fleetsByRegion.get(region)!;
      regions[region] = await readRegion(region, tagged, expecting, sources, aws, limit);
      options.onRegionDone?.(region, ++done, regionNames.length, regions[region].error);
    }),
  );
  return { version: 1, readAt: options.now().toISOString(), regions: sortKeys(regions), sources };
}

type Limit = ReturnType<typeof pLimit>;

async function resolveSources(fleets: readonly Fleet[], aws: AwsReader, limit: Limit) {
  const sources: Record<string, Record<string, LiveSource>> = {};
  await Promise.all(
    fleets.map(async (fleet) => {
      const byKey: Record<string, LiveSource> = {};
      await Promise.all(
        fleet.images.map(async (image) => {
          byKey[image.key] = await resolveSource(fleet.sourceRegion, image, aws, limit);
        }),
      );
      sources[fleet.name] = sortKeys(byKey);
    }),
  );
  return sortKeys(sources);
}

/** The source AMI id of an image now: literal, the newest lookup match, or the SSM value. */
async function resolveSource(region: string, image: SourceImage, aws: AwsReader, limit: Limit): Promise<LiveSource> {
  const source = image.source;
  try {
    switch (source.kind) {
      case "ami":
        return { amiId: source.amiId };
      case "ssm": {
        const value = await limit(() => aws.getParameter(region, source.parameter));
        return value ? { amiId: value } : { error: `SSM parameter ${source.parameter} in ${region} has no value` };
      }
      case "lookup": {
        const matches = await limit(() =>
          aws.describeImages(region, {
            Owners: [...source.owners],
            Filters: [{ Name: "name", Values: [source.name] }],
          }),
        );
        if (matches.length === 0) return { error: `no AMI named "${source.name}" owned by ${source.owners.join(", ")} in ${region}` };
        if (matches.length > 1 && !source.mostRecent) {
          return { error: `${matches.length} AMIs match "${source.name}" in ${region} and mostRecent is false` };
        }
        const newest = [...matches].sort((a, b) => (b.CreationDate ?? "").localeCompare(a.CreationDate ?? ""))[0];
        return { amiId: newest.ImageId };
      }
    }
  } catch (error) {
    return { error: `cannot resolve source image ${image.key} in ${region}: ${describeAwsError(error)}` };
  }
}

async function readRegion(
  region: string,
  fleets: readonly Fleet[],
  expecting: readonly Fleet[],
  sources: Record<string, Record<string, LiveSource>>,
  aws: AwsReader,
  limit: Limit,
): Promise<LiveRegion> {
  let images: Image[];
  try {
    images = await limit(() =>
      aws.describeImages(region, {
        Owners: ["self"],
        Filters: [{ Name: `tag:${MANAGEMENT_TAGS.fleet}`, Values: fleets.map((f) => f.name).sort() }],
        IncludeDeprecated: true,
        IncludeDisabled: true,
      }),
    );
    // A copy re-created by hand may have lost its tags: look for what is still missing by name.
    const found = new Set(images.map((i) => i.Name));
    const unfound = expectedNames(region, expecting, sources).filter((name) => !found.has(name));
    if (unfound.length > 0) {
      const byName = await limit(() =>
        aws.describeImages(region, {
          Owners: ["self"],
          Filters: [{ Name: "name", Values: unfound }],
          IncludeDeprecated: true,
          IncludeDisabled: true,
        }),
      );
      const known = new Set(images.map((i) => i.ImageId));
      images = [...images, ...byName.filter((i) => !known.has(i.ImageId))];
    }
  } catch (error) {
    return { error: describeAwsError(error), images: [], snapshots: {} };
  }

  const liveImages = await Promise.all(
    images.map(async (image): Promise<LiveImage> => {
      const base = toLiveImage(image);
      try {
        const permissions = await limit(() => aws.describeLaunchPermissions(region, image.ImageId!));
        return { ...base, launchPermissions: permissions.map(toLivePermission) };
      } catch (error) {
        return { ...base, permissionsError: describeAwsError(error) };
      }
    }),
  );

  const snapshotIds = [...new Set(liveImages.flatMap((i) => i.snapshotIds))].sort();
  const snapshots: Record<string, LiveSnapshot> = {};
  let snapshotsError: string | undefined;
  const batches: string[][] = [];
  for (let i = 0; i < snapshotIds.length; i += SNAPSHOT_BATCH) batches.push(snapshotIds.slice(i, i + SNAPSHOT_BATCH));
  await Promise.all(
    batches.map(async (batch) => {
      try {
        for (const snapshot of await limit(() => aws.describeSnapshots(region, batch))) {
          snapshots[snapshot.SnapshotId!] = {
            snapshotId: snapshot.SnapshotId!,
            encrypted: snapshot.Encrypted,
            kmsKeyId: snapshot.KmsKeyId,
            state: snapshot.State,
            stateMessage: snapshot.StateMessage,
          };
        }
      } catch (error) {
        snapshotsError = describeAwsError(error);
      }
    }),
  );
  liveImages.sort((a, b) => a.imageId.localeCompare(b.imageId));
  return { images: liveImages, snapshots: sortKeys(snapshots), snapshotsError };
}

/** Names the fleets' copies in a Region should have, for copies whose source is known now. */
function expectedNames(region: string, fleets: readonly Fleet[], sources: Record<string, Record<string, LiveSource>>): string[] {
  const names: string[] = [];
  for (const fleet of fleets) {
    for (const image of fleet.images) {
      const amiId = sources[fleet.name]?.[image.key]?.amiId;
      if (amiId) names.push(renderCopyName(fleet, image.key, region, amiId));
    }
  }
  return names.sort();
}

function toLiveImage(image: Image): LiveImage {
  return {
    imageId: image.ImageId!,
    name: image.Name,
    state: image.State,
    stateReason: image.StateReason?.Message,
    public: image.Public,
    creationDate: image.CreationDate,
    deprecationTime: image.DeprecationTime,
    sourceImageId: image.SourceImageId,
    tags: sortKeys(Object.fromEntries((image.Tags ?? []).map((t) => [t.Key!, t.Value ?? ""]))),
    snapshotIds: (image.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [])),
  };
}

function toLivePermission(permission: LaunchPermission): LivePermission {
  if (permission.Group === "all") return { kind: "public", value: "all" };
  if (permission.UserId) return { kind: "account", value: permission.UserId };
  if (permission.OrganizationArn) return { kind: "organization", value: permission.OrganizationArn };
  return { kind: "organizational-unit", value: permission.OrganizationalUnitArn ?? "" };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
