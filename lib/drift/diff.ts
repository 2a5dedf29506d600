import type { LiveState, LiveRegion } from "../live/state";
import { formatAddress } from "../fleet/addresses";
import { DesiredCopy, desiredPointers } from "../fleet/desired";
import { Fleet, MANAGEMENT_TAGS, TargetRegion } from "../fleet/fleet";
import { CopyChecks, DiffOptions } from "./checks";
import { DriftError, DriftFinding, DriftResult, SEVERITIES } from "./findings";
import { matchRegion } from "./match";

export type { DiffOptions } from "./checks";

/**
 * Compares declared fleets with live state. Pure: no I/O, no clock (`state.readAt` is "now").
 * Per fleet and target Region: match the desired copies to the live images (`match.ts`), then
 * check each pair and each orphan (`checks.ts`). A Region or call that could not be read yields an
 * error and no findings for what it hid.
 */
export function diffFleets(fleets: readonly Fleet[], state: LiveState, options: DiffOptions = {}): DriftResult {
  const errors: DriftError[] = [];
  const report = fleets.map((fleet) => {
    const findings = sortFindings(diffFleet(fleet, state, options, errors));
    const unread = fleet.regions.filter((t) => state.regions[t.region] === undefined || state.regions[t.region].error !== undefined).length;
    return { name: fleet.name, findings, coverage: { regions: fleet.regions.length, unreadRegions: unread } };
  });
  return {
    version: 1,
    inSync: errors.length === 0 && report.every((f) => f.findings.length === 0),
    fleets: report,
    errors: errors.sort((a, b) => a.fleet.localeCompare(b.fleet) || a.region.localeCompare(b.region) || a.message.localeCompare(b.message)),
  };
}

function diffFleet(fleet: Fleet, state: LiveState, options: DiffOptions, errors: DriftError[]): DriftFinding[] {
  const findings: DriftFinding[] = [];
  const error = (region: string, message: string) => errors.push({ fleet: fleet.name, region, message });
  const sources = state.sources[fleet.name];
  if (!sources) {
    error(fleet.sourceRegion, "fleet not found in the live state (read it again, or save a state that includes it)");
    return findings;
  }
  for (const [key, source] of Object.entries(sources)) {
    if (source.error) error(fleet.sourceRegion, `source image ${key}: ${source.error}`);
  }
  const resolved = new Map(fleet.images.map((image) => [image.key, sources[image.key]?.amiId]));
  const checks = new CopyChecks(fleet, resolved, Date.parse(state.readAt), options, {
    add: (finding) => findings.push({ fleet: fleet.name, ...finding }),
    error,
  });

  for (const target of fleet.regions) {
    const live = state.regions[target.region];
    if (!live) error(target.region, "Region not in the live state (read it again)");
    else if (live.error) error(target.region, `cannot read Region: ${live.error}`);
    else diffRegion(fleet, target, live, resolved, checks, findings, error);
  }
  if (state.scanError) error(fleet.sourceRegion, state.scanError);
  // Regions read beyond the targets (--scan-regions): any copy of this fleet there is an orphan.
  const targets = new Set(fleet.regions.map((r) => r.region));
  for (const [region, live] of Object.entries(state.regions)) {
    if (targets.has(region)) continue;
    if (live.error) {
      error(region, `cannot read scanned Region (orphans there are unknown): ${live.error}`);
      continue;
    }
    for (const image of live.images.filter((i) => i.tags[MANAGEMENT_TAGS.fleet] === fleet.name)) {
      checks.orphan(live, region, image, `${region} is not a target Region of fleet ${fleet.name}`);
    }
  }
  return findings;
}

function diffRegion(
  fleet: Fleet,
  target: TargetRegion,
  live: LiveRegion,
  sources: ReadonlyMap<string, string | undefined>,
  checks: CopyChecks,
  findings: DriftFinding[],
  error: (region: string, message: string) => void,
): void {
  const region = target.region;
  if (live.encryptionByDefault === undefined) {
    error(region, `cannot read EBS encryption by default (an encrypted copy of an unencrypted fleet cannot be judged): ${live.encryptionByDefaultError ?? "not in the live state"}`);
  }
  const match = matchRegion(fleet, target, live, sources);
  for (const orphan of match.orphans) checks.orphan(live, region, orphan.image, orphan.why, orphan.key);
  for (const desired of match.unknown) {
    error(region, `cannot tell whether image ${desired.image.key} has a copy: none is tagged for it, and its source could not be resolved to look for one by name`);
  }
  for (const desired of match.missing) findings.push(missingCopy(fleet, desired, sources.get(desired.image.key)!));
  for (const { desired, copy } of match.pairs) checks.checkCopy(desired, copy, live);
  const kept = new Map(match.pairs.map(({ desired, copy }) => [desired.image.key, copy]));
  for (const pointer of desiredPointers(fleet).filter((p) => p.target.region === region)) {
    checks.checkPointer(pointer, live, kept.get(pointer.pointer.image));
  }
}

function missingCopy(fleet: Fleet, desired: DesiredCopy, source: string): DriftFinding {
  const { image, target } = desired;
  return {
    fleet: fleet.name,
    kind: "missing-copy",
    severity: "high",
    image: image.key,
    region: target.region,
    expected: desired.name(source),
    actual: "none",
    message: `no copy of image ${image.key} in ${target.region}`,
    fix: { kind: "deploy", fleet: fleet.name, what: `re-creates ${formatAddress(desired.address)}` },
  };
}

function sortFindings(findings: DriftFinding[]): DriftFinding[] {
  const rank = (f: DriftFinding) => SEVERITIES.indexOf(f.severity);
  return findings.sort(
    (a, b) =>
      a.region.localeCompare(b.region) ||
      (a.image ?? "").localeCompare(b.image ?? "") ||
      rank(a) - rank(b) ||
      a.kind.localeCompare(b.kind) ||
      (a.principal ?? "").localeCompare(b.principal ?? ""),
  );
}
