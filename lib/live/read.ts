import { Image } from "@aws-sdk/client-ec2";
import pLimit = require("p-limit");
import { desiredCopies, desiredGrants, desiredPointers, recipientGrantKey, recipientView } from "../fleet/desired";
import { Fleet, MANAGEMENT_TAGS, SourceImage } from "../fleet/fleet";
import { fromLaunchPermission } from "../fleet/principals";
import { AwsReader, awsErrorCode, describeAwsError, FILTER_VALUES_MAX, PARAMETER_FILTER_VALUES, PARAMETERS_BATCH, SNAPSHOT_BATCH } from "./aws";
import { LIVE_STATE_VERSION, LiveAccount, LiveGrant, LiveImage, LiveRegion, LiveSnapshot, LiveSource, LiveState } from "./state";

/** How the reader runs. */
export interface ReadOptions {
  /** API calls in flight at once in each Region (EC2 throttles per Region). @default 8 */
  readonly concurrency?: number;
  /** The clock, read once for `readAt`. */
  readonly now: () => Date;
  /**
   * Regions to read besides the targets, only to find copies a fleet left there (orphans of a
   * removed Region): every fleet's tag is looked for, no copy is expected. `"all"`: every Region
   * enabled for the account (DescribeRegions).
   */
  readonly scanRegions?: readonly string[] | "all";
  /** Called once the Regions to read are known. */
  readonly onStart?: (regions: readonly string[]) => void;
  /** Called as each Region finishes. */
  readonly onRegionDone?: (region: string, done: number, total: number, error?: string) => void;
  /**
   * The reader of a recipient's account, through its role; required when a fleet has recipients.
   * Each recipient's Regions are read there as its view of the fleet (`recipientView`).
   */
  readonly recipientReader?: (roleArn: string) => AwsReader;
}

type Limit = ReturnType<typeof pLimit>;

/**
 * Reads, for every target Region of the fleets, the copies (by the fleet's management tag, then by
 * expected name for any copy not found so), their launch permissions and backing snapshots, and
 * the account's EBS encryption by default; and resolves lookup and SSM sources the way a plan
 * would. Uses the fewest calls the APIs allow: per Region one DescribeImages page per 1,000 images
 * (all fleets in one filter) and one GetEbsEncryptionByDefault, one DescribeImageAttribute per
 * image, DescribeSnapshots per 200 snapshots, one call per lookup/SSM source.
 *
 * A failed call is recorded as an error where it happened; it never makes a copy look missing, and
 * what the calls that did answer showed is kept.
 */
export async function readLiveState(fleets: readonly Fleet[], aws: AwsReader, options: ReadOptions): Promise<LiveState> {
  // EC2 throttles per account, Region and action: calls are limited per Region, so Regions proceed
  // in parallel and one busy Region does not hold the others back.
  const limits = new Map<string, Limit>();
  const limitIn = (region: string): Limit => limits.get(region) ?? limits.set(region, pLimit(options.concurrency ?? 8)).get(region)!;
  let scanError: string | undefined;
  let scanRegions: readonly string[] = [];
  if (options.scanRegions === "all") {
    try {
      scanRegions = await enabledRegions(fleets, aws, limitIn);
    } catch (error) {
      scanError = `cannot list the Regions enabled for the account (--scan-regions all): ${describeAwsError(error)}`;
    }
  } else {
    scanRegions = options.scanRegions ?? [];
  }

  // Per Region: the fleets whose copies are looked for, and those that expect copies there.
  const fleetsByRegion = new Map<string, { tagged: Fleet[]; expecting: Fleet[] }>();
  const entry = (region: string) => fleetsByRegion.get(region) ?? fleetsByRegion.set(region, { tagged: [], expecting: [] }).get(region)!;
  for (const fleet of fleets) {
    for (const target of fleet.regions) {
      entry(target.region).tagged.push(fleet);
      entry(target.region).expecting.push(fleet);
    }
    for (const region of scanRegions) {
      if (!fleet.regions.some((t) => t.region === region)) entry(region).tagged.push(fleet);
    }
  }
  const regionNames = [...fleetsByRegion.keys()].sort();
  options.onStart?.(regionNames);
  const sources = await resolveSources(fleets, aws, limitIn);
  const regions: Record<string, LiveRegion> = {};
  let done = 0;
  const [, accounts] = await Promise.all([
    Promise.all(
      regionNames.map(async (region) => {
        const { tagged, expecting } = fleetsByRegion.get(region)!;
        regions[region] = await readRegion(region, tagged, expecting, sources, aws, limitIn(region));
        options.onRegionDone?.(region, ++done, regionNames.length, regions[region].error);
      }),
    ),
    readRecipientAccounts(fleets, sources, scanRegions, options),
  ]);
  return {
    version: LIVE_STATE_VERSION,
    readAt: options.now().toISOString(),
    regions: sortKeys(regions),
    sources,
    ...(scanError ? { scanError } : {}),
    ...(Object.keys(accounts).length > 0 ? { accounts } : {}),
  };
}

/**
 * Each recipient's account, through its role: its Regions as its view of each fleet that names it
 * (its copies, their snapshots and launch permissions, its pointers, encryption by default), at
 * the same floor as the owner's Regions. A role that cannot be assumed is the account's error.
 */
async function readRecipientAccounts(
  fleets: readonly Fleet[],
  sources: Record<string, Record<string, LiveSource>>,
  scanRegions: readonly string[],
  options: ReadOptions,
): Promise<Record<string, LiveAccount>> {
  const byAccount = new Map<string, { roleArn: string; views: Fleet[] }>();
  for (const fleet of fleets) {
    for (const recipient of fleet.recipients) {
      const entry = byAccount.get(recipient.account) ?? byAccount.set(recipient.account, { roleArn: recipient.roleArn, views: [] }).get(recipient.account)!;
      entry.views.push(recipientView(fleet, recipient));
    }
  }
  if (byAccount.size === 0) return {};
  const accounts: Record<string, LiveAccount> = {};
  await Promise.all(
    [...byAccount].map(async ([account, { roleArn, views }]) => {
      if (!options.recipientReader) {
        accounts[account] = { roleArn, error: "no reader for recipient accounts was given", regions: {} };
        return;
      }
      const aws = options.recipientReader(roleArn);
      const regionNames = [...new Set(views.flatMap((view) => view.regions.map((t) => t.region)))].sort();
      try {
        await aws.checkCredentials?.(regionNames[0]);
      } catch (error) {
        accounts[account] = { roleArn, error: `cannot assume role ${roleArn}: ${describeAwsError(error)}`, regions: {} };
        return;
      }
      const regions: Record<string, LiveRegion> = {};
      // --scan-regions reaches the recipient's account too: its copies left in a Region it no longer has are orphans.
      const scanned = scanRegions.filter((region) => !regionNames.includes(region));
      await Promise.all([
        ...regionNames.map(async (region) => {
          const here = views.filter((view) => view.regions.some((t) => t.region === region));
          regions[region] = await readRegion(region, here, here, sources, aws, pLimit(options.concurrency ?? 8));
        }),
        ...scanned.map(async (region) => {
          regions[region] = await readRegion(region, views, [], sources, aws, pLimit(options.concurrency ?? 8));
        }),
      ]);
      accounts[account] = { roleArn, regions: sortKeys(regions) };
    }),
  );
  return sortKeys(accounts);
}

/** Every Region enabled for the account, in each partition the fleets use. */
async function enabledRegions(fleets: readonly Fleet[], aws: AwsReader, limitIn: (region: string) => Limit): Promise<string[]> {
  const askIn = new Map<string, string>();
  for (const fleet of fleets) if (!askIn.has(fleet.partition)) askIn.set(fleet.partition, fleet.sourceRegion);
  const lists = await Promise.all([...askIn.values()].map((region) => limitIn(region)(() => aws.describeEnabledRegions(region))));
  return [...new Set(lists.flat())].sort();
}

async function resolveSources(fleets: readonly Fleet[], aws: AwsReader, limitIn: (region: string) => Limit) {
  const sources: Record<string, Record<string, LiveSource>> = {};
  await Promise.all(
    fleets.map(async (fleet) => {
      const byKey: Record<string, LiveSource> = {};
      await Promise.all(
        fleet.images.map(async (image) => {
          byKey[image.key] = await resolveSource(fleet.sourceRegion, image, aws, limitIn(fleet.sourceRegion));
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

/** DescribeImages of our own images with one filter whose values are sent FILTER_VALUES_MAX at a time. */
async function describeOwnImages(aws: AwsReader, limit: Limit, region: string, filter: string, values: readonly string[]): Promise<Image[]> {
  const pages = await Promise.all(
    batchesOf(values, FILTER_VALUES_MAX).map((chunk) =>
      limit(() =>
        aws.describeImages(region, {
          Owners: ["self"],
          Filters: [{ Name: filter, Values: chunk }],
          IncludeDeprecated: true,
          IncludeDisabled: true,
        }),
      ),
    ),
  );
  return pages.flat();
}

async function readRegion(
  region: string,
  fleets: readonly Fleet[],
  expecting: readonly Fleet[],
  sources: Record<string, Record<string, LiveSource>>,
  aws: AwsReader,
  limit: Limit,
): Promise<LiveRegion> {
  const scanned = expecting.length === 0;
  const lookedFor = { lookedFor: fleets.map((f) => f.name).sort() };
  // Encryption by default decides what an unencrypted fleet's copies look like: read beside the images.
  const encryptionByDefault = scanned
    ? Promise.resolve({})
    : limit(() => aws.getEbsEncryptionByDefault(region)).then(
        (enabled) => ({ encryptionByDefault: enabled }),
        (error) => ({ encryptionByDefaultError: describeAwsError(error) }),
      );
  const parameters = readParameters(region, pointerNames(region, expecting), aws, limit);
  // Public snapshots: anyone can copy the image's data, whoever may launch the image.
  const publicSnapshots = scanned
    ? Promise.resolve({})
    : limit(() => aws.describePublicSnapshots(region)).then(
        (ids) => ({ publicSnapshots: ids }),
        (error) => ({ publicSnapshotsError: describeAwsError(error) }),
      );
  let images: Image[];
  try {
    images = await describeOwnImages(aws, limit, region, `tag:${MANAGEMENT_TAGS.fleet}`, fleets.map((f) => f.name).sort());
    // A copy re-created by hand may have lost its tags: look for what is still missing by name.
    const found = new Set(images.map((i) => i.Name));
    const unfound = expectedNames(region, expecting, sources).filter((name) => !found.has(name));
    if (unfound.length > 0) {
      const byName = await describeOwnImages(aws, limit, region, "name", unfound);
      const known = new Set(images.map((i) => i.ImageId));
      images = [...images, ...byName.filter((i) => !known.has(i.ImageId))];
    }
  } catch (error) {
    return { error: describeAwsError(error), ...(scanned ? { scanned } : {}), ...lookedFor, images: [], snapshots: {}, ...(await encryptionByDefault), ...(await parameters), ...(await publicSnapshots) };
  }

  const liveImages = await Promise.all(
    images.map(async (image): Promise<LiveImage> => {
      const base = toLiveImage(image);
      try {
        const permissions = await limit(() => aws.describeLaunchPermissions(region, base.imageId));
        const principals = permissions.map((permission) => ({ permission, principal: fromLaunchPermission(permission) }));
        const unknown = principals.find((p) => p.principal === undefined);
        if (unknown) {
          // A principal kind EC2 added after this model: reading it as none would hide a share.
          return { ...base, permissionsError: `a launch permission of a kind ami-fleet does not know: ${JSON.stringify(unknown.permission)}` };
        }
        return { ...base, launchPermissions: principals.map((p) => p.principal!) };
      } catch (error) {
        return { ...base, permissionsError: describeAwsError(error) };
      }
    }),
  );

  const snapshotIds = [...new Set(liveImages.flatMap((i) => i.snapshotIds))].sort();
  const snapshots: Record<string, LiveSnapshot> = {};
  const missingSnapshots: string[] = [];
  const snapshotErrors: Record<string, string> = {};
  const batches = batchesOf(snapshotIds, SNAPSHOT_BATCH);
  await Promise.all(
    batches.map(async (batch) => {
      const read = await readSnapshotBatch(region, batch, aws, limit);
      for (const snapshot of read.snapshots) snapshots[snapshot.snapshotId] = snapshot;
      missingSnapshots.push(...read.missing);
      for (const id of read.unread) snapshotErrors[id] = read.error!;
    }),
  );
  liveImages.sort((a, b) => a.imageId.localeCompare(b.imageId));
  const access = await readRecipientAccess(region, expecting, liveImages, sources, aws, limit);
  return {
    ...(scanned ? { scanned } : {}),
    ...lookedFor,
    ...access,
    images: liveImages,
    snapshots: sortKeys(snapshots),
    ...(missingSnapshots.length > 0 ? { missingSnapshots: missingSnapshots.sort() } : {}),
    ...(Object.keys(snapshotErrors).length > 0 ? { snapshotErrors: sortKeys(snapshotErrors) } : {}),
    ...(await encryptionByDefault),
    ...(await parameters),
    ...(await publicSnapshots),
  };
}

/** The owner's keys in a Region that carry the fleets' KMS grants: for the share accounts of encrypted copies, and for recipients. */
export function grantKeysIn(region: string, fleets: readonly Fleet[]): string[] {
  const shared = fleets.flatMap((fleet) => desiredGrants(fleet).filter((g) => g.target.region === region).map((g) => g.keyId));
  const recipients = fleets.flatMap((fleet) => (fleet.recipients.some((r) => r.regions.some((x) => x.region === region)) ? recipientGrantKey(fleet, region) ?? [] : []));
  return [...new Set([...shared, ...recipients])].sort();
}

/**
 * What the fleets' accounts need on the owner's side beyond a launch permission: the grants on each
 * key that carries the fleets' KMS grants (ListGrants, per key: the share accounts' and the
 * recipients'), and, for recipients, read access to each snapshot of the fleets' copies (one
 * DescribeSnapshotAttribute per snapshot, there is no batch form).
 */
async function readRecipientAccess(
  region: string,
  fleets: readonly Fleet[],
  images: readonly LiveImage[],
  sources: Record<string, Record<string, LiveSource>>,
  aws: AwsReader,
  limit: Limit,
): Promise<Pick<LiveRegion, "snapshotPermissions" | "snapshotPermissionErrors" | "keyGrants" | "keyGrantErrors">> {
  const withRecipients = fleets.filter((fleet) => fleet.recipients.some((r) => r.regions.some((x) => x.region === region)));
  const keys = grantKeysIn(region, fleets);
  if (withRecipients.length === 0 && keys.length === 0) return {};
  // The copies of those fleets only: tagged for one, or (its tags lost) named as one expects a copy.
  const names = new Set(withRecipients.map((f) => f.name));
  const expected = new Set(expectedNames(region, withRecipients, sources));
  const theirs = images.filter((i) => names.has(i.tags[MANAGEMENT_TAGS.fleet] ?? "") || (i.name !== undefined && expected.has(i.name)));
  const snapshotIds = [...new Set(theirs.flatMap((i) => i.snapshotIds))].sort();
  const snapshotPermissions: Record<string, string[]> = {};
  const snapshotPermissionErrors: Record<string, string> = {};
  const keyGrants: Record<string, LiveGrant[]> = {};
  const keyGrantErrors: Record<string, string> = {};
  await Promise.all([
    ...snapshotIds.map(async (id) => {
      try {
        snapshotPermissions[id] = (await limit(() => aws.describeSnapshotPermissions(region, id))).sort();
      } catch (error) {
        snapshotPermissionErrors[id] = describeAwsError(error);
      }
    }),
    ...keys.map(async (key) => {
      try {
        keyGrants[key] = await limit(() => aws.listGrants(region, key));
      } catch (error) {
        keyGrantErrors[key] = describeAwsError(error);
      }
    }),
  ]);
  return {
    ...(withRecipients.length > 0 ? { snapshotPermissions: sortKeys(snapshotPermissions) } : {}),
    ...(Object.keys(snapshotPermissionErrors).length > 0 ? { snapshotPermissionErrors: sortKeys(snapshotPermissionErrors) } : {}),
    ...(keys.length > 0 ? { keyGrants: sortKeys(keyGrants) } : {}),
    ...(Object.keys(keyGrantErrors).length > 0 ? { keyGrantErrors: sortKeys(keyGrantErrors) } : {}),
  };
}

/** The parameter names of the pointers the fleets keep in a Region. */
function pointerNames(region: string, fleets: readonly Fleet[]): string[] {
  const names = fleets.flatMap((fleet) => desiredPointers(fleet).filter((p) => p.target.region === region).map((p) => p.pointer.parameter));
  return [...new Set(names)].sort();
}

/** The pointers' values, PARAMETERS_BATCH names a call; a failed call's names carry its error. */
async function readParameters(
  region: string,
  names: readonly string[],
  aws: AwsReader,
  limit: Limit,
): Promise<Pick<LiveRegion, "parameters" | "parameterKinds" | "parameterDescriptions" | "parameterTags" | "parameterMetaErrors" | "missingParameters" | "parameterErrors">> {
  if (names.length === 0) return {};
  const values: Record<string, string> = {};
  const kinds: Record<string, { type?: string; dataType?: string }> = {};
  const missing: string[] = [];
  const errors: Record<string, string> = {};
  const batches = batchesOf(names, PARAMETERS_BATCH);
  await Promise.all(
    batches.map(async (batch) => {
      try {
        const read = await limit(() => aws.getParameters(region, batch));
        Object.assign(values, read.values);
        Object.assign(kinds, read.kinds ?? {});
        missing.push(...read.missing);
      } catch (error) {
        for (const name of batch) errors[name] = describeAwsError(error);
      }
    }),
  );
  // Of those that exist: the description (DescribeParameters, 50 names a filter) and the tags (one call each).
  const existing = Object.keys(values).sort();
  const descriptions: Record<string, string> = {};
  const tags: Record<string, Record<string, string>> = {};
  const metaErrors: Record<string, string> = {};
  await Promise.all([
    ...batchesOf(existing, PARAMETER_FILTER_VALUES).map(async (batch) => {
      try {
        const read = await limit(() => aws.describeParameters(region, batch));
        for (const name of batch) {
          if (name in read) descriptions[name] = read[name];
          else metaErrors[name] = "DescribeParameters did not list it";
        }
      } catch (error) {
        for (const name of batch) metaErrors[name] = describeAwsError(error);
      }
    }),
    ...existing.map(async (name) => {
      try {
        tags[name] = sortKeys(await limit(() => aws.listParameterTags(region, name)));
      } catch (error) {
        metaErrors[name] = describeAwsError(error);
      }
    }),
  ]);
  return {
    parameters: sortKeys(values),
    parameterDescriptions: sortKeys(descriptions),
    parameterTags: sortKeys(tags),
    ...(Object.keys(metaErrors).length > 0 ? { parameterMetaErrors: sortKeys(metaErrors) } : {}),
    parameterKinds: sortKeys(kinds),
    ...(missing.length > 0 ? { missingParameters: missing.sort() } : {}),
    ...(Object.keys(errors).length > 0 ? { parameterErrors: sortKeys(errors) } : {}),
  };
}

interface SnapshotBatch {
  readonly snapshots: LiveSnapshot[];
  /** Ids DescribeSnapshots says do not exist. */
  readonly missing: string[];
  /** Ids not read, and why. */
  readonly unread: string[];
  readonly error?: string;
}

/**
 * One DescribeSnapshots batch. A snapshot that no longer exists fails the whole call with
 * InvalidSnapshot.NotFound: the batch is asked again without the ids the error names, or, when it
 * names none (its message may be empty), in halves until the missing ones are alone. So one
 * deleted snapshot neither hides the others nor passes as read.
 */
async function readSnapshotBatch(region: string, batch: readonly string[], aws: AwsReader, limit: Limit): Promise<SnapshotBatch> {
  if (batch.length === 0) return { snapshots: [], missing: [], unread: [] };
  try {
    const found = await limit(() => aws.describeSnapshots(region, batch));
    const snapshots = found.filter((s) => s.SnapshotId && batch.includes(s.SnapshotId)).map(toLiveSnapshot);
    const answered = new Set(snapshots.map((s) => s.snapshotId));
    const unanswered = batch.filter((id) => !answered.has(id));
    // An id asked for and silently left out was not read: never treat it as fine.
    return unanswered.length > 0
      ? { snapshots, missing: [], unread: unanswered, error: `DescribeSnapshots left out ${unanswered.length} of the snapshots asked for` }
      : { snapshots, missing: [], unread: [] };
  } catch (error) {
    if (awsErrorCode(error) !== "InvalidSnapshot.NotFound") return { snapshots: [], missing: [], unread: [...batch], error: describeAwsError(error) };
    if (batch.length === 1) return { snapshots: [], missing: [...batch], unread: [] };
    const named = batch.filter((id) => String((error as Error).message ?? "").includes(id));
    const parts = named.length > 0 ? [batch.filter((id) => !named.includes(id))] : [batch.slice(0, batch.length / 2), batch.slice(batch.length / 2)];
    const results = await Promise.all(parts.map((part) => readSnapshotBatch(region, part, aws, limit)));
    const errors = results.flatMap((r) => (r.error ? [r.error] : []));
    return {
      snapshots: results.flatMap((r) => r.snapshots),
      missing: [...named, ...results.flatMap((r) => r.missing)],
      unread: results.flatMap((r) => r.unread),
      ...(errors.length > 0 ? { error: errors[0] } : {}),
    };
  }
}

/** Names the fleets' copies in a Region should have, for copies whose source is known now. */
function expectedNames(region: string, fleets: readonly Fleet[], sources: Record<string, Record<string, LiveSource>>): string[] {
  const names: string[] = [];
  for (const fleet of fleets) {
    for (const copy of desiredCopies(fleet).filter((c) => c.target.region === region)) {
      const amiId = sources[fleet.name]?.[copy.image.key]?.amiId;
      if (amiId) names.push(copy.name(amiId));
    }
  }
  return names.sort();
}

function toLiveSnapshot(snapshot: { SnapshotId?: string; Encrypted?: boolean; KmsKeyId?: string; State?: string; StateMessage?: string }): LiveSnapshot {
  return {
    snapshotId: snapshot.SnapshotId!,
    encrypted: snapshot.Encrypted,
    kmsKeyId: snapshot.KmsKeyId,
    state: snapshot.State,
    stateMessage: snapshot.StateMessage,
  };
}

function toLiveImage(image: Image): LiveImage {
  return {
    imageId: image.ImageId!,
    name: image.Name,
    ...(image.Description !== undefined ? { description: image.Description } : {}),
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

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  const sorted: Record<string, T> = Object.create(null);
  for (const key of Object.keys(record).sort()) sorted[key] = record[key];
  return { ...sorted };
}

/** `items` in consecutive batches of at most `size` (API limits on ids or values per call). */
function batchesOf<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}
