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

/** `data.aws_ami.<name>`: the source image, read at plan time. */
export function sourceDataName(imageKey: string): string {
  return `source_${imageKey}`;
}

/** Stack output with the map Region -> copy AMI id of one image version. */
export function copiesOutputName(imageKey: string): string {
  return `copies_${imageKey}`;
}

/** `data.terraform_remote_state.<name>`: a share stack's read of one Region's copy stack (layout: split). */
export function copyStateDataName(region: string): string {
  return `copies_${region}`;
}

/** A resource instance of a fleet stack, as data: what its Terraform address says. */
export type FleetAddress =
  | { readonly type: "aws_ami_copy"; readonly image: string; readonly region: string }
  | {
      readonly type: "aws_ami_launch_permission";
      readonly image: string;
      readonly region: string;
      readonly group: PermissionGroup;
      /** The for_each key (an account id or ARN); undefined for `public` (no for_each), or for the resource as a whole. */
      readonly key?: string;
    }
  | { readonly type: "aws_kms_grant"; readonly region: string; readonly key?: string }
  | { readonly type: "aws_ssm_parameter"; readonly pointer: string; readonly region: string };

const PERMISSION_GROUPS: readonly PermissionGroup[] = ["accounts", "organizations", "ous", "public"];

/** The Terraform address of a fleet resource instance, e.g. `aws_ami_launch_permission.share_v1_eu-west-1_accounts["444455556666"]`. */
export function formatAddress(address: FleetAddress): string {
  const index = "key" in address && address.key !== undefined ? `[${JSON.stringify(address.key)}]` : "";
  switch (address.type) {
    case "aws_ami_copy":
      return `aws_ami_copy.${copyResourceName(address.image, address.region)}`;
    case "aws_ami_launch_permission":
      return `aws_ami_launch_permission.${permissionResourceName(address.image, address.region, address.group)}${index}`;
    case "aws_kms_grant":
      return `aws_kms_grant.${grantResourceName(address.region)}${index}`;
    case "aws_ssm_parameter":
      return `aws_ssm_parameter.${pointerResourceName(address.pointer, address.region)}`;
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
    default:
      return undefined;
  }
}

function isKnownRegion(name: string): boolean {
  return partitionOf(name) !== undefined;
}
