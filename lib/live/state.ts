/**
 * Live state: what the reconciler read from AWS, as plain JSON. `--save-state` writes it and
 * `--state-file` reads it back, so a drift report can be reproduced offline.
 *
 * Every part that could not be read carries its error next to where the data would be; a part
 * that is absent and has no error was read and is empty.
 */

import type { Principal } from "../fleet/principals";

/** The version of the saved live state; a state of another version is refused. */
export const LIVE_STATE_VERSION = 2;

/** A launch permission as read from DescribeImageAttribute. */
export type LivePermission = Principal;

/** A backing EBS snapshot of an image. */
export interface LiveSnapshot {
  readonly snapshotId: string;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly state?: string;
  readonly stateMessage?: string;
}

/** One AMI found in a Region, by the fleet's tag or by an expected copy name. */
export interface LiveImage {
  readonly imageId: string;
  readonly name?: string;
  readonly description?: string;
  readonly state?: string;
  readonly stateReason?: string;
  readonly public?: boolean;
  readonly creationDate?: string;
  readonly deprecationTime?: string;
  readonly sourceImageId?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Snapshot ids from the block device mappings. */
  readonly snapshotIds: readonly string[];
  /** Undefined when the attribute could not be read (see permissionsError). */
  readonly launchPermissions?: readonly LivePermission[];
  readonly permissionsError?: string;
}

/** What was read in one Region. */
export interface LiveRegion {
  /** Set when the Region's images could not be read: they are then unknown, never "missing". */
  readonly error?: string;
  /** Read only to find orphans (--scan-regions): no fleet targets it. */
  readonly scanned?: boolean;
  /** The fleets whose copies were looked for here (by their tag); a state saved before this was recorded has none. */
  readonly lookedFor?: readonly string[];
  readonly images: readonly LiveImage[];
  /** Snapshots read, by id. */
  readonly snapshots: Readonly<Record<string, LiveSnapshot>>;
  /** Snapshot ids that DescribeSnapshots says do not exist (InvalidSnapshot.NotFound). */
  readonly missingSnapshots?: readonly string[];
  /** Snapshot ids that could not be read, with the error of their call. */
  readonly snapshotErrors?: Readonly<Record<string, string>>;
  /** Values of the fleets' pointers (SSM parameters) in this Region, by parameter name. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** The pointers' descriptions ("" for none) and tags, by parameter name, for those that exist. */
  readonly parameterDescriptions?: Readonly<Record<string, string>>;
  readonly parameterTags?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Pointers whose description or tags could not be read, with the error. */
  readonly parameterMetaErrors?: Readonly<Record<string, string>>;
  /** The pointers' type and data type, by parameter name (a state saved before they were read has none). */
  readonly parameterKinds?: Readonly<Record<string, { readonly type?: string; readonly dataType?: string }>>;
  /** Pointer parameters that do not exist. */
  readonly missingParameters?: readonly string[];
  /** Pointer parameters that could not be read, with the error of their call. */
  readonly parameterErrors?: Readonly<Record<string, string>>;
  /**
   * Who may create volumes from (and so copy) each snapshot, by snapshot id: account ids, and `all`
   * for public. Read, in the owner's account, for the copies of fleets with recipients here.
   */
  readonly snapshotPermissions?: Readonly<Record<string, readonly string[]>>;
  /** Snapshots whose permissions could not be read, with the error of their call. */
  readonly snapshotPermissionErrors?: Readonly<Record<string, string>>;
  /** The grants on each owner key that recipients need here, by the key ARN (ListGrants). */
  readonly keyGrants?: Readonly<Record<string, readonly LiveGrant[]>>;
  /** Keys whose grants could not be listed, with the error. */
  readonly keyGrantErrors?: Readonly<Record<string, string>>;
  /** The account's snapshots here that every AWS account may copy (public), by id; undefined when not read (see the error). */
  readonly publicSnapshots?: readonly string[];
  readonly publicSnapshotsError?: string;
  /** The account's EBS encryption by default in this Region (undefined: not read, see the error). */
  readonly encryptionByDefault?: boolean;
  readonly encryptionByDefaultError?: string;
}

/** A grant on a KMS key, as ListGrants gives it. */
export interface LiveGrant {
  readonly granteePrincipal?: string;
  readonly operations: readonly string[];
  readonly name?: string;
}

/** What was read in a recipient's account, through its role. */
export interface LiveAccount {
  /** The role assumed to read it. */
  readonly roleArn: string;
  /** Set when the role could not be assumed: nothing of the account is known. */
  readonly error?: string;
  /** By Region name: the recipient's Regions. */
  readonly regions: Readonly<Record<string, LiveRegion>>;
}

/** The source AMI id an image key resolves to now, or why it could not be resolved. */
export interface LiveSource {
  readonly amiId?: string;
  readonly error?: string;
}

/** Everything the reconciler read, for every fleet. */
export interface LiveState {
  readonly version: typeof LIVE_STATE_VERSION;
  /** When the state was read (ISO 8601); the diff's notion of "now". */
  readonly readAt: string;
  /** By Region name. */
  readonly regions: Readonly<Record<string, LiveRegion>>;
  /** By fleet name, then image key. */
  readonly sources: Readonly<Record<string, Readonly<Record<string, LiveSource>>>>;
  /** Set when the Regions to scan (--scan-regions all) could not be listed. */
  readonly scanError?: string;
  /** The recipients' accounts, by account id (fleets with recipients only). */
  readonly accounts?: Readonly<Record<string, LiveAccount>>;
}

/** API calls made while reading, by operation, and their HTTP attempts (retries included). */
export interface CallStats {
  readonly calls: Readonly<Record<string, number>>;
  readonly attempts: number;
  readonly totalCalls: number;
}
