import { desiredCopies, desiredGrants, desiredPointers, recipientGrantKey } from "../fleet/desired";
import { Fleet } from "../fleet/fleet";

/**
 * What reconcile reads of everything the stacks manage: one table, by resource type and argument,
 * of the reader that reads it and the check that judges it. A test (`coverage.test.ts`) synthesizes
 * every fleet shape in every layout and fails on a type or an argument the table does not name, so
 * the next resource or argument the construct sets cannot go unread unnoticed. What is deliberately
 * unread is named with why: a fleet whose stacks set it cannot be called in sync for the refresh-skip
 * (`unreadArguments`; the PR workflow then plans its stacks with the refresh).
 */

/** How one argument of a managed resource is covered. */
export type Coverage =
  /** Read at the API floor and judged: a change out of band is a finding. */
  | { readonly read: string; readonly check: string }
  /** Where or how Terraform manages the resource (meta-arguments, the provider, the Region): nothing live to read. */
  | { readonly meta: string }
  /** Not read: why. A fleet whose stacks set it is never in sync for the refresh-skip. */
  | { readonly unread: string };

/** The resource types the stacks synthesize. */
export type ManagedType = "aws_ami_copy" | "aws_ami_launch_permission" | "aws_kms_grant" | "aws_snapshot_create_volume_permission" | "aws_ssm_parameter";

const META = {
  region: { meta: "the resource's Region: reconcile reads each target Region" },
  provider: { meta: "the provider block (a recipient's role): reconcile reads the recipient's account through the same role" },
  for_each: { meta: "one instance per principal, snapshot or account: each instance is judged" },
  lifecycle: { meta: "plan-time preconditions: nothing live" },
  depends_on: { meta: "apply order: nothing live" },
  timeouts: { meta: "how long apply waits: nothing live" },
} as const;

/** Every argument the stacks set, by resource type. */
export const COVERAGE: Readonly<Record<ManagedType, Readonly<Record<string, Coverage>>>> = {
  aws_ami_copy: {
    name: { read: "DescribeImages (by tag, then by expected name)", check: "the copy kept is the one with the expected name; none: missing-copy" },
    source_ami_id: { read: "the copy's ami-fleet:source-ami tag, else EC2's SourceImageId", check: "stale-copy" },
    source_ami_region: { read: "the copy's ami-fleet:source-region tag", check: "tag-drift" },
    encrypted: { read: "DescribeSnapshots of the copy's snapshots", check: "encryption-mismatch" },
    kms_key_id: { read: "DescribeSnapshots (each snapshot's KmsKeyId)", check: "encryption-mismatch" },
    deprecation_time: { read: "DescribeImages (DeprecationTime)", check: "deprecation-drift, copy-state" },
    description: { read: "DescribeImages (Description)", check: "description-drift" },
    tags: { read: "DescribeImages (Tags)", check: "tag-drift (a declared tag changed or missing, or a tag the fleet does not declare)" },
    ...META,
  },
  aws_ami_launch_permission: {
    image_id: { read: "DescribeImageAttribute launchPermission of each copy kept", check: "missing-permission" },
    account_id: { read: "DescribeImageAttribute launchPermission", check: "missing-permission, extra-permission" },
    organization_arn: { read: "DescribeImageAttribute launchPermission", check: "missing-permission, extra-permission" },
    organizational_unit_arn: { read: "DescribeImageAttribute launchPermission", check: "missing-permission, extra-permission" },
    group: { read: "DescribeImageAttribute launchPermission, DescribeImages (Public)", check: "missing-permission, public-image" },
    ...META,
  },
  aws_kms_grant: {
    key_id: { read: "ListGrants of each key that carries the fleets' grants", check: "missing-grant" },
    grantee_principal: { read: "ListGrants (GranteePrincipal)", check: "missing-grant" },
    operations: { read: "ListGrants (Operations)", check: "missing-grant (every operation the account needs)" },
    name: { read: "ListGrants (Name)", check: "missing-grant: a grant is known by its name, so another fleet's grant to the same account does not stand in for it" },
    ...META,
  },
  aws_snapshot_create_volume_permission: {
    snapshot_id: { read: "DescribeSnapshotAttribute createVolumePermission of each snapshot of a copy a recipient copies", check: "missing-snapshot-permission" },
    account_id: { read: "DescribeSnapshotAttribute createVolumePermission", check: "missing-snapshot-permission, extra-snapshot-permission" },
    ...META,
  },
  aws_ssm_parameter: {
    name: { read: "GetParameters (10 names a call)", check: "pointer-missing" },
    insecure_value: { read: "GetParameters (Value)", check: "pointer-drift" },
    type: { read: "GetParameters (Type)", check: "pointer-drift" },
    data_type: { read: "GetParameters (DataType)", check: "pointer-drift" },
    description: { read: "DescribeParameters (50 names a filter)", check: "description-drift" },
    tags: { read: "ListTagsForResource, one call per pointer", check: "tag-drift" },
    ...META,
  },
};

/**
 * The resource types a fleet's stacks hold, from the desired-state model (in every layout the same
 * set: the layout splits instances between stacks, it adds no type).
 */
export function managedTypes(fleet: Fleet): ManagedType[] {
  const types = new Set<ManagedType>();
  const copies = desiredCopies(fleet);
  if (copies.length > 0) types.add("aws_ami_copy");
  if (copies.some((c) => c.principals.length > 0) || fleet.recipients.length > 0) types.add("aws_ami_launch_permission");
  if (desiredGrants(fleet).length > 0 || fleet.recipients.some((r) => r.regions.some(({ region }) => recipientGrantKey(fleet, region) !== undefined))) types.add("aws_kms_grant");
  if (fleet.recipients.length > 0) types.add("aws_snapshot_create_volume_permission");
  if (desiredPointers(fleet).length > 0) types.add("aws_ssm_parameter");
  return [...types].sort();
}

/** The arguments a fleet's stacks set that reconcile does not read (`type.argument`): while any, its "in sync" does not cover them. */
export function unreadArguments(fleet: Fleet): string[] {
  return managedTypes(fleet).flatMap((type) =>
    Object.entries(COVERAGE[type])
      .filter(([, coverage]) => "unread" in coverage)
      .map(([argument]) => `${type}.${argument}`),
  );
}
