import type { FleetAddress } from "../fleet/addresses";
/** The drift report's model: findings, errors, and the report as JSON (a public contract). */

import type { Principal } from "../fleet/principals";

/** Finding kinds (contract). */
export const FINDING_KINDS = [
  "missing-copy",
  "stale-copy",
  "orphan-copy",
  "copy-state",
  "encryption-mismatch",
  "missing-permission",
  "extra-permission",
  "public-image",
  "tag-drift",
  "description-drift",
  "deprecation-drift",
  "pointer-missing",
  "pointer-drift",
  "missing-snapshot-permission",
  "extra-snapshot-permission",
  "missing-grant",
] as const;
/** A finding kind (contract). */
export type FindingKind = (typeof FINDING_KINDS)[number];

/** Most severe first. */
export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
/** A severity, most severe first in SEVERITIES. */
export type Severity = (typeof SEVERITIES)[number];

/** One difference between the declared fleet and live AWS. */
export interface Finding {
  readonly kind: FindingKind;
  readonly severity: Severity;
  readonly fleet: string;
  /** Image key; undefined for a copy that no declared image explains. */
  readonly image?: string;
  readonly region: string;
  /** The live AMI concerned; undefined for a missing copy. */
  readonly amiId?: string;
  /** `account 444455556666`, `organization arn:...`, `public (group all)`. */
  readonly principal?: string;
  readonly expected?: string;
  readonly actual?: string;
  /** The pointer's SSM parameter name, for pointer findings. */
  readonly parameter?: string;
  /**
   * The recipient account it concerns: its own copy or pointer (in its account), or what the owner
   * grants it (a launch permission, snapshot access, a key grant). Undefined for the owner's own.
   */
  readonly account?: string;
  /** One sentence a reader understands without the rest of the report. */
  readonly message: string;
  /** What fixes it, as data (lib/report/remedies.ts writes it as a command). */
  readonly fix: Fix;
  /** What fixes it: the command, or the exact AWS CLI call for what Terraform cannot see. */
  readonly remedy: string;
}

/** A finding before its fix is written as a command: what the pure diff returns. */
export type DriftFinding = Omit<Finding, "remedy">;

/**
 * What fixes a finding, as data. `deploy` and `replace` are Terraform's (the address is the
 * resource's): `fleet` names the stack in the one-stack layout (a recipient's stack in every
 * layout), and `resource`, when the fix is the owner's, the resource whose stack the configured
 * layout puts it in (lib/project/layout `stackOf`). The others are for what Terraform cannot see or
 * does not manage.
 */
export type Fix =
  | { readonly kind: "deploy"; readonly fleet: string; readonly what: string; readonly resource?: FleetAddress }
  | { readonly kind: "replace"; readonly fleet: string; readonly address: string; readonly grantKeyIn?: string; readonly resource?: FleetAddress }
  | { readonly kind: "deregister"; readonly region: string; readonly imageId: string }
  | { readonly kind: "remove-permission"; readonly region: string; readonly imageId: string; readonly permission: Principal }
  | { readonly kind: "remove-snapshot-permission"; readonly region: string; readonly snapshotId: string; readonly account: string }
  | { readonly kind: "enable-image"; readonly region: string; readonly imageId: string }
  | { readonly kind: "deprecation"; readonly region: string; readonly imageId: string; readonly at?: string }
  | { readonly kind: "check-pending"; readonly region: string; readonly imageId: string }
  | { readonly kind: "tag"; readonly region: string; readonly imageId: string; readonly tags: readonly (readonly [string, string])[] };

/** A part of live state that could not be read: reported instead of guessing. */
export interface DriftError {
  readonly fleet: string;
  readonly region: string;
  readonly message: string;
  /** The recipient account whose part could not be read; undefined for the owner's. */
  readonly account?: string;
}

/** One fleet's part of the report. */
export interface FleetReport {
  readonly name: string;
  readonly findings: readonly Finding[];
  /**
   * Target Regions of the fleet, and how many of them could not be read at all; and the arguments its
   * stacks set that reconcile does not read by design (`type.argument`, lib/drift/coverage.ts): while
   * any, "in sync" does not cover them, and a plan of its stacks must refresh.
   */
  readonly coverage: { readonly regions: number; readonly unreadRegions: number; readonly unreadArguments: readonly string[] };
}

/** What the pure diff returns: the report without stats, its findings' fixes not yet written as commands. */
export interface DriftResult {
  readonly version: 1;
  readonly inSync: boolean;
  readonly fleets: readonly (Omit<FleetReport, "findings"> & { readonly findings: readonly DriftFinding[] })[];
  readonly errors: readonly DriftError[];
}

/** The JSON report (contract, version 1). */
export interface DriftReport {
  readonly version: 1;
  readonly inSync: boolean;
  readonly fleets: readonly FleetReport[];
  readonly errors: readonly DriftError[];
  readonly stats: Readonly<Record<string, unknown>>;
}

/** Exit code of a report, as `terraform plan -detailed-exitcode`: 1 error, 2 drift, 0 in sync. */
export function exitCodeOf(report: { readonly errors: readonly unknown[]; readonly fleets: readonly { readonly findings: readonly unknown[] }[] }): 0 | 1 | 2 {
  if (report.errors.length > 0) return 1;
  return report.fleets.some((f) => f.findings.length > 0) ? 2 : 0;
}
