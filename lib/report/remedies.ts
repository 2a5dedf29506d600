import type { FleetAddress } from "../fleet/addresses";
import { stackOf } from "../project/layout";
import { DriftFinding, DriftReport, DriftResult, Finding, Fix } from "../drift/findings";
import { RECIPIENT_KEY_OPERATIONS } from "../fleet/desired";
import { launchPermissionShorthand } from "../fleet/principals";

/** The stack of the project's layout that holds a fleet's resource (lib/project/layout `stackOf`, with the layout bound). */
export type StackOf = (fleet: string, resource: FleetAddress) => string;

/** The default layout: one stack per fleet, and one per recipient. */
const oneStackLayout: StackOf = (fleet, resource) => stackOf(fleet, resource, "fleet");

/**
 * Fixes written as the commands a reader runs: `cdktf deploy`, `tofu apply -replace`, or the exact
 * AWS CLI call for what Terraform cannot see. The pure diff says what fixes a finding; this says how
 * to type it.
 */
export function remedyOf(fix: Fix, stackOf: StackOf = oneStackLayout, cli: AppCli = "cdktf"): string {
  switch (fix.kind) {
    case "deploy":
      return `${cli} deploy ${fix.resource ? stackOf(fix.fleet, fix.resource) : fix.fleet} (Terraform ${fix.what})`;
    case "replace": {
      const stack = fix.resource ? stackOf(fix.fleet, fix.resource) : fix.fleet;
      const replace = `cd cdktf.out/stacks/${stack} && tofu apply -replace='${fix.address}' (after ${cli} synth)`;
      return fix.grantKeyIn
        ? `Give this account access to the key in ${fix.grantKeyIn} (${RECIPIENT_KEY_OPERATIONS.map((op) => `kms:${op}`).join(", ")}), then ${replace}`
        : replace;
    }
    case "deregister":
      return `After checking no launch template or Auto Scaling group uses it: aws ec2 deregister-image --region ${fix.region} --image-id ${fix.imageId} --delete-associated-snapshots`;
    case "remove-permission":
      return `aws ec2 modify-image-attribute --region ${fix.region} --image-id ${fix.imageId} --launch-permission "Remove=[{${launchPermissionShorthand(fix.permission)}}]"`;
    case "remove-snapshot-permission":
      // `all` is the group of every account (a public snapshot), not an account id.
      return `aws ec2 modify-snapshot-attribute --region ${fix.region} --snapshot-id ${fix.snapshotId} --attribute createVolumePermission --operation-type remove ${fix.account === "all" ? "--group-names all" : `--user-ids ${fix.account}`}`;
    case "enable-image":
      return `aws ec2 enable-image --region ${fix.region} --image-id ${fix.imageId}`;
    case "deprecation":
      return fix.at
        ? `aws ec2 enable-image-deprecation --region ${fix.region} --image-id ${fix.imageId} --deprecate-at ${fix.at}`
        : `aws ec2 disable-image-deprecation --region ${fix.region} --image-id ${fix.imageId}`;
    case "check-pending":
      return `Check the copy: aws ec2 describe-images --region ${fix.region} --image-ids ${fix.imageId}; a destination Region runs at most 300 copies at once`;
    case "tag":
      return `aws ec2 create-tags --region ${fix.region} --resources ${fix.imageId} --tags ${fix.tags.map(([k, v]) => `Key=${k},Value=${v}`).join(" ")} (found by name only: it may have been re-created outside Terraform)`;
  }
}

/** A finding with its remedy written. */
export function withRemedy(finding: DriftFinding, stackOf: StackOf = oneStackLayout, cli: AppCli = "cdktf"): Finding {
  return { ...finding, remedy: remedyOf(finding.fix, stackOf, cli) };
}

/** The diff's result with every finding's remedy written (for the app's CLI): the report, less its stats. */
export function withRemedies(result: DriftResult, stackOf: StackOf = oneStackLayout, cli: AppCli = "cdktf"): Omit<DriftReport, "stats"> {
  return { ...result, fleets: result.fleets.map((fleet) => ({ ...fleet, findings: fleet.findings.map((f) => withRemedy(f, stackOf, cli)) })) };
}

/** The CLI that drives a team's app: cdktf-cli, or CDK Terrain's `cdktn` (the one that starts on Node 24). */
export type AppCli = "cdktf" | "cdktn";

