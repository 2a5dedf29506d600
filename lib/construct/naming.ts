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

/** `data.aws_ami.<name>`: the source image, read at plan time. */
export function sourceDataName(imageKey: string): string {
  return `source_${imageKey}`;
}

/** Stack output with the map Region -> copy AMI id of one image version. */
export function copiesOutputName(imageKey: string): string {
  return `copies_${imageKey}`;
}
