import type { LiveImage, LivePermission, LiveRegion, LiveState } from "../live/state";
import { formatAddress } from "../fleet/addresses";
import { desiredCopy } from "../fleet/desired";
import { Fleet, MANAGEMENT_TAGS, SourceImage, TargetRegion } from "../fleet/fleet";
import { describePrincipal, Principal } from "../fleet/principals";
import { DriftError, DriftFinding, DriftResult, Fix, SEVERITIES } from "./findings";

/** Tunables of the comparison. */
export interface DiffOptions {
  /** A copy pending longer than this is reported. @default 120 (minutes) */
  readonly pendingTimeoutMinutes?: number;
}

/**
 * Compares declared fleets with live state. Pure: no I/O, no clock (`state.readAt` is "now").
 * A Region or call that could not be read yields an error and no findings for what it hid.
 */
export function diffFleets(fleets: readonly Fleet[], state: LiveState, options: DiffOptions = {}): DriftResult {
  const errors: DriftError[] = [];
  const report = fleets.map((fleet) => {
    const differ = new FleetDiff(fleet, state, options, errors);
    const findings = sortFindings(differ.run());
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

const FAILED_STATES = new Set(["failed", "error", "invalid", "transient", "deregistered"]);

class FleetDiff {
  private readonly findings: DriftFinding[] = [];
  private readonly now: number;

  constructor(
    private readonly fleet: Fleet,
    private readonly state: LiveState,
    private readonly options: DiffOptions,
    private readonly errors: DriftError[],
  ) {
    this.now = Date.parse(state.readAt);
  }

  run(): DriftFinding[] {
    const sources = this.state.sources[this.fleet.name];
    if (!sources) {
      this.errors.push({ fleet: this.fleet.name, region: this.fleet.sourceRegion, message: "fleet not found in the live state (read it again, or save a state that includes it)" });
      return [];
    }
    for (const [key, source] of Object.entries(sources)) {
      if (source.error) this.errors.push({ fleet: this.fleet.name, region: this.fleet.sourceRegion, message: `source image ${key}: ${source.error}` });
    }
    const targets = new Set(this.fleet.regions.map((r) => r.region));
    for (const target of this.fleet.regions) this.diffRegion(target);
    if (this.state.scanError) this.error(this.fleet.sourceRegion, this.state.scanError);
    // Regions read beyond the targets (--scan-regions): any copy of this fleet there is an orphan.
    for (const [region, live] of Object.entries(this.state.regions)) {
      if (targets.has(region)) continue;
      if (live.error) {
        this.error(region, `cannot read scanned Region (orphans there are unknown): ${live.error}`);
        continue;
      }
      for (const image of live.images.filter((i) => i.tags[MANAGEMENT_TAGS.fleet] === this.fleet.name)) {
        this.orphan(region, image, `${region} is not a target Region of fleet ${this.fleet.name}`);
      }
    }
    return this.findings;
  }

  private error(region: string, message: string): void {
    this.errors.push({ fleet: this.fleet.name, region, message });
  }

  private add(finding: Omit<DriftFinding, "fleet">): void {
    this.findings.push({ fleet: this.fleet.name, ...finding });
  }

  private diffRegion(target: TargetRegion): void {
    const region = target.region;
    const live = this.state.regions[region];
    if (!live) return this.error(region, "Region not in the live state (read it again)");
    if (live.error) return this.error(region, `cannot read Region: ${live.error}`);
    if (live.encryptionByDefault === undefined) {
      this.error(region, `cannot read EBS encryption by default (an encrypted copy of an unencrypted fleet cannot be judged): ${live.encryptionByDefaultError ?? "not in the live state"}`);
    }

    const expectedNames = new Map<string, string>();
    for (const image of this.fleet.images) {
      const amiId = this.sourceAmiOf(image);
      if (amiId) expectedNames.set(desiredCopy(this.fleet, image, target).name(amiId), image.key);
    }
    const byKey = new Map<string, LiveImage[]>();
    const declaredKeys = new Set(this.fleet.images.map((i) => i.key));
    for (const image of live.images) {
      const tagged = image.tags[MANAGEMENT_TAGS.fleet] === this.fleet.name;
      const key = tagged ? image.tags[MANAGEMENT_TAGS.image] : expectedNames.get(image.name ?? "");
      if (!tagged && key === undefined) continue; // another fleet's copy
      if (key === undefined || !declaredKeys.has(key)) {
        this.orphan(region, image, `image key "${key ?? "(none)"}" is not declared in ${this.fleet.file}`);
        continue;
      }
      byKey.set(key, [...(byKey.get(key) ?? []), image]);
    }

    for (const image of this.fleet.images) {
      const copies = byKey.get(image.key) ?? [];
      if (copies.length === 0) {
        // Without the source, the expected name is unknown and the by-name search could not run:
        // a copy that lost its tags may exist, so "missing" would be a guess.
        if (this.sourceAmiOf(image) === undefined) {
          this.error(region, `cannot tell whether image ${image.key} has a copy: none is tagged for it, and its source could not be resolved to look for one by name`);
        } else {
          this.missing(image, target);
        }
        continue;
      }
      const [current, ...extra] = this.rankCopies(image, copies);
      for (const duplicate of extra) this.orphan(region, duplicate, `a second copy of image ${image.key}; the fleet keeps ${current.imageId}`, image.key);
      this.checkCopy(image, target, current, live);
    }
  }

  /** The copy that matches the declared source first, then the newest. */
  private rankCopies(image: SourceImage, copies: LiveImage[]): LiveImage[] {
    const source = this.sourceAmiOf(image);
    const score = (c: LiveImage) => (sourceOfCopy(c) === source ? 1 : 0);
    return [...copies].sort((a, b) => score(b) - score(a) || (b.creationDate ?? "").localeCompare(a.creationDate ?? ""));
  }

  private sourceAmiOf(image: SourceImage): string | undefined {
    return this.state.sources[this.fleet.name]?.[image.key]?.amiId;
  }

  private missing(image: SourceImage, target: TargetRegion): void {
    const source = this.sourceAmiOf(image);
    this.add({
      kind: "missing-copy",
      severity: "high",
      image: image.key,
      region: target.region,
      expected: source ? desiredCopy(this.fleet, image, target).name(source) : `a copy of image ${image.key}`,
      actual: "none",
      message: `no copy of image ${image.key} in ${target.region}`,
      fix: { kind: "deploy", fleet: this.fleet.name, what: `re-creates ${formatAddress(desiredCopy(this.fleet, image, target).address)}` },
    });
  }

  private orphan(region: string, image: LiveImage, why: string, key?: string): void {
    this.add({
      kind: "orphan-copy",
      severity: "medium",
      image: key ?? image.tags[MANAGEMENT_TAGS.image],
      region,
      amiId: image.imageId,
      expected: "no such copy",
      actual: image.name ?? image.imageId,
      message: `${image.imageId} (${image.name ?? "no name"}) belongs to fleet ${this.fleet.name} but is not declared: ${why}`,
      fix: { kind: "deregister", region, imageId: image.imageId },
    });
    const unreadSnapshots = image.snapshotIds.filter((id) => {
      const live = this.state.regions[region];
      return live && live.snapshots[id] === undefined && !live.missingSnapshots?.includes(id);
    });
    if (unreadSnapshots.length > 0) {
      const why = this.state.regions[region]?.snapshotErrors?.[unreadSnapshots[0]] ?? "not in the live state";
      this.error(region, `cannot read the snapshots of ${image.imageId} (${unreadSnapshots.join(", ")}): ${why}`);
    }
    // Whether an orphan is shared with everyone is in its launch permissions: unread, that is unknown.
    if (image.launchPermissions === undefined) {
      this.error(region, `cannot read the launch permissions of ${image.imageId} (is it public?): ${image.permissionsError ?? "unknown error"}`);
    }
    this.checkPublic(region, image, undefined, key);
  }

  private checkCopy(image: SourceImage, target: TargetRegion, copy: LiveImage, live: LiveRegion): void {
    const region = target.region;
    const base = { image: image.key, region, amiId: copy.imageId };
    const replace: Extract<Fix, { kind: "replace" }> = { kind: "replace", fleet: this.fleet.name, address: formatAddress(desiredCopy(this.fleet, image, target).address) };

    const declaredSource = this.sourceAmiOf(image);
    const copySource = sourceOfCopy(copy);
    if (declaredSource && copySource && declaredSource !== copySource) {
      this.add({
        kind: "stale-copy",
        severity: "high",
        ...base,
        expected: declaredSource,
        actual: copySource,
        message: `${copy.imageId} was copied from ${copySource}, the fleet declares ${declaredSource} for image ${image.key}`,
        fix: replace,
      });
    }

    // A failed copy's snapshots say nothing about its intended encryption: report the failure only.
    if (this.checkState(image, target, copy, live, replace)) this.checkEncryption(image, target, copy, live, replace);
    this.checkPermissions(image, target, copy);
    this.checkTags(image, target, copy);
  }

  /**
   * Reports a copy that is not usable; returns false when it failed or its snapshots could not all
   * be read (its encryption is then unknown).
   */
  private checkState(image: SourceImage, target: TargetRegion, copy: LiveImage, live: LiveRegion, replace: Extract<Fix, { kind: "replace" }>): boolean {
    const base = { image: image.key, region: target.region, amiId: copy.imageId };
    const state = copy.state ?? "unknown";
    const gone = copy.snapshotIds.filter((id) => live.missingSnapshots?.includes(id));
    const unread = copy.snapshotIds.filter((id) => live.snapshots[id] === undefined && !gone.includes(id));
    const failedSnapshot = copy.snapshotIds.map((id) => live.snapshots[id]).find((s) => s?.state === "error");
    if (FAILED_STATES.has(state) || failedSnapshot || gone.length > 0) {
      const reason = gone.length > 0
        ? `snapshot ${gone.join(", ")} no longer exists`
        : failedSnapshot?.stateMessage ?? copy.stateReason;
      const failed = failedSnapshot !== undefined || gone.length > 0;
      this.add({
        kind: "copy-state",
        severity: "high",
        ...base,
        expected: "available",
        actual: reason ? `${failed ? "failed" : state}: ${reason}` : state,
        message: `copy ${copy.imageId} is ${failed ? "failed" : state}${reason ? `: ${reason}` : ""}`,
        fix: /key/i.test(reason ?? "") ? { ...replace, grantKeyIn: target.region } : replace,
      });
      return false;
    }
    if (unread.length > 0) {
      // A snapshot's state and key are unknown: neither "failed" nor "encrypted as declared" can be said.
      const why = [...new Set(unread.map((id) => live.snapshotErrors?.[id] ?? "not in the live state"))].join("; ");
      this.error(target.region, `cannot read the snapshots of ${copy.imageId} (${unread.join(", ")}): ${why}`);
    }
    if (state === "pending") {
      const started = Date.parse(copy.creationDate ?? "");
      const minutes = (this.now - started) / 60000;
      const limit = this.options.pendingTimeoutMinutes ?? 120;
      if (Number.isFinite(minutes) && minutes > limit) {
        this.add({
          kind: "copy-state",
          severity: "medium",
          ...base,
          expected: `available within ${limit} minutes`,
          actual: `pending for ${Math.round(minutes)} minutes`,
          message: `copy ${copy.imageId} has been pending for ${Math.round(minutes)} minutes`,
          fix: { kind: "check-pending", region: target.region, imageId: copy.imageId },
        });
      }
      return unread.length === 0;
    }
    if (state === "disabled") {
      this.add({
        kind: "copy-state",
        severity: "high",
        ...base,
        expected: "available",
        actual: "disabled",
        message: `copy ${copy.imageId} is disabled: nobody can launch it`,
        fix: { kind: "enable-image", region: target.region, imageId: copy.imageId },
      });
      return unread.length === 0;
    }
    this.checkDeprecation(image, target, copy);
    return unread.length === 0;
  }

  private checkDeprecation(image: SourceImage, target: TargetRegion, copy: LiveImage): void {
    const base = { image: image.key, region: target.region, amiId: copy.imageId };
    const declared = this.fleet.deprecateAt;
    const live = copy.deprecationTime;
    // EC2 stores the deprecation time rounded to the nearest minute: compare as it stores it.
    const minute = (t: string | undefined) => (t ? Math.round(Date.parse(t) / 60000) : undefined);
    if (minute(declared) === minute(live)) return;
    const deprecatedNow = live !== undefined && Date.parse(live) <= this.now;
    const enable: Fix = { kind: "deprecation", region: target.region, imageId: copy.imageId, ...(declared ? { at: declared } : {}) };
    if (deprecatedNow && (declared === undefined || Date.parse(declared) > this.now)) {
      this.add({
        kind: "copy-state",
        severity: "medium",
        ...base,
        expected: declared ? `deprecated at ${declared}` : "not deprecated",
        actual: `deprecated since ${live}`,
        message: `copy ${copy.imageId} is deprecated since ${live}, earlier than the fleet declares`,
        fix: enable,
      });
      return;
    }
    this.add({
      kind: "deprecation-drift",
      severity: "low",
      ...base,
      expected: declared ?? "no deprecation",
      actual: live ?? "no deprecation",
      message: `copy ${copy.imageId} deprecation time is ${live ?? "unset"}, the fleet declares ${declared ?? "none"}`,
      fix: enable,
    });
  }

  private checkEncryption(image: SourceImage, target: TargetRegion, copy: LiveImage, live: LiveRegion, replace: Extract<Fix, { kind: "replace" }>): void {
    // What the copy must be: the fleet's setting, else its source's encryption when the file states it.
    const declared = target.encrypted ?? image.encrypted;
    if (declared === undefined) return;
    const snapshots = copy.snapshotIds.map((id) => live.snapshots[id]!);
    const base = { image: image.key, region: target.region, amiId: copy.imageId };
    for (const snapshot of snapshots) {
      let actual: string | undefined;
      let expected: string;
      if (declared && !snapshot.encrypted) {
        expected = target.kmsKeyId ? `encrypted with ${target.kmsKeyId}` : "encrypted";
        actual = "unencrypted";
      } else if (declared && target.kmsKeyId && keyIdOf(snapshot.kmsKeyId) !== keyIdOf(target.kmsKeyId)) {
        expected = `encrypted with ${target.kmsKeyId}`;
        actual = `encrypted with ${snapshot.kmsKeyId ?? "an unknown key"}`;
      } else if (!declared && snapshot.encrypted) {
        // EBS encryption by default encrypts every copy with the account's default key: not drift.
        if (live.encryptionByDefault === true) continue;
        // Unread setting: reported once for the Region (above); the copy cannot be judged.
        if (live.encryptionByDefault === undefined) return;
        expected = "unencrypted";
        actual = `encrypted with ${snapshot.kmsKeyId ?? "a key"}`;
      } else {
        continue;
      }
      this.add({
        kind: "encryption-mismatch",
        severity: "high",
        ...base,
        expected,
        actual,
        message: `snapshot ${snapshot.snapshotId} of ${copy.imageId} is ${actual}; the fleet declares ${expected}`,
        fix: replace,
      });
      return; // one finding per copy: every snapshot of a copy gets the same key
    }
  }

  private checkPermissions(image: SourceImage, target: TargetRegion, copy: LiveImage): void {
    const region = target.region;
    if (copy.launchPermissions === undefined) {
      this.error(region, `cannot read the launch permissions of ${copy.imageId}: ${copy.permissionsError ?? "unknown error"}`);
      // DescribeImages was read: a copy it calls public is still reported.
      this.checkPublic(region, copy, target, image.key);
      return;
    }
    const base = { image: image.key, region, amiId: copy.imageId };
    const declared = desiredCopy(this.fleet, image, target).principals;
    const key = (p: Principal | LivePermission) => `${p.kind}\0${p.value}`;
    const liveKeys = new Set(copy.launchPermissions.map(key));
    const declaredKeys = new Set(declared.map(key));
    for (const principal of declared) {
      if (liveKeys.has(key(principal))) continue;
      this.add({
        kind: "missing-permission",
        severity: "medium",
        ...base,
        principal: describePrincipal(principal),
        expected: "granted",
        actual: "not granted",
        message: `${describePrincipal(principal)} cannot launch ${copy.imageId}`,
        fix: { kind: "deploy", fleet: this.fleet.name, what: "re-creates the launch permission" },
      });
    }
    for (const permission of copy.launchPermissions) {
      if (declaredKeys.has(key(permission)) || permission.kind === "public") continue;
      this.add({
        kind: "extra-permission",
        severity: "high",
        ...base,
        principal: describePrincipal(permission),
        expected: "not granted",
        actual: "granted",
        message: `${describePrincipal(permission)} can launch ${copy.imageId} but is not declared (added outside Terraform, which cannot see it)`,
        fix: { kind: "remove-permission", region, imageId: copy.imageId, permission },
      });
    }
    this.checkPublic(region, copy, target, image.key);
  }

  private checkPublic(region: string, image: LiveImage, target: TargetRegion | undefined, key?: string): void {
    const isPublic = image.public === true || (image.launchPermissions ?? []).some((p) => p.kind === "public");
    if (!isPublic || target?.share.public) return;
    this.add({
      kind: "public-image",
      severity: "critical",
      image: key,
      region,
      amiId: image.imageId,
      principal: "public (group all)",
      expected: "private",
      actual: "public",
      message: `${image.imageId} is PUBLIC: every AWS account can launch it, and the fleet does not declare public sharing`,
      fix: { kind: "remove-permission", region, imageId: image.imageId, permission: { kind: "public", value: "all" } },
    });
  }

  private checkTags(image: SourceImage, target: TargetRegion, copy: LiveImage): void {
    // Every declared tag; the source tag only has to be there (its value is the stale-copy check's).
    const { [MANAGEMENT_TAGS.sourceAmi]: _source, ...expected } = desiredCopy(this.fleet, image, target).tags(this.sourceAmiOf(image) ?? "");
    const wrong = Object.entries(expected).filter(([k, v]) => copy.tags[k] !== v);
    if (!(MANAGEMENT_TAGS.sourceAmi in copy.tags)) wrong.push([MANAGEMENT_TAGS.sourceAmi, this.sourceAmiOf(image) ?? ""]);
    if (wrong.length === 0) return;
    const managed = copy.tags[MANAGEMENT_TAGS.fleet] === this.fleet.name;
    this.add({
      kind: "tag-drift",
      severity: "low",
      image: image.key,
      region: target.region,
      amiId: copy.imageId,
      expected: wrong.map(([k, v]) => `${k}=${v}`).join(", "),
      actual: wrong.map(([k]) => (k in copy.tags ? `${k}=${copy.tags[k]}` : `${k} missing`)).join(", "),
      message: `${copy.imageId} has ${wrong.length} tag${wrong.length > 1 ? "s" : ""} that differ from the fleet's`,
      fix: managed
        ? { kind: "deploy", fleet: this.fleet.name, what: "restores the tags" }
        : { kind: "tag", region: target.region, imageId: copy.imageId, tags: wrong },
    });
  }
}

/** The source AMI a copy was made from: its management tag, else EC2's SourceImageId. */
function sourceOfCopy(copy: LiveImage): string | undefined {
  return copy.tags[MANAGEMENT_TAGS.sourceAmi] ?? copy.sourceImageId;
}

/** `arn:aws:kms:r:a:key/ID` and `ID` compare equal. */
function keyIdOf(key: string | undefined): string | undefined {
  return key?.replace(/^arn:[^:]+:kms:[^:]*:\d*:key\//, "");
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
