import type { LiveImage, LiveRegion } from "../live/state";
import { DesiredCopy, desiredCopy } from "../fleet/desired";
import { Fleet, MANAGEMENT_TAGS, TargetRegion } from "../fleet/fleet";

/**
 * Matches a fleet's desired copies in one Region to the images read there: the first half of the
 * diff (the checks in `checks.ts` are the second). Pure.
 *
 * A live image belongs to the fleet by its fleet tag, or (a copy that lost its tags) by the name
 * the fleet expects for it; it belongs to a declared image by its image tag or that name.
 */
export interface RegionMatch {
  /** Desired copies and the live copy that stands for each. */
  readonly pairs: readonly { readonly desired: DesiredCopy; readonly copy: LiveImage }[];
  /** Desired copies with no live copy, whose source is known (so the by-name search ran). */
  readonly missing: readonly DesiredCopy[];
  /** Desired copies with no tagged copy and an unresolved source: whether one exists is unknown. */
  readonly unknown: readonly DesiredCopy[];
  /** The fleet's live images that no desired copy keeps, each with why. */
  readonly orphans: readonly Orphan[];
}

/** A live image of the fleet that no desired copy keeps. */
export interface Orphan {
  readonly image: LiveImage;
  readonly why: string;
  /** The declared image key it duplicates, when it is a second copy of one. */
  readonly key?: string;
}

/** Source AMI ids of the fleet's images, by image key, as resolved by the reader. */
export type ResolvedSources = ReadonlyMap<string, string | undefined>;

/** Matches one Region: pairs, missing and unknown desired copies, and orphans. */
export function matchRegion(fleet: Fleet, target: TargetRegion, live: LiveRegion, sources: ResolvedSources): RegionMatch {
  const desired = fleet.images.map((image) => desiredCopy(fleet, image, target));
  const expectedNames = new Map<string, string>();
  for (const copy of desired) {
    const amiId = sources.get(copy.image.key);
    if (amiId) expectedNames.set(copy.name(amiId), copy.image.key);
  }
  const declaredKeys = new Set(fleet.images.map((i) => i.key));
  const byKey = new Map<string, LiveImage[]>();
  const orphans: Orphan[] = [];
  for (const image of live.images) {
    const tagged = image.tags[MANAGEMENT_TAGS.fleet] === fleet.name;
    const key = tagged ? image.tags[MANAGEMENT_TAGS.image] : expectedNames.get(image.name ?? "");
    if (!tagged && key === undefined) continue; // another fleet's copy
    if (key === undefined || !declaredKeys.has(key)) {
      orphans.push({ image, why: `image key "${key ?? "(none)"}" is not declared in ${fleet.file}` });
      continue;
    }
    byKey.set(key, [...(byKey.get(key) ?? []), image]);
  }

  const pairs: { desired: DesiredCopy; copy: LiveImage }[] = [];
  const missing: DesiredCopy[] = [];
  const unknown: DesiredCopy[] = [];
  for (const copy of desired) {
    const source = sources.get(copy.image.key);
    const candidates = byKey.get(copy.image.key) ?? [];
    if (candidates.length === 0) {
      // Without the source, the expected name is unknown and the by-name search could not run:
      // a copy that lost its tags may exist, so "missing" would be a guess.
      (source === undefined ? unknown : missing).push(copy);
      continue;
    }
    const [current, ...extra] = rankCopies(candidates, source, source === undefined ? undefined : copy.name(source));
    for (const duplicate of extra) {
      orphans.push({ image: duplicate, why: `a second copy of image ${copy.image.key}; the fleet keeps ${current.imageId}`, key: copy.image.key });
    }
    pairs.push({ desired: copy, copy: current });
  }
  return { pairs, missing, unknown, orphans };
}

/** The source AMI a copy was made from: its management tag, else EC2's SourceImageId. */
export function sourceOfCopy(copy: LiveImage): string | undefined {
  return copy.tags[MANAGEMENT_TAGS.sourceAmi] ?? copy.sourceImageId;
}

/**
 * The fleet's own copy first: the one with the name the fleet gives it (unique per account and
 * Region, so Terraform's), then one of the declared source, then the newest. A copy made by hand
 * with the fleet's tags is never preferred to the one Terraform manages, whose remedy as an orphan
 * would be to deregister it.
 */
function rankCopies(copies: readonly LiveImage[], source: string | undefined, expectedName: string | undefined): LiveImage[] {
  const score = (c: LiveImage) => (expectedName !== undefined && c.name === expectedName ? 2 : 0) + (sourceOfCopy(c) === source ? 1 : 0);
  return [...copies].sort((a, b) => score(b) - score(a) || (b.creationDate ?? "").localeCompare(a.creationDate ?? ""));
}
