import { formatAddress } from "../fleet/addresses";
import { DesiredCopy, desiredCopies, desiredGrants, desiredPointers, DesiredPointer, recipientGrantKey, recipientPointers, recipientView } from "../fleet/desired";
import { Fleet } from "../fleet/fleet";
import { describePrincipal, outsideOrganization, permissionAddressOf, Principal, sharePrincipals } from "../fleet/principals";
import type { DangerCategory } from "./plan-review";

/**
 * The verdicts only the fleet change can give: who gains or loses the right to launch a copy, who
 * gets copies of their own, which pointers move or lose their name. Judged from the base and head
 * fleet files, so they do not depend on how the stacks are split, on which stacks a change plans,
 * or on which wait for another's apply: a share stack that cannot be planned yet is judged all the
 * same. Pure: fleets in, changes and dangers out.
 */

/** The danger categories judged from the fleet change; a plan's own verdicts in them give way. */
export const FLEET_CHANGE_CATEGORIES: ReadonlySet<DangerCategory> = new Set(["public", "outside-organization", "unencrypted-shared", "recipient"]);

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
        const outside = now!.organization && outsideOrganization(g.principal, now!.organization);
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
              (now!.acknowledgeUnencryptedSharing ? `; fleet ${name} acknowledges this (encryption.acknowledgeUnencryptedSharing)` : ""),
            acknowledged: now!.acknowledgeUnencryptedSharing,
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
        message: `gives account ${account} copies of its own of ${images} in ${gained.join(", ")}: they are that account's AMIs, and removing it from the fleet later deletes none of them`,
      });
    }
    for (const [account, r] of oldRecipients) {
      const keeps = new Set(newRecipients.get(account)?.regions.map((x) => x.region) ?? []);
      const lost = r.regions.map((x) => x.region).filter((region) => !keeps.has(region));
      if (lost.length > 0) recipients.push({ fleet: name, account, action: "remove", regions: lost });
    }

    dangers.push(...pointerDangers(old, now));
    copies.push(...copyChanges(name, old, now));
    pointers.push(...pointerChanges(name, old, now));
    grants.push(...added(grantsOf(old), grantsOf(now), (g, action) => ({ fleet: name, ...g, action })));
    snapshotReaders.push(...added(snapshotReadersOf(old), snapshotReadersOf(now), (r, action) => ({ fleet: name, ...r, action })));
  }
  return { copies, pointers, sharing, grants, snapshotReaders, recipients, dangers };
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

/** The copies a change adds and removes (a copy replaced keeps its address: the plans judge that). */
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
