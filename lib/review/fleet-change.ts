import { formatAddress, parseAddress } from "../fleet/addresses";
import {
  copyForcingArguments,
  DesiredCopy,
  desiredCopies,
  desiredGrants,
  desiredPointers,
  DesiredPointer,
  recipientCopies,
  recipientCopyForcingArguments,
  recipientGrantKey,
  recipientPointers,
  recipientView,
} from "../fleet/desired";
import { Fleet } from "../fleet/fleet";
import { describePrincipal, outsideOrganization, permissionAddressOf, Principal, sharePrincipals } from "../fleet/principals";
import type { DangerCategory } from "./plan-review";

/**
 * The verdicts the fleet change gives: who gains or loses the right to launch a copy, who gets
 * copies of their own, which copies are deleted or remade, which pointers move or lose their name,
 * and which trust anchors change (judged against the base's, never the head's). Judged from the base and head
 * fleet files, so they do not depend on how the stacks are split, on which stacks a change plans,
 * or on which wait for another's apply: a share stack that cannot be planned yet is judged all the
 * same. Pure: fleets in, changes and dangers out.
 */

/** The danger categories judged from the fleet change; a plan's own verdicts in them give way. */
export const FLEET_CHANGE_CATEGORIES: ReadonlySet<DangerCategory> = new Set(["public", "outside-organization", "unencrypted-shared", "recipient", "trust-anchor", "revoke"]);

/**
 * What decides that a change is safe, as a fleet file says it: the Organization whose members may be
 * granted without a danger, the acknowledgement that lets unencrypted copies be shared, and the
 * promise that the key policies admit the accounts (no KMS grants). The gate judges a change against
 * the target branch's anchors, never the change's own: a change of one is a `trust-anchor` danger.
 * (`share.acknowledgePublic` is not one: it only lets validation pass, and every new public
 * principal blocks the review whatever the file says.)
 */
export const TRUST_ANCHORS: readonly { readonly field: string; readonly value: (fleet: Fleet) => string | undefined; readonly decides: string }[] = [
  {
    field: "organization",
    // Members as a set: listing them in another order changes nothing the review judges.
    value: (f) =>
      f.organization
        ? `${f.organization.arn}${f.organization.memberAccounts ? ` with member accounts ${[...new Set(f.organization.memberAccounts)].sort().join(", ") || "(none)"}` : " (member accounts not listed)"}`
        : undefined,
    decides: "which principals are granted without an outside-organization danger",
  },
  {
    field: "encryption.acknowledgeUnencryptedSharing",
    value: (f) => (f.acknowledgeUnencryptedSharing ? "true" : undefined),
    decides: "whether sharing unencrypted copies passes the review",
  },
  {
    field: "encryption.keyPolicyGrantsRecipients",
    value: (f) => (f.keyPolicyGrantsRecipients ? "true" : undefined),
    decides: "whether the accounts get KMS grants or are trusted to be admitted by the key policies",
  },
];

/** A danger of the fleet change (`acknowledged`: the fleet file accepts it). */
export interface ChangeDanger {
  readonly category: DangerCategory;
  readonly address: string;
  readonly message: string;
  readonly acknowledged?: boolean;
}

/** A launch permission the change grants or revokes on one copy of the owner's. */
export interface SharingChange {
  readonly fleet: string;
  readonly image: string;
  readonly region: string;
  /** `account 444455556666`, `organization arn:...`, `public (group all)`. */
  readonly principal: string;
  /** The `aws_ami_launch_permission` instance that does it, the same in every layout. */
  readonly address: string;
  readonly action: "grant" | "revoke";
  /** The recipient account it is for, when it lets a recipient copy the copy. */
  readonly recipient?: string;
}

/** A recipient account added to a fleet, or given copies in more Regions, or removed. */
export interface RecipientChange {
  readonly fleet: string;
  readonly account: string;
  readonly action: "add" | "remove";
  /** The Regions it gains (add) or loses (remove). */
  readonly regions: readonly string[];
}

/** A copy the change adds or removes: the owner's, or a recipient's own. */
export interface CopyChangeOfFleet {
  readonly fleet: string;
  readonly image: string;
  readonly region: string;
  /** The `aws_ami_copy` instance, the same in every layout. */
  readonly address: string;
  readonly action: "create" | "destroy";
  readonly recipient?: string;
}

/** A pointer the change adds or removes (in the owner's account or a recipient's). */
export interface PointerChangeOfFleet {
  readonly fleet: string;
  readonly pointer: string;
  readonly region: string;
  /** The `aws_ssm_parameter` instance, the same in every layout. */
  readonly address: string;
  readonly action: "create" | "destroy";
}

/**
 * A KMS grant the change creates or retires on the owner's key: for a share account of an encrypted
 * Region (`aws_kms_grant.key_grants_<region>["<account>"]`), or for a recipient.
 */
export interface GrantChangeOfFleet {
  readonly fleet: string;
  readonly region: string;
  readonly account: string;
  /** The `aws_kms_grant` instance, the same in every layout. */
  readonly address: string;
  readonly action: "grant" | "revoke";
}

/**
 * A recipient's read access to the snapshots of one owner's copy, given or taken: the
 * `aws_snapshot_create_volume_permission` resource as a whole (its instances are the copy's
 * snapshots, known only to a plan).
 */
export interface SnapshotReadersChange {
  readonly fleet: string;
  readonly image: string;
  readonly region: string;
  readonly recipient: string;
  /** The resource's address, without an instance key. */
  readonly resource: string;
  readonly action: "grant" | "revoke";
}

/** What a fleet change does to copies, sharing, key grants, snapshot readers, recipients and pointers, with its dangers. */
export interface FleetChange {
  readonly copies: readonly CopyChangeOfFleet[];
  readonly pointers: readonly PointerChangeOfFleet[];
  readonly sharing: readonly SharingChange[];
  readonly grants: readonly GrantChangeOfFleet[];
  readonly snapshotReaders: readonly SnapshotReadersChange[];
  readonly recipients: readonly RecipientChange[];
  readonly dangers: readonly ChangeDanger[];
  /**
   * The head's recipients' copies, by fleet and then by the owner's copy each copies (addresses: an
   * address names a resource within its fleet's stacks, and two fleets have the same ones): a plan
   * that replaces an owner's copy (a source found anew at plan time) replaces these too, though
   * their stacks wait.
   */
  readonly copiedBy: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

interface Grantee {
  readonly principal: Principal;
  readonly address: string;
  readonly recipient?: string;
}

/** Who may launch a copy: its share's principals, and each recipient that copies it. */
function granteesOf(fleet: Fleet, copy: DesiredCopy): Grantee[] {
  const { key: image } = copy.image;
  const { region } = copy.target;
  const shared = sharePrincipals(copy.target.share).map((principal) => ({ principal, address: formatAddress(permissionAddressOf(image, region, principal)) }));
  const recipients = fleet.recipients
    .filter((r) => r.regions.some((x) => x.region === region))
    .map((r) => {
      const principal: Principal = { kind: "account", value: r.account };
      return { principal, address: formatAddress(permissionAddressOf(image, region, principal, r.account)), recipient: r.account };
    });
  return [...shared, ...recipients];
}

const copyKey = (copy: DesiredCopy) => `${copy.image.key}\0${copy.target.region}`;

/** Compares the fleets of the base and of the head (a fleet absent from one side is new, or removed). */
export function fleetChange(base: readonly Fleet[], head: readonly Fleet[]): FleetChange {
  const copies: CopyChangeOfFleet[] = [];
  const pointers: PointerChangeOfFleet[] = [];
  const sharing: SharingChange[] = [];
  const recipients: RecipientChange[] = [];
  const grants: GrantChangeOfFleet[] = [];
  const snapshotReaders: SnapshotReadersChange[] = [];
  const dangers: ChangeDanger[] = [];
  const before = new Map(base.map((f) => [f.name, f]));
  const after = new Map(head.map((f) => [f.name, f]));

  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const old = before.get(name);
    const now = after.get(name);
    // Judged against the target branch's anchors; a new fleet's own are put before a human (trust-anchor).
    const anchors = old ?? now;
    dangers.push(...anchorDangers(name, old, now));
    const oldCopies = new Map((old ? desiredCopies(old) : []).map((c) => [copyKey(c), c]));
    const newCopies = new Map((now ? desiredCopies(now) : []).map((c) => [copyKey(c), c]));

    for (const key of new Set([...oldCopies.keys(), ...newCopies.keys()])) {
      const was = oldCopies.get(key);
      const is = newCopies.get(key);
      const had = was ? granteesOf(old!, was) : [];
      const has = is ? granteesOf(now!, is) : [];
      const copy = (is ?? was)!;
      const image = copy.image.key;
      const region = copy.target.region;
      const entry = (g: Grantee, action: SharingChange["action"]): SharingChange => ({
        fleet: name,
        image,
        region,
        principal: describePrincipal(g.principal),
        address: g.address,
        action,
        ...(g.recipient !== undefined ? { recipient: g.recipient } : {}),
      });
      const hadAddresses = new Set(had.map((g) => g.address));
      const hasAddresses = new Set(has.map((g) => g.address));
      for (const g of had) if (!hasAddresses.has(g.address)) sharing.push(entry(g, "revoke"));
      for (const g of has) {
        if (hadAddresses.has(g.address)) continue;
        sharing.push(entry(g, "grant"));
        if (g.principal.kind === "public") {
          dangers.push({ category: "public", address: g.address, message: `makes image ${image} in ${region} PUBLIC: every AWS account can launch it` });
        }
        const outside = anchors!.organization && outsideOrganization(g.principal, anchors!.organization);
        if (outside) dangers.push({ category: "outside-organization", address: g.address, message: `grants ${describePrincipal(g.principal)} in ${region}: ${outside}` });
      }
      // A shared copy the fleet does not encrypt, made (new, or replaced by a new source or key) or newly shared.
      if (is && has.length > 0 && is.target.encrypted !== true) {
        const remade = !was || JSON.stringify(was.image.source) !== JSON.stringify(is.image.source) || was.target.encrypted === true || was.target.kmsKeyId !== is.target.kmsKeyId;
        if (remade || had.length === 0) {
          dangers.push({
            category: "unencrypted-shared",
            address: formatAddress(is.address),
            message:
              `copy of image ${is.image.key} in ${is.target.region} is shared but not encrypted by the fleet (it keeps its source's encryption)` +
              (anchors!.acknowledgeUnencryptedSharing ? `; fleet ${name} acknowledges this on the target branch (encryption.acknowledgeUnencryptedSharing)` : ""),
            acknowledged: anchors!.acknowledgeUnencryptedSharing,
          });
        }
      }
    }

    // Recipients: a copy of its own is the recipient's, and stays when the fleet later drops it.
    const oldRecipients = new Map((old?.recipients ?? []).map((r) => [r.account, r]));
    const newRecipients = new Map((now?.recipients ?? []).map((r) => [r.account, r]));
    for (const [account, r] of newRecipients) {
      const had = new Set(oldRecipients.get(account)?.regions.map((x) => x.region) ?? []);
      const gained = r.regions.map((x) => x.region).filter((region) => !had.has(region));
      if (gained.length === 0) continue;
      recipients.push({ fleet: name, account, action: "add", regions: gained });
      const images = now!.images.map((i) => i.key).join(", ");
      dangers.push({
        category: "recipient",
        address: `${name}: recipient ${account}`,
        message: `gives account ${account} copies of its own of ${images} in ${gained.join(", ")}: they are that account's AMIs, which its own instances and launch templates come to use; removing the account or a Region from the fleet later deregisters them (a destroy the review blocks)`,
      });
    }
    for (const [account, r] of oldRecipients) {
      const keeps = new Set(newRecipients.get(account)?.regions.map((x) => x.region) ?? []);
      const lost = r.regions.map((x) => x.region).filter((region) => !keeps.has(region));
      if (lost.length > 0) recipients.push({ fleet: name, account, action: "remove", regions: lost });
    }

    dangers.push(...pointerDangers(old, now));
    const copiesChanged = copyChanges(name, old, now);
    copies.push(...copiesChanged);
    dangers.push(...copyDangers(old, now));
    pointers.push(...pointerChanges(name, old, now));
    const grantsChanged = added(grantsOf(old), grantsOf(now), (g, action) => ({ fleet: name, ...g, action }));
    grants.push(...grantsChanged);
    const readersChanged = added(snapshotReadersOf(old), snapshotReadersOf(now), (r, action) => ({ fleet: name, ...r, action }));
    snapshotReaders.push(...readersChanged);
    dangers.push(
      ...revokeDangers(
        now,
        copiesChanged.filter((c) => c.action === "destroy").map((c) => c.address),
        sharing.filter((s) => s.fleet === name && s.action === "revoke"),
        grantsChanged.filter((g) => g.action === "revoke"),
        readersChanged.filter((r) => r.action === "revoke"),
      ),
    );
  }
  const copiedBy: Record<string, Record<string, string[]>> = {};
  for (const fleet of head) {
    for (const c of fleet.recipients.flatMap((r) => recipientCopies(fleet, r))) {
      ((copiedBy[fleet.name] ??= {})[formatAddress(c.owner.address)] ??= []).push(formatAddress(c.copy.address));
    }
  }
  return { copies, pointers, sharing, grants, snapshotReaders, recipients, dangers, copiedBy };
}

/** A change of a trust anchor (TRUST_ANCHORS): its own blocking danger, naming the old and the new value. */
function anchorDangers(name: string, old: Fleet | undefined, now: Fleet | undefined): ChangeDanger[] {
  if (!now) return []; // a removed fleet's anchors go with it: nothing is judged against them any more
  return TRUST_ANCHORS.flatMap(({ field, value, decides }) => {
    const before = old ? value(old) : undefined;
    const after = value(now);
    if (before === after) return [];
    const was = old ? (before ?? "(not set)") : "(fleet not on the target branch)";
    return [
      {
        category: "trust-anchor" as const,
        address: `${name}: ${field}`,
        message:
          `changes ${field} of fleet ${name} from ${was} to ${after ?? "(not set)"}: it decides ${decides}. ` +
          `This change is judged against the target branch's value; once merged, later changes are judged against the new one`,
      },
    ];
  });
}

/** The owner's and the recipients' copies of a fleet, by address, with their forcing arguments. */
function forcingOf(fleet: Fleet | undefined): Map<string, Readonly<Record<string, string>>> {
  if (!fleet) return new Map();
  return new Map([
    ...desiredCopies(fleet).map((c) => [formatAddress(c.address), copyForcingArguments(c)] as const),
    ...fleet.recipients.flatMap((r) => recipientCopies(fleet, r).map((c) => [formatAddress(c.copy.address), recipientCopyForcingArguments(c)] as const)),
  ]);
}

/**
 * Every copy the change deletes (`destroy`) or remakes (`replace`: an argument that forces a new copy
 * changes), the owner's and each recipient's own alike, at the address its plan would give: so the
 * verdict never depends on whether the stack that holds it is planned or waits.
 */
function copyDangers(old: Fleet | undefined, now: Fleet | undefined): ChangeDanger[] {
  const was = copiesOf(old);
  const is = copiesOf(now);
  const forcedBefore = forcingOf(old);
  const forcedAfter = forcingOf(now);
  const dangers: ChangeDanger[] = [];
  for (const [address, copy] of was) {
    const { key: image } = copy.image;
    const { region } = copy.target;
    const account = copy.address.recipient;
    const whose = account !== undefined ? `account ${account}'s own copy` : "the copy";
    const users = account !== undefined ? `instances and launch templates in account ${account}` : "instances and launch templates";
    if (!is.has(address)) {
      dangers.push({ category: "destroy", address, message: `destroys ${whose} of image ${image} in ${region}: ${users} using it can no longer launch` });
      continue;
    }
    const before = forcedBefore.get(address) ?? {};
    const after = forcedAfter.get(address) ?? {};
    const reasons = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => before[k] !== after[k]).sort();
    if (reasons.length > 0) {
      dangers.push({ category: "replace", address, message: `replaces ${whose} of image ${image} in ${region} (${reasons.join(", ")}): the old AMI is deregistered after the new one exists` });
    }
  }
  return dangers;
}

/**
 * Access the change takes from an account that keeps using the fleet: a launch permission, a KMS
 * grant or a recipient's read access to snapshots, revoked while the copy it is on stays. Access that
 * goes with a copy the change destroys (or with a whole Region of the fleet, or of a recipient) is
 * that destroy's danger already.
 */
function revokeDangers(
  now: Fleet | undefined,
  destroyedCopies: readonly string[],
  permissions: readonly SharingChange[],
  grants: readonly GrantChangeOfFleet[],
  readers: readonly SnapshotReadersChange[],
): ChangeDanger[] {
  const destroyed = new Set(destroyedCopies);
  const goes = (image: string, region: string, recipient?: string) =>
    destroyed.has(formatAddress({ type: "aws_ami_copy", image, region })) ||
    (recipient !== undefined && destroyed.has(formatAddress({ type: "aws_ami_copy", image, region, recipient })));
  const regionKept = (region: string, recipient?: string) =>
    now !== undefined &&
    now.regions.some((t) => t.region === region) &&
    (recipient === undefined || now.recipients.some((r) => r.account === recipient && r.regions.some((x) => x.region === region)));
  const dangers: ChangeDanger[] = [];
  for (const p of permissions) {
    if (goes(p.image, p.region, p.recipient)) continue;
    dangers.push({ category: "revoke", address: p.address, message: `revokes ${p.principal}'s launch permission on image ${p.image} in ${p.region}: its instances and launch templates can no longer launch it` });
  }
  for (const g of grants) {
    const recipient = parseAddress(g.address)?.recipient;
    if (!regionKept(g.region, recipient)) continue;
    dangers.push({ category: "revoke", address: g.address, message: `retires the KMS grant for account ${g.account} in ${g.region}: it can no longer launch or copy the encrypted copies there` });
  }
  for (const r of readers) {
    if (goes(r.image, r.region, r.recipient)) continue;
    dangers.push({ category: "revoke", address: r.resource, message: `takes account ${r.recipient}'s read access to the snapshots of image ${r.image} in ${r.region}: it can no longer copy that copy` });
  }
  return dangers;
}

/** What `now` has that `was` lacks (grant), then what it no longer has (revoke), by key. */
function added<T, R>(was: ReadonlyMap<string, T>, now: ReadonlyMap<string, T>, entry: (item: T, action: "grant" | "revoke") => R): R[] {
  return [
    ...[...now].filter(([key]) => !was.has(key)).map(([, item]) => entry(item, "grant")),
    ...[...was].filter(([key]) => !now.has(key)).map(([, item]) => entry(item, "revoke")),
  ];
}

/** Every KMS grant a fleet wants, by address (and key: a new key is a new grant, which the plans replace). */
function grantsOf(fleet: Fleet | undefined): Map<string, { region: string; account: string; address: string }> {
  if (!fleet) return new Map();
  const shared = desiredGrants(fleet).flatMap(({ target, keyId, accounts }) =>
    accounts.map((account) => ({ region: target.region, account, keyId, address: formatAddress({ type: "aws_kms_grant", region: target.region, key: account }) })),
  );
  const recipients = fleet.recipients.flatMap((r) =>
    r.regions.flatMap(({ region }) => {
      const keyId = recipientGrantKey(fleet, region);
      return keyId === undefined ? [] : [{ region, account: r.account, keyId, address: formatAddress({ type: "aws_kms_grant", region, recipient: r.account }) }];
    }),
  );
  return new Map([...shared, ...recipients].map(({ keyId, ...g }) => [g.address, g]));
}

/** Every recipient's read access to the snapshots of an owner's copy, by resource address. */
function snapshotReadersOf(fleet: Fleet | undefined): Map<string, Omit<SnapshotReadersChange, "fleet" | "action">> {
  if (!fleet) return new Map();
  const readers = fleet.recipients.flatMap((r) =>
    desiredCopies(recipientView(fleet, r)).map((c) => {
      const { key: image } = c.image;
      const { region } = c.target;
      return { image, region, recipient: r.account, resource: formatAddress({ type: "aws_snapshot_create_volume_permission", image, region, recipient: r.account }) };
    }),
  );
  return new Map(readers.map((r) => [r.resource, r]));
}

/** Every copy of a fleet, the owner's and each recipient's own, by address. */
function copiesOf(fleet: Fleet | undefined): Map<string, DesiredCopy> {
  if (!fleet) return new Map();
  const all = [...desiredCopies(fleet), ...fleet.recipients.flatMap((r) => desiredCopies(recipientView(fleet, r)))];
  return new Map(all.map((c) => [formatAddress(c.address), c]));
}

/** The copies a change adds and removes (a copy replaced keeps its address: `copyDangers` judges it). */
function copyChanges(fleet: string, old: Fleet | undefined, now: Fleet | undefined): CopyChangeOfFleet[] {
  const was = copiesOf(old);
  const is = copiesOf(now);
  const entry = (address: string, c: DesiredCopy, action: CopyChangeOfFleet["action"]): CopyChangeOfFleet => ({
    fleet,
    image: c.image.key,
    region: c.target.region,
    address,
    action,
    ...(c.address.recipient !== undefined ? { recipient: c.address.recipient } : {}),
  });
  return [
    ...[...is].filter(([address]) => !was.has(address)).map(([address, c]) => entry(address, c, "create")),
    ...[...was].filter(([address]) => !is.has(address)).map(([address, c]) => entry(address, c, "destroy")),
  ];
}

/** Every pointer of a fleet, the owner's and each recipient's, by address. */
function pointersOf(fleet: Fleet | undefined): Map<string, DesiredPointer> {
  if (!fleet) return new Map();
  const all = [...desiredPointers(fleet), ...fleet.recipients.flatMap((r) => recipientPointers(fleet, r))];
  return new Map(all.map((p) => [formatAddress(p.address), p]));
}

/** The pointers a change adds and removes (one renamed or moved keeps its address: the plans judge it). */
function pointerChanges(fleet: string, old: Fleet | undefined, now: Fleet | undefined): PointerChangeOfFleet[] {
  const was = pointersOf(old);
  const is = pointersOf(now);
  const entry = (address: string, p: DesiredPointer, action: PointerChangeOfFleet["action"]) => ({ fleet, pointer: p.pointer.key, region: p.target.region, address, action });
  return [
    ...[...is].filter(([address]) => !was.has(address)).map(([address, p]) => entry(address, p, "create")),
    ...[...was].filter(([address]) => !is.has(address)).map(([address, p]) => entry(address, p, "destroy")),
  ];
}

/** A pointer renamed or removed (the name consumers resolve is deleted), or moved to another image. */
function pointerDangers(old: Fleet | undefined, now: Fleet | undefined): ChangeDanger[] {
  const dangers: ChangeDanger[] = [];
  const was = pointersOf(old);
  const is = pointersOf(now);
  for (const [address, before] of was) {
    const after = is.get(address);
    const where = `${before.target.region}${before.address.recipient !== undefined ? ` of account ${before.address.recipient}` : ""}`;
    const name = before.pointer.parameter;
    if (!after) {
      dangers.push({ category: "destroy", address, message: `deletes pointer ${name} in ${where}: launches that resolve it fail` });
      continue;
    }
    if (after.pointer.parameter !== name) {
      dangers.push({
        category: "destroy",
        address,
        message: `renames pointer ${name} in ${where} to ${after.pointer.parameter}: the old name is deleted, so launches that still resolve ${name} fail`,
      });
    }
    if (after.pointer.image !== before.pointer.image) {
      dangers.push({
        category: "pointer-move",
        address,
        message: `moves pointer ${after.pointer.parameter} in ${where} from image ${before.pointer.image} to image ${after.pointer.image}: every consumer that resolves it launches the new AMI from its next launch`,
      });
    }
  }
  return dangers;
}
