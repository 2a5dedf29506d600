import { partitionOf } from "./regions";

/**
 * Terraform resource names of a fleet. They are a public contract: readable, derived only from
 * data (image key, Region, principal kind), never from positions or hashes, so adding a Region,
 * an account or an image leaves every other address untouched.
 */

/** `aws_ami_copy.<name>` of one image version in one Region. */
export function copyResourceName(imageKey: string, region: string): string {
  return `copy_${imageKey}_${region}`;
}

/** Principal kinds that get a launch permission resource (for_each over the principals). */
export type PermissionGroup = "accounts" | "organizations" | "ous" | "public";

/** `aws_ami_launch_permission.<name>` of one copy and one kind of principal. */
export function permissionResourceName(imageKey: string, region: string, group: PermissionGroup): string {
  return `share_${imageKey}_${region}_${group}`;
}

/** `aws_kms_grant.<name>`: the grants on one Region's key, one instance per recipient account. */
export function grantResourceName(region: string): string {
  return `key_grants_${region}`;
}

/** The name of a fleet's KMS grant for one recipient account (the grant's own name in KMS, not its address). */
export function keyGrantName(fleetName: string, account: string): string {
  return `ami-fleet-${fleetName}-${account}`;
}

/** `aws_ssm_parameter.<name>` of one pointer in one Region. */
export function pointerResourceName(pointerKey: string, region: string): string {
  return `pointer_${pointerKey}_${region}`;
}

/** `aws_snapshot_create_volume_permission.<name>`: a recipient's read access to one copy's snapshots, one instance per snapshot id. */
export function snapshotPermissionResourceName(imageKey: string, region: string): string {
  return `snapshots_${imageKey}_${region}`;
}

/**
 * A recipient's resources are named as the owner's with `recipient_<account>_` in front: its copy
 * `aws_ami_copy.recipient_<account>_copy_<image>_<region>`, and on the owner's side its launch
 * permission, snapshot permissions and KMS grant.
 */
export function recipientResourceName(account: string, name: string): string {
  return `recipient_${account}_${name}`;
}

/** `data.aws_ami.<name>`: the owner's copy of an image in a Region, read by a recipient stack for its snapshots and name. */
export function ownerCopyDataName(imageKey: string, region: string): string {
  return `owner_copy_${imageKey}_${region}`;
}

/** `data.aws_ami.<name>`: the source image, read at plan time. */
export function sourceDataName(imageKey: string): string {
  return `source_${imageKey}`;
}

/** Stack output with the map Region -> copy AMI id of one image version. */
export function copiesOutputName(imageKey: string): string {
  return `copies_${imageKey}`;
}

/** A recipient stack's output with the map Region -> the recipient's own copy AMI id of one image version. */
export function recipientCopiesOutputName(imageKey: string): string {
  return `recipient_${copiesOutputName(imageKey)}`;
}

/** `data.terraform_remote_state.<name>`: a share stack's read of one Region's copy stack (layout: split). */
export function copyStateDataName(region: string): string {
  return `copies_${region}`;
}

/**
 * A resource instance of a fleet stack, as data: what its Terraform address says. `recipient`: the
 * recipient account the resource is for (its copy and pointers live in that account; its launch
 * permission, snapshot permissions and grant are the owner's, for it); undefined for the owner's own.
 */
export type FleetAddress = (
  | { readonly type: "aws_ami_copy"; readonly image: string; readonly region: string }
  | {
      readonly type: "aws_ami_launch_permission";
      readonly image: string;
      readonly region: string;
      readonly group: PermissionGroup;
      /** The for_each key (an account id or ARN); undefined for `public` (no for_each), a recipient's (one account), or the resource as a whole. */
      readonly key?: string;
    }
  | { readonly type: "aws_kms_grant"; readonly region: string; readonly key?: string }
  | { readonly type: "aws_ssm_parameter"; readonly pointer: string; readonly region: string }
  /** Only for a recipient; `key` is the snapshot id. */
  | { readonly type: "aws_snapshot_create_volume_permission"; readonly image: string; readonly region: string; readonly key?: string }
) & { readonly recipient?: string };

const PERMISSION_GROUPS: readonly PermissionGroup[] = ["accounts", "organizations", "ous", "public"];

/** The Terraform address of a fleet resource instance, e.g. `aws_ami_launch_permission.share_v1_eu-west-1_accounts["444455556666"]`. */
export function formatAddress(address: FleetAddress): string {
  const index = "key" in address && address.key !== undefined ? `[${JSON.stringify(address.key)}]` : "";
  const named = (name: string) => (address.recipient !== undefined ? recipientResourceName(address.recipient, name) : name);
  switch (address.type) {
    case "aws_ami_copy":
      return `aws_ami_copy.${named(copyResourceName(address.image, address.region))}`;
    case "aws_ami_launch_permission":
      return `aws_ami_launch_permission.${named(permissionResourceName(address.image, address.region, address.group))}${index}`;
    case "aws_kms_grant":
      return `aws_kms_grant.${named(grantResourceName(address.region))}${index}`;
    case "aws_ssm_parameter":
      return `aws_ssm_parameter.${named(pointerResourceName(address.pointer, address.region))}`;
    case "aws_snapshot_create_volume_permission":
      return `aws_snapshot_create_volume_permission.${named(snapshotPermissionResourceName(address.image, address.region))}${index}`;
  }
}

/**
 * The fleet resource an address names, or undefined for any other address. The inverse of
 * `formatAddress`, by the naming rules above, with no pattern over the text: Region names hold no
 * `_`, so the Region is what follows the last `_` (and must be a Region `isRegion` knows, by default
 * one of the installed AWS SDK's); the
 * image key is the rest, `_` included.
 */
export function parseAddress(address: string, isRegion: (name: string) => boolean = isKnownRegion): FleetAddress | undefined {
  const dot = address.indexOf(".");
  if (dot < 0) return undefined;
  const type = address.slice(0, dot);
  let name = address.slice(dot + 1);
  let key: string | undefined;
  const bracket = name.indexOf("[");
  if (bracket >= 0) {
    if (!name.endsWith("]")) return undefined;
    try {
      const parsed: unknown = JSON.parse(name.slice(bracket + 1, -1));
      if (typeof parsed !== "string") return undefined;
      key = parsed;
    } catch {
      return undefined;
    }
    name = name.slice(0, bracket);
  }
  // `recipient_<account>_<the owner's name>`: a recipient's resource.
  let recipient: string | undefined;
  const recipientName = /^recipient_(\d{12})_(.+)$/.exec(name);
  if (recipientName) [, recipient, name] = recipientName;
  const parsed = parseName(type, name, key, isRegion);
  if (!parsed) return undefined;
  if (recipient === undefined) return parsed.type === "aws_snapshot_create_volume_permission" ? undefined : parsed;
  // A recipient's launch permission and grant name its one account: no for_each.
  if ((parsed.type === "aws_ami_launch_permission" && (parsed.group !== "accounts" || key !== undefined)) || (parsed.type === "aws_kms_grant" && key !== undefined)) return undefined;
  return { ...parsed, recipient };
}

/** A resource name of the owner's naming rules (no recipient prefix), parsed. */
function parseName(type: string, name: string, key: string | undefined, isRegion: (name: string) => boolean): FleetAddress | undefined {
  const lastPart = (text: string): [string, string] => {
    const cut = text.lastIndexOf("_");
    return cut < 0 ? ["", text] : [text.slice(0, cut), text.slice(cut + 1)];
  };
  /** `<key>_<region>`: an image or pointer key (which may hold `_`), then a Region. */
  const keyAndRegion = (text: string): { key: string; region: string } | undefined => {
    const [key, region] = lastPart(text);
    return key && isRegion(region) ? { key, region } : undefined;
  };
  switch (type) {
    case "aws_ami_copy": {
      if (!name.startsWith("copy_") || key !== undefined) return undefined;
      const parts = keyAndRegion(name.slice("copy_".length));
      return parts && { type, image: parts.key, region: parts.region };
    }
    case "aws_ami_launch_permission": {
      if (!name.startsWith("share_")) return undefined;
      const [rest, group] = lastPart(name.slice("share_".length));
      const parts = keyAndRegion(rest);
      if (!parts || !(PERMISSION_GROUPS as readonly string[]).includes(group)) return undefined;
      if (group === "public" && key !== undefined) return undefined; // public has no for_each
      return { type, image: parts.key, region: parts.region, group: group as PermissionGroup, ...(key !== undefined ? { key } : {}) };
    }
    case "aws_kms_grant": {
      const prefix = "key_grants_";
      const region = name.slice(prefix.length);
      if (!name.startsWith(prefix) || !isRegion(region)) return undefined;
      return { type, region, ...(key !== undefined ? { key } : {}) };
    }
    case "aws_ssm_parameter": {
      if (!name.startsWith("pointer_") || key !== undefined) return undefined;
      const parts = keyAndRegion(name.slice("pointer_".length));
      return parts && { type, pointer: parts.key, region: parts.region };
    }
    case "aws_snapshot_create_volume_permission": {
      if (!name.startsWith("snapshots_")) return undefined;
      const parts = keyAndRegion(name.slice("snapshots_".length));
      return parts && { type, image: parts.key, region: parts.region, ...(key !== undefined ? { key } : {}) };
    }
    default:
      return undefined;
  }
}

function isKnownRegion(name: string): boolean {
  return partitionOf(name) !== undefined;
}
