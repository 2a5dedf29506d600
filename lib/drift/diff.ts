import type { LiveImage, LiveState, LiveRegion } from "../live/state";
import { formatAddress, keyGrantName } from "../fleet/addresses";
import { DesiredCopy, desiredGrants, desiredPointers, RECIPIENT_KEY_OPERATIONS, recipientCopies, recipientGrantKey, recipientView } from "../fleet/desired";
import { Fleet, MANAGEMENT_TAGS, OWNER_COPY_TAG, Recipient, TargetRegion } from "../fleet/fleet";
import { accountRootArn, describePrincipal } from "../fleet/principals";
import { recipientStackName } from "../project/layout";
import { CopyChecks, DiffOptions, RecipientCopyFacts } from "./checks";
import { unreadArguments } from "./coverage";
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
    const owner = diffFleet(fleet, state, options, errors);
    const findings = owner.findings.map((finding) => forRecipient(fleet, finding));
    for (const recipient of fleet.recipients) findings.push(...diffRecipient(fleet, recipient, state, owner.kept, options, errors));
    if (fleet.recipients.length > 0) findings.push(...snapshotReaders(fleet, state, owner.kept, errors));
    const unread = fleet.regions.filter((t) => state.regions[t.region] === undefined || state.regions[t.region].error !== undefined).length;
    return { name: fleet.name, findings: sortFindings(findings), coverage: { regions: fleet.regions.length, unreadRegions: unread, unreadArguments: unreadArguments(fleet) } };
  });
  return {
    version: 1,
    inSync: errors.length === 0 && report.every((f) => f.findings.length === 0),
    fleets: report,
    errors: errors.sort(
      (a, b) => a.fleet.localeCompare(b.fleet) || (a.account ?? "").localeCompare(b.account ?? "") || a.region.localeCompare(b.region) || a.message.localeCompare(b.message),
    ),
  };
}

/** The live copy the fleet keeps of each image, by Region then image key: what the checks matched. */
type Kept = Map<string, Map<string, LiveImage>>;

/** `recipient`: for a recipient's view of a fleet, what its copies are besides (see CopyChecks). */
function diffFleet(fleet: Fleet, state: LiveState, options: DiffOptions, errors: DriftError[], recipient?: RecipientCopyFacts): { findings: DriftFinding[]; kept: Kept } {
  const findings: DriftFinding[] = [];
  const kept: Kept = new Map();
  const error = (region: string, message: string) => errors.push({ fleet: fleet.name, region, message, ...(fleet.account !== undefined ? { account: fleet.account } : {}) });
  const sources = state.sources[fleet.name];
  if (!sources) {
    error(fleet.sourceRegion, "fleet not found in the live state (read it again, or save a state that includes it)");
    return { findings, kept };
  }
  for (const [key, source] of Object.entries(sources)) {
    if (source.error) error(fleet.sourceRegion, `source image ${key}: ${source.error}`);
  }
  const resolved = new Map(fleet.images.map((image) => [image.key, sources[image.key]?.amiId]));
  const checks = new CopyChecks(
    fleet,
    resolved,
    Date.parse(state.readAt),
    options,
    { add: (finding) => findings.push({ fleet: fleet.name, ...finding }), error },
    recipient,
  );

  for (const target of fleet.regions) {
    const live = state.regions[target.region];
    if (!live) error(target.region, "Region not in the live state (read it again)");
    else if (live.error) error(target.region, `cannot read Region: ${live.error}`);
    else kept.set(target.region, diffRegion(fleet, target, live, resolved, checks, findings, error));
  }
  if (state.scanError) error(fleet.sourceRegion, state.scanError);
  // Regions read beyond the targets (--scan-regions): any copy of this fleet there is an orphan.
  const targets = new Set(fleet.regions.map((r) => r.region));
  for (const [region, live] of Object.entries(state.regions)) {
    // Only where this fleet's copies were looked for: another fleet's target Region is not scanned for this one.
    if (targets.has(region) || (live.lookedFor !== undefined && !live.lookedFor.includes(fleet.name))) continue;
    if (live.error) {
      error(region, `cannot read scanned Region (orphans there are unknown): ${live.error}`);
      continue;
    }
    for (const image of live.images.filter((i) => i.tags[MANAGEMENT_TAGS.fleet] === fleet.name)) {
      checks.orphan(live, region, image, `${region} is not a target Region of fleet ${fleet.name}`);
    }
  }
  return { findings, kept };
}

/**
 * One recipient: what the owner grants it in each of its Regions (read access to the snapshots of
 * each copy it copies, the grant on the owner's key; its launch permission is among the copies'
 * principals), and its own account diffed as its view of the fleet, where a copy must also have
 * been copied from the owner's copy kept now. What could not be read is an error, never drift.
 */
function diffRecipient(fleet: Fleet, recipient: Recipient, state: LiveState, ownerKept: Kept, options: DiffOptions, errors: DriftError[]): DriftFinding[] {
  const account = recipient.account;
  const stack = recipientStackName(fleet.name, account);
  const findings: DriftFinding[] = [];
  const error = (region: string, message: string) => errors.push({ fleet: fleet.name, region, message, account });
  const deploy = (what: string) => ({ kind: "deploy" as const, fleet: stack, what });
  for (const { region } of recipient.regions) {
    const live = state.regions[region];
    const copies = ownerKept.get(region);
    if (!live || live.error || !copies) continue; // the owner's Region itself is reported unread
    for (const [image, copy] of copies) {
      for (const snapshotId of copy.snapshotIds) {
        const readers = live.snapshotPermissions?.[snapshotId];
        if (readers === undefined) continue; // an error of the Region's (snapshotReaders)
        if (!readers.includes(account)) {
          findings.push({
            fleet: fleet.name,
            kind: "missing-snapshot-permission",
            severity: "high",
            image,
            region,
            amiId: copy.imageId,
            account,
            expected: `account ${account} may copy ${snapshotId}`,
            actual: "not granted",
            message: `account ${account} cannot read snapshot ${snapshotId} of ${copy.imageId}, so it cannot copy the image`,
            fix: deploy("re-creates the snapshot permission"),
          });
        }
      }
    }
    const key = recipientGrantKey(fleet, region);
    if (key === undefined) continue;
    const missing = missingGrant(fleet, live, region, key, account, deploy("re-creates the KMS grant"), error);
    if (missing) findings.push(missing);
  }
  const view = recipientView(fleet, recipient);
  const live = state.accounts?.[account];
  if (!live || live.error) {
    for (const { region } of recipient.regions) error(region, live?.error ?? `account ${account} is not in the live state (read it again)`);
    return findings;
  }
  const wanted = new Map(recipientCopies(fleet, recipient).map((c) => [`${c.owner.image.key}\0${c.copy.target.region}`, c]));
  const facts: RecipientCopyFacts = {
    copiedFrom: (image, region) => ownerKept.get(region)?.get(image)?.imageId,
    description: (image, region, source) => wanted.get(`${image}\0${region}`)?.description(source),
  };
  const own = diffFleet(view, { ...state, regions: live.regions, scanError: undefined }, options, errors, facts);
  for (const finding of own.findings) findings.push({ ...finding, fleet: fleet.name, account, fix: retarget(finding.fix, stack) });
  for (const [region, copies] of own.kept) {
    for (const [image, copy] of copies) {
      const ownerCopy = ownerKept.get(region)?.get(image);
      const from = copy.tags[OWNER_COPY_TAG];
      if (ownerCopy === undefined || from === undefined || from === ownerCopy.imageId) continue;
      findings.push({
        fleet: fleet.name,
        kind: "stale-copy",
        severity: "high",
        image,
        region,
        amiId: copy.imageId,
        account,
        expected: `a copy of ${ownerCopy.imageId}`,
        actual: `a copy of ${from}`,
        message: `account ${account}'s copy ${copy.imageId} of image ${image} was copied from ${from}; the owner's copy is now ${ownerCopy.imageId}`,
        fix: { kind: "replace", fleet: stack, address: formatAddress({ type: "aws_ami_copy", image, region, recipient: account }) },
      });
    }
  }
  return findings;
}

/**
 * The grant one account needs on the key of a Region's copies, when ListGrants shows none with the
 * operations it needs (`missing-grant`); undefined when it is there. Keys whose grants could not be
 * listed are an error: whether the account can use the copies is unknown.
 */
function missingGrant(
  fleet: Fleet,
  live: LiveRegion,
  region: string,
  key: string,
  account: string,
  fix: DriftFinding["fix"],
  error: (region: string, message: string) => void,
): DriftFinding | undefined {
  const grants = live.keyGrants?.[key];
  if (grants === undefined) {
    error(region, `cannot list the grants of key ${key}: ${live.keyGrantErrors?.[key] ?? "not in the live state (read it again)"}`);
    return undefined;
  }
  // A grant is known by its name (the construct names each fleet's own): another fleet's grant to the
  // same account on the same key is not this fleet's, and retiring that one must not go unseen.
  const name = keyGrantName(fleet.name, account);
  const grantee = new Set([account, accountRootArn(fleet.partition, account)]);
  const granted = grants.some(
    (g) => g.name === name && g.granteePrincipal !== undefined && grantee.has(g.granteePrincipal) && RECIPIENT_KEY_OPERATIONS.every((op) => g.operations.includes(op)),
  );
  if (granted) return undefined;
  return {
    fleet: fleet.name,
    kind: "missing-grant",
    severity: "high",
    region,
    account,
    expected: `grant ${name} on ${key} to account ${account} (${RECIPIENT_KEY_OPERATIONS.join(", ")})`,
    actual: "none (revoked or retired)",
    message: `account ${account} has no grant on the key of the copies in ${region}: it cannot copy them, nor launch them`,
    fix,
  };
}

/** The grants of a target Region's key for the accounts the fleet shares its encrypted copies with (`desiredGrants`). */
function shareGrants(fleet: Fleet, target: TargetRegion, live: LiveRegion, error: (region: string, message: string) => void): DriftFinding[] {
  const findings: DriftFinding[] = [];
  for (const { keyId, accounts } of desiredGrants(fleet).filter((g) => g.target.region === target.region)) {
    for (const account of accounts) {
      const resource = { type: "aws_kms_grant" as const, region: target.region, key: account };
      const fix = { kind: "deploy" as const, fleet: fleet.name, what: `re-creates ${formatAddress(resource)}`, resource };
      const missing = missingGrant(fleet, live, target.region, keyId, account, fix, error);
      if (missing) findings.push(missing);
    }
  }
  return findings;
}

/**
 * Accounts that may copy a snapshot of a copy the recipients copy, but are not the fleet's
 * recipients there; and every snapshot whose readers could not be read, as an error (who may copy
 * it is unknown, whether a recipient or a stranger).
 */
function snapshotReaders(fleet: Fleet, state: LiveState, ownerKept: Kept, errors: DriftError[]): DriftFinding[] {
  const findings: DriftFinding[] = [];
  for (const region of fleet.regions.map((t) => t.region)) {
    const live = state.regions[region];
    const declared = new Set(fleet.recipients.filter((r) => r.regions.some((x) => x.region === region)).map((r) => r.account));
    if (declared.size === 0 || !live || live.error) continue;
    for (const [snapshotId, message] of Object.entries(live.snapshotPermissionErrors ?? {})) {
      errors.push({ fleet: fleet.name, region, message: `cannot read who may copy snapshot ${snapshotId}: ${message}` });
    }
    for (const [image, copy] of ownerKept.get(region) ?? []) {
      for (const snapshotId of copy.snapshotIds) {
        if (live.snapshotPermissions?.[snapshotId] === undefined && live.snapshotPermissionErrors?.[snapshotId] === undefined) {
          errors.push({ fleet: fleet.name, region, message: `cannot tell who may copy snapshot ${snapshotId} of ${copy.imageId}: not in the live state (read it again)` });
        }
        for (const reader of live.snapshotPermissions?.[snapshotId] ?? []) {
          // Everyone (`all`) is judged from the public listing, for every copy alike (publicSnapshots).
          if (declared.has(reader) || reader === "all") continue;
          findings.push({
            fleet: fleet.name,
            kind: "extra-snapshot-permission",
            severity: reader === "all" ? "critical" : "high",
            image,
            region,
            amiId: copy.imageId,
            ...(reader !== "all" ? { account: reader } : {}),
            expected: "not granted",
            actual: reader === "all" ? "public: every account may copy it" : `account ${reader} may copy it`,
            message: `snapshot ${snapshotId} of ${copy.imageId} can be copied by ${reader === "all" ? "every AWS account" : `account ${reader}`}, which is not a recipient of the fleet in ${region} (added outside Terraform)`,
            fix: { kind: "remove-snapshot-permission", region, snapshotId, account: reader },
          });
        }
      }
    }
  }
  return findings;
}

/** An owner's finding about a recipient's launch permission, marked with the account and fixed by its stack. */
function forRecipient(fleet: Fleet, finding: DriftFinding): DriftFinding {
  if (finding.kind !== "missing-permission") return finding;
  const recipient = fleet.recipients.find(
    (r) => finding.principal === describePrincipal({ kind: "account", value: r.account }) && r.regions.some((x) => x.region === finding.region),
  );
  return recipient ? { ...finding, account: recipient.account, fix: retarget(finding.fix, recipientStackName(fleet.name, recipient.account)) } : finding;
}

/** A fix that names the fleet's stack, pointed at the recipient's stack instead (the same in every layout). */
function retarget(fix: DriftFinding["fix"], stack: string): DriftFinding["fix"] {
  if (fix.kind !== "deploy" && fix.kind !== "replace") return fix;
  const { resource: _owners, ...rest } = fix;
  return { ...rest, fleet: stack };
}

function diffRegion(
  fleet: Fleet,
  target: TargetRegion,
  live: LiveRegion,
  sources: ReadonlyMap<string, string | undefined>,
  checks: CopyChecks,
  findings: DriftFinding[],
  error: (region: string, message: string) => void,
): Map<string, LiveImage> {
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
  findings.push(
    ...publicSnapshots(
      fleet,
      region,
      live,
      [...match.pairs.map(({ desired, copy }) => ({ image: copy, key: desired.image.key })), ...match.orphans.map((o) => ({ image: o.image, key: o.key ?? o.image.tags[MANAGEMENT_TAGS.image] }))],
      error,
    ),
  );
  for (const pointer of desiredPointers(fleet).filter((p) => p.target.region === region)) {
    checks.checkPointer(pointer, live, kept.get(pointer.pointer.image));
  }
  findings.push(...shareGrants(fleet, target, live, error));
  return kept;
}

/**
 * The fleet's images in a Region (its copies and its orphans) with a snapshot every AWS account may
 * copy: anyone can copy the image's data, whoever may launch it (critical). A Region whose public
 * snapshots could not be listed is an error.
 */
function publicSnapshots(
  fleet: Fleet,
  region: string,
  live: LiveRegion,
  images: readonly { image: LiveImage; key?: string }[],
  error: (region: string, message: string) => void,
): DriftFinding[] {
  if (live.publicSnapshots === undefined) {
    error(region, `cannot list the public snapshots (whether anyone can copy the copies' data is unknown): ${live.publicSnapshotsError ?? "not in the live state (read it again)"}`);
    return [];
  }
  const open = new Set(live.publicSnapshots);
  return images.flatMap(({ image, key }) =>
    image.snapshotIds
      .filter((id) => open.has(id))
      .map(
        (snapshotId): DriftFinding => ({
          fleet: fleet.name,
          kind: "extra-snapshot-permission",
          severity: "critical",
          ...(key !== undefined ? { image: key } : {}),
          region,
          amiId: image.imageId,
          expected: "not granted",
          actual: "public: every account may copy it",
          message: `snapshot ${snapshotId} of ${image.imageId} is PUBLIC: every AWS account can copy it, and so the image's data (made public outside Terraform)`,
          fix: { kind: "remove-snapshot-permission", region, snapshotId, account: "all" },
        }),
      ),
  );
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
    fix: { kind: "deploy", fleet: fleet.name, what: `re-creates ${formatAddress(desired.address)}`, resource: desired.address },
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
