/**
 * Live state: what the reconciler read from AWS, as plain JSON. `--save-state` writes it and
 * `--state-file` reads it back, so a drift report can be reproduced offline.
 */

/** A launch permission as read from DescribeImageAttribute. */
export interface LivePermission {
  readonly kind: "account" | "organization" | "organizational-unit" | "public";
  readonly value: string;
}

/** A backing EBS snapshot of an image. */
export interface LiveSnapshot {
  readonly snapshotId: string;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly state?: string;
  readonly stateMessage?: string;
}

/** One AMI found in a target Region, by the fleet's tag or by an expected copy name. */
export interface LiveImage {
  readonly imageId: string;
  readonly name?: string;
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
  /** Set when the Region could not be read: its images are then unknown, never "missing". */
  readonly error?: string;
  readonly images: readonly LiveImage[];
  readonly snapshots: Readonly<Record<string, LiveSnapshot>>;
  readonly snapshotsError?: string;
}

/** The source AMI id an image key resolves to now, or why it could not be resolved. */
export interface LiveSource {
  readonly amiId?: string;
  readonly error?: string;
}

/** Everything the reconciler read, for every fleet. */
export interface LiveState {
  readonly version: 1;
  /** When the state was read (ISO 8601); the diff's notion of "now". */
  readonly readAt: string;
  /** By Region name. */
  readonly regions: Readonly<Record<string, LiveRegion>>;
  /** By fleet name, then image key. */
  readonly sources: Readonly<Record<string, Readonly<Record<string, LiveSource>>>>;
}

/** API calls made while reading, by operation, and their HTTP attempts (retries included). */
export interface CallStats {
  readonly calls: Readonly<Record<string, number>>;
  readonly attempts: number;
  readonly totalCalls: number;
}
