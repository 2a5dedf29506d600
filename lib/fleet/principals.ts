import { build as buildArn, parse as parseArn, validate as validateArn } from "@aws-sdk/util-arn-parser";
import type { FleetAddress, PermissionGroup } from "./addresses";
import type { Share } from "./fleet";

/**
 * Launch permission principals: who may launch a copy. The one place that knows how each kind is
 * spelt in a fleet's share, in the synthesized stack (resource group, local list, resource
 * argument), in a plan's values and in EC2's LaunchPermission (which the AWS CLI shorthand repeats).
 */

/** The kinds of launch permission principal EC2 knows. */
export type PrincipalKind = "account" | "organization" | "organizational-unit" | "public";

/** A launch permission principal. */
export interface Principal {
  readonly kind: PrincipalKind;
  /** Account id, ARN, or `all` for public. */
  readonly value: string;
}

/** A principal kind that the share lists (public is a flag, not a list). */
export type ListedKind = Exclude<PrincipalKind, "public">;

/** EC2's LaunchPermission fields (also the AWS CLI's `--launch-permission` shorthand keys). */
export type LaunchPermissionFields = Partial<Record<"UserId" | "OrganizationArn" | "OrganizationalUnitArn" | "Group", string>>;

interface Spelling {
  /** The launch permission resource of this kind: `share_<image>_<region>_<group>`. */
  readonly group: PermissionGroup;
  /** The `aws_ami_launch_permission` argument that holds the principal. */
  readonly argument: "account_id" | "organization_arn" | "organizational_unit_arn" | "group";
  /** The LaunchPermission field that holds the principal. */
  readonly field: keyof LaunchPermissionFields;
}

interface ListedSpelling extends Spelling {
  /** The Share list of this kind. */
  readonly shareList: "accounts" | "organizationArns" | "organizationalUnitArns";
  /** The list of this kind in an entry of the `launch_permissions` local. */
  readonly localList: "accounts" | "organization_arns" | "organizational_unit_arns";
}

/** Every listed kind, in the order principals are listed. */
export const LISTED_KINDS: Readonly<Record<ListedKind, ListedSpelling>> = {
  account: { group: "accounts", argument: "account_id", field: "UserId", shareList: "accounts", localList: "accounts" },
  organization: {
    group: "organizations",
    argument: "organization_arn",
    field: "OrganizationArn",
    shareList: "organizationArns",
    localList: "organization_arns",
  },
  "organizational-unit": {
    group: "ous",
    argument: "organizational_unit_arn",
    field: "OrganizationalUnitArn",
    shareList: "organizationalUnitArns",
    localList: "organizational_unit_arns",
  },
};

/** Public sharing: launch permission group `all`. */
export const PUBLIC: Spelling & { readonly value: "all" } = { group: "public", argument: "group", field: "Group", value: "all" };

const SPELLINGS: Readonly<Record<PrincipalKind, Spelling>> = { ...LISTED_KINDS, public: PUBLIC };

/** The launch permission principals of a share, as (kind, value) pairs in a stable order. */
export function sharePrincipals(share: Share): Principal[] {
  const listed = (Object.keys(LISTED_KINDS) as ListedKind[]).flatMap((kind) =>
    share[LISTED_KINDS[kind].shareList].map((value) => ({ kind, value })),
  );
  return share.public ? [...listed, { kind: "public", value: PUBLIC.value }] : listed;
}

/** The launch permission address of a principal on one copy (a recipient's is one resource, no for_each key). */
export function permissionAddressOf(image: string, region: string, principal: Principal, recipient?: string): FleetAddress & { type: "aws_ami_launch_permission" } {
  if (recipient !== undefined) return { type: "aws_ami_launch_permission", image, region, group: "accounts", recipient };
  const group = SPELLINGS[principal.kind].group;
  return principal.kind === "public" ? { type: "aws_ami_launch_permission", image, region, group } : { type: "aws_ami_launch_permission", image, region, group, key: principal.value };
}

/** The principal of a launch permission instance (its resource group and for_each key); undefined without a key (but public). */
export function principalOfPermission(group: PermissionGroup, key: string | undefined): Principal | undefined {
  if (group === PUBLIC.group) return { kind: "public", value: PUBLIC.value };
  const kind = (Object.keys(LISTED_KINDS) as ListedKind[]).find((k) => LISTED_KINDS[k].group === group);
  return kind && key !== undefined ? { kind, value: key } : undefined;
}

/** Human label of a principal, e.g. `account 444455556666`. */
export function describePrincipal(principal: Principal): string {
  return principal.kind === "public" ? "public (group all)" : `${principal.kind} ${principal.value}`;
}

/** The EC2 LaunchPermission of a principal, e.g. `{ UserId: "444455556666" }`. */
export function toLaunchPermission(principal: Principal): LaunchPermissionFields {
  return { [SPELLINGS[principal.kind].field]: principal.value };
}

/** The principal of an EC2 LaunchPermission; undefined when it holds none this model knows. */
export function fromLaunchPermission(permission: LaunchPermissionFields): Principal | undefined {
  return principalOf((spelling) => permission[spelling.field]);
}

/** The principal of an `aws_ami_launch_permission`'s values in a plan; undefined when unknown. */
export function fromPlanValues(values: Readonly<Record<string, unknown>>): Principal | undefined {
  return principalOf((spelling) => values[spelling.argument]);
}

/** The AWS CLI `--launch-permission` shorthand of a principal, e.g. `UserId=444455556666`. */
export function launchPermissionShorthand(principal: Principal): string {
  return `${SPELLINGS[principal.kind].field}=${principal.value}`;
}

function principalOf(read: (spelling: Spelling) => unknown): Principal | undefined {
  if (read(PUBLIC) === PUBLIC.value) return { kind: "public", value: PUBLIC.value };
  for (const kind of Object.keys(LISTED_KINDS) as ListedKind[]) {
    const value = read(LISTED_KINDS[kind]);
    if (typeof value === "string" && value !== "") return { kind, value };
  }
  return undefined;
}

/** The name of the local that holds the launch permission lists of a fleet stack. */
export const LAUNCH_PERMISSIONS_LOCAL = "launch_permissions";

/** One entry of the `launch_permissions` local: a share's lists, by local list name. */
export type ShareEntry = Readonly<Record<ListedSpelling["localList"], readonly string[]>>;

/**
 * The value of the `launch_permissions` local: `fleet` for the fleet-wide share, plus an entry for
 * each Region whose share differs. Principal lists live once per distinct share, not once per copy,
 * so the synthesized size grows with copies + principals, not copies x principals.
 */
export function shareTable(fleetShare: Share, regionShares: ReadonlyMap<string, Share>): Record<string, ShareEntry> {
  const table: Record<string, ShareEntry> = { fleet: shareEntry(fleetShare) };
  const fleetEntry = JSON.stringify(table.fleet);
  for (const [region, share] of regionShares) {
    const entry = shareEntry(share);
    if (JSON.stringify(entry) !== fleetEntry) table[region] = entry;
  }
  return table;
}

/** The key of the `launch_permissions` entry a Region's resources read. */
export function shareTableKey(table: Readonly<Record<string, ShareEntry>>, region: string): string {
  return Object.prototype.hasOwnProperty.call(table, region) ? region : "fleet";
}

function shareEntry(share: Share): ShareEntry {
  const entry = {} as Record<ListedSpelling["localList"], readonly string[]>;
  for (const spelling of Object.values(LISTED_KINDS)) entry[spelling.localList] = share[spelling.shareList];
  return entry;
}

/** The IAM principal of an account as a whole (`arn:aws:iam::444455556666:root`): a KMS grant's grantee. */
export function accountRootArn(partition: string, account: string): string {
  return buildArn({ partition, service: "iam", region: "", accountId: account, resource: "root" });
}

/** The account of an IAM principal ARN, the inverse of `accountRootArn`; undefined for anything else. */
export function accountOfPrincipalArn(principal: unknown): string | undefined {
  if (typeof principal !== "string" || !validateArn(principal)) return undefined;
  const arn = parseArn(principal);
  return arn.service === "iam" && arn.accountId ? arn.accountId : undefined;
}

/**
 * The Organization id (`o-...`) of an Organization ARN (`.../organization/o-...`) or an OU ARN
 * (`.../ou/o-.../ou-...`); undefined for anything else.
 */
function organizationIdOf(arn: string): string | undefined {
  if (!validateArn(arn)) return undefined;
  const [kind, id] = parseArn(arn).resource.split("/");
  return (kind === "organization" || kind === "ou") && id ? id : undefined;
}

/** Why a principal is outside the fleet's Organization (another Organization, a non-member account, everyone); undefined when inside. */
export function outsideOrganization(principal: Principal, org: { arn: string; memberAccounts?: readonly string[] }): string | undefined {
  const orgId = organizationIdOf(org.arn);
  const { kind, value } = principal;
  if (kind === "organization" && value !== org.arn) return `another Organization than the fleet's (${org.arn})`;
  if (kind === "organizational-unit" && orgId && organizationIdOf(value) !== orgId) return `an OU of another Organization than the fleet's (${orgId})`;
  if (kind === "account" && org.memberAccounts && !org.memberAccounts.includes(value)) return `not a member account of ${orgId ?? org.arn}`;
  if (kind === "public") return `everyone, outside ${orgId ?? org.arn}`;
  return undefined;
}
