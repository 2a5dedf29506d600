import type { LiveImage, LiveRegion } from "../live/state";
import { parse as parseArn, validate as validateArn } from "@aws-sdk/util-arn-parser";
import { formatAddress } from "../fleet/addresses";
import { DesiredCopy, desiredCopies, DesiredPointer, POINTER_KIND } from "../fleet/desired";
import { Fleet, MANAGEMENT_TAGS, OWNER_COPY_TAG, TargetRegion } from "../fleet/fleet";
import { describePrincipal, permissionAddressOf, Principal } from "../fleet/principals";
import { DriftFinding, Fix } from "./findings";
import { sourceOfCopy } from "./match";

/** Tunables of the comparison. */
export interface DiffOptions {
  /** A copy pending longer than this is reported. @default 120 (minutes) */
  readonly pendingTimeoutMinutes?: number;
}

/** What a recipient's copies are besides the view of the fleet they are checked against. */
export interface RecipientCopyFacts {
  /**
   * The owner's copy each copies, by image key and Region. A copy without its source tag whose EC2
   * `SourceImageId` is that copy was copied from the declared source.
   */
  copiedFrom(imageKey: string, region: string): string | undefined;
  /** Its description (the owner's copy's, naming the account). */
  description(imageKey: string, region: string, sourceAmi: string): string | undefined;
}

/** Where the checks report: findings, and errors for what could not be read. */
export interface CheckSink {
  add(finding: Omit<DriftFinding, "fleet">): void;
  error(region: string, message: string): void;
}

const FAILED_STATES = new Set(["failed", "error", "invalid", "transient", "deregistered"]);

/**
 * The second half of the diff: each check of a matched pair (a desired copy and its live copy),
 * and of an orphan. Pure: what it finds goes to the sink; "now" is the state's read time.
 */
export class CopyChecks {
  constructor(
    private readonly fleet: Fleet,
    /** Source AMI ids by image key, as the reader resolved them. */
    private readonly sources: ReadonlyMap<string, string | undefined>,
    private readonly now: number,
    private readonly options: DiffOptions,
    private readonly sink: CheckSink,
    /** For a recipient's view of the fleet: what differs from the owner's copies. */
    private readonly recipient?: RecipientCopyFacts,
  ) {}

  private add(finding: Omit<DriftFinding, "fleet">): void {
    this.sink.add(finding);
  }

  private error(region: string, message: string): void {
    this.sink.error(region, message);
  }

  /** A live image of the fleet that no desired copy keeps; what could not be read of it is an error. */
  orphan(live: LiveRegion, region: string, image: LiveImage, why: string, key?: string): void {
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
    this.unreadSnapshots(live, region, image);
    // Whether an orphan is shared with everyone is in its launch permissions: unread, that is unknown.
    if (image.launchPermissions === undefined) {
      this.error(region, `cannot read the launch permissions of ${image.imageId} (is it public?): ${image.permissionsError ?? "unknown error"}`);
    }
    this.checkPublic(region, image, undefined, key);
    // Who else can launch it: a principal the fleet declares nowhere is a stranger, named like a copy's.
    const declared = new Set(desiredCopies(this.fleet).flatMap((c) => c.principals.map(principalKey)));
    for (const permission of image.launchPermissions ?? []) {
      if (permission.kind === "public" || declared.has(principalKey(permission))) continue;
      this.add({
        kind: "extra-permission",
        severity: "high",
        image: key ?? image.tags[MANAGEMENT_TAGS.image],
        region,
        amiId: image.imageId,
        principal: describePrincipal(permission),
        expected: "not granted",
        actual: "granted",
        message: `${describePrincipal(permission)} can launch ${image.imageId}, a copy the fleet does not declare, and the fleet shares with it nowhere`,
        fix: { kind: "remove-permission", region, imageId: image.imageId, permission },
      });
    }
  }

  /** Reports the image's snapshots that could not be read, with why; returns them. */
  private unreadSnapshots(live: LiveRegion, region: string, image: LiveImage): string[] {
    const unread = image.snapshotIds.filter((id) => live.snapshots[id] === undefined && !live.missingSnapshots?.includes(id));
    if (unread.length > 0) {
      const why = [...new Set(unread.map((id) => live.snapshotErrors?.[id] ?? "not in the live state"))].join("; ");
      this.error(region, `cannot read the snapshots of ${image.imageId} (${unread.join(", ")}): ${why}`);
    }
    return unread;
  }

  /**
   * A pointer in its Region: it exists and names the copy the fleet keeps of its image. `copy` is
   * that copy, undefined when there is none (reported on its own as missing or unknown).
   */
  checkPointer(desired: DesiredPointer, live: LiveRegion, copy: LiveImage | undefined): void {
    const region = desired.target.region;
    const name = desired.pointer.parameter;
    const unread = live.parameterErrors?.[name] ?? (live.parameters === undefined ? "not in the live state (read it again)" : undefined);
    if (unread !== undefined) {
      this.error(region, `cannot read pointer ${name} (which AMI consumers launch is unknown): ${unread}`);
      return;
    }
    const base = { image: desired.pointer.image, region, parameter: name };
    const fix: Fix = { kind: "deploy", fleet: this.fleet.name, what: `restores ${formatAddress(desired.address)}`, resource: desired.address };
    const value = live.parameters?.[name];
    if (value === undefined) {
      this.add({
        kind: "pointer-missing",
        severity: "high",
        ...base,
        expected: copy?.imageId ?? `the copy of image ${desired.pointer.image}`,
        actual: "none",
        message: `pointer ${name} does not exist in ${region}: launches that resolve it fail`,
        fix,
      });
      return;
    }
    this.checkPointerMeta(desired, live, base, fix);
    if (live.parameterKinds?.[name] !== undefined && (live.parameterKinds[name].type !== POINTER_KIND.type || live.parameterKinds[name].dataType !== POINTER_KIND.dataType)) {
      // Another type or data type: consumers resolving it may get no AMI id (a data type other than aws:ec2:image is not validated as one).
      const kind = live.parameterKinds[name];
      this.add({
        kind: "pointer-drift",
        severity: "high",
        ...base,
        expected: `type ${POINTER_KIND.type}, data type ${POINTER_KIND.dataType}`,
        actual: `type ${kind.type ?? "(none)"}, data type ${kind.dataType ?? "(none)"}`,
        message: `pointer ${name} in ${region} is a ${kind.type ?? "?"} parameter of data type ${kind.dataType ?? "?"}, not the ${POINTER_KIND.type} of data type ${POINTER_KIND.dataType} the fleet keeps`,
        fix,
      });
    } else if (copy !== undefined && value !== copy.imageId) {
      this.add({
        kind: "pointer-drift",
        severity: "high",
        ...base,
        amiId: value,
        expected: copy.imageId,
        actual: value,
        message: `pointer ${name} in ${region} names ${value}, not the copy of image ${desired.pointer.image} (${copy.imageId}): consumers launch another AMI`,
        fix,
      });
    }
  }

  /**
   * An existing pointer's description and tags as Terraform set them (changed out of band, a
   * refreshed plan sets them back); unread, an error.
   */
  private checkPointerMeta(desired: DesiredPointer, live: LiveRegion, base: { image: string; region: string; parameter: string }, fix: Fix): void {
    const name = desired.pointer.parameter;
    const unread = live.parameterMetaErrors?.[name] ?? (live.parameterDescriptions?.[name] === undefined || live.parameterTags?.[name] === undefined ? "not in the live state (read it again)" : undefined);
    if (unread !== undefined) {
      this.error(base.region, `cannot read the description and tags of pointer ${name}: ${unread}`);
      return;
    }
    const description = live.parameterDescriptions![name];
    if (description !== desired.description) {
      this.add({ kind: "description-drift", severity: "low", ...base, expected: desired.description, actual: description || "(none)", message: `pointer ${name} in ${base.region} has another description than the fleet gives it`, fix });
    }
    const tags = live.parameterTags![name];
    const keys = [...new Set([...Object.keys(desired.tags), ...Object.keys(tags)])].sort().filter((k) => tags[k] !== desired.tags[k]);
    if (keys.length > 0) {
      this.add({
        kind: "tag-drift",
        severity: "low",
        ...base,
        expected: keys.map((k) => (k in desired.tags ? `${k}=${desired.tags[k]}` : `no ${k}`)).join(", "),
        actual: keys.map((k) => (k in tags ? `${k}=${tags[k]}` : `${k} missing`)).join(", "),
        message: `pointer ${name} in ${base.region} has ${keys.length} tag${keys.length > 1 ? "s" : ""} that differ from the fleet's`,
        fix,
      });
    }
  }

  /** Every check of a desired copy and the live copy matched to it. */
  checkCopy(desired: DesiredCopy, copy: LiveImage, live: LiveRegion): void {
    const { image, target } = desired;
    const region = target.region;
    const base = { image: image.key, region, amiId: copy.imageId };
    const replace: Extract<Fix, { kind: "replace" }> = { kind: "replace", fleet: this.fleet.name, address: formatAddress(desired.address), resource: desired.address };

    const declaredSource = this.sources.get(image.key);
    const copySource = sourceOfCopy(copy);
    const viaOwner = this.recipient?.copiedFrom(image.key, region);
    const fromOwnersCopy = viaOwner !== undefined && !(MANAGEMENT_TAGS.sourceAmi in copy.tags) && copy.sourceImageId === viaOwner;
    if (declaredSource && copySource && declaredSource !== copySource && !fromOwnersCopy) {
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
    if (this.checkState(desired, copy, live, replace)) this.checkEncryption(desired, copy, live, replace);
    this.checkPermissions(desired, copy);
    this.checkTags(desired, copy);
    this.checkDescription(desired, copy);
  }

  /** The description Terraform set: changed out of band (ModifyImageAttribute), a refreshed plan would set it back. */
  private checkDescription(desired: DesiredCopy, copy: LiveImage): void {
    const { image, target } = desired;
    const source = this.sources.get(image.key);
    // A copy whose source is unknown, or not the declared one (stale-copy), has another expected description.
    if (source === undefined || (sourceOfCopy(copy) !== undefined && sourceOfCopy(copy) !== source && this.recipient === undefined)) return;
    const expected = this.recipient ? this.recipient.description(image.key, target.region, source) : desired.description(source);
    if (expected === undefined || (copy.description ?? "") === expected) return;
    this.add({
      kind: "description-drift",
      severity: "low",
      image: image.key,
      region: target.region,
      amiId: copy.imageId,
      expected,
      actual: copy.description ?? "(none)",
      message: `${copy.imageId}'s description differs from the one the fleet gives it`,
      fix: { kind: "deploy", fleet: this.fleet.name, what: "restores the description", resource: desired.address },
    });
  }

  /**
   * Reports a copy that is not usable; returns false when it failed or its snapshots could not all
   * be read (its encryption is then unknown).
   */
  private checkState(desired: DesiredCopy, copy: LiveImage, live: LiveRegion, replace: Extract<Fix, { kind: "replace" }>): boolean {
    const { image, target } = desired;
    const base = { image: image.key, region: target.region, amiId: copy.imageId };
    const state = copy.state ?? "unknown";
    const gone = copy.snapshotIds.filter((id) => live.missingSnapshots?.includes(id));
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
    // A snapshot's state and key are unknown: neither "failed" nor "encrypted as declared" can be said.
    const unread = this.unreadSnapshots(live, target.region, copy);
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
    this.checkDeprecation(desired, copy);
    return unread.length === 0;
  }

  private checkDeprecation(desired: DesiredCopy, copy: LiveImage): void {
    const { image, target } = desired;
    const base = { image: image.key, region: target.region, amiId: copy.imageId };
    const declared = desired.deprecateAt;
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

  private checkEncryption(desired: DesiredCopy, copy: LiveImage, live: LiveRegion, replace: Extract<Fix, { kind: "replace" }>): void {
    const { image, target } = desired;
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

  private checkPermissions(desired: DesiredCopy, copy: LiveImage): void {
    const { image, target } = desired;
    const region = target.region;
    if (copy.launchPermissions === undefined) {
      this.error(region, `cannot read the launch permissions of ${copy.imageId}: ${copy.permissionsError ?? "unknown error"}`);
      // DescribeImages was read: a copy it calls public is still reported.
      this.checkPublic(region, copy, target, image.key);
      return;
    }
    const base = { image: image.key, region, amiId: copy.imageId };
    const declared = desired.principals;
    const key = principalKey;
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
        fix: { kind: "deploy", fleet: this.fleet.name, what: "re-creates the launch permission", resource: permissionAddressOf(image.key, region, principal) },
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

  private checkTags(desired: DesiredCopy, copy: LiveImage): void {
    const { image, target } = desired;
    const source = this.sources.get(image.key);
    // Every declared tag; the source tag only has to be there (its value is the stale-copy check's).
    const { [MANAGEMENT_TAGS.sourceAmi]: _source, ...expected } = desired.tags(source ?? "");
    const wrong: [string, string | undefined][] = Object.entries(expected).filter(([k, v]) => copy.tags[k] !== v);
    if (!(MANAGEMENT_TAGS.sourceAmi in copy.tags)) wrong.push([MANAGEMENT_TAGS.sourceAmi, source ?? ""]);
    // A tag the fleet does not declare: Terraform manages the whole tag set, and a refreshed plan removes it.
    // (A recipient's copy also carries the owner's copy it was copied from.)
    const declared = new Set([...Object.keys(expected), MANAGEMENT_TAGS.sourceAmi, ...(this.recipient ? [OWNER_COPY_TAG] : [])]);
    for (const key of Object.keys(copy.tags).sort()) if (!declared.has(key)) wrong.push([key, undefined]);
    if (wrong.length === 0) return;
    const managed = copy.tags[MANAGEMENT_TAGS.fleet] === this.fleet.name;
    this.add({
      kind: "tag-drift",
      severity: "low",
      image: image.key,
      region: target.region,
      amiId: copy.imageId,
      expected: wrong.map(([k, v]) => (v === undefined ? `no ${k}` : `${k}=${v}`)).join(", "),
      actual: wrong.map(([k]) => (k in copy.tags ? `${k}=${copy.tags[k]}` : `${k} missing`)).join(", "),
      message: `${copy.imageId} has ${wrong.length} tag${wrong.length > 1 ? "s" : ""} that differ from the fleet's`,
      fix: managed
        ? { kind: "deploy", fleet: this.fleet.name, what: "restores the tags", resource: desired.address }
        : { kind: "tag", region: target.region, imageId: copy.imageId, tags: wrong.filter((w): w is [string, string] => w[1] !== undefined) },
    });
  }
}

const principalKey = (p: Principal) => `${p.kind}\0${p.value}`;

/** `arn:aws:kms:r:a:key/ID` and `ID` compare equal. */
function keyIdOf(key: string | undefined): string | undefined {
  if (key === undefined || !validateArn(key)) return key;
  const arn = parseArn(key);
  return arn.service === "kms" && arn.resource.startsWith("key/") ? arn.resource.slice("key/".length) : key;
}
