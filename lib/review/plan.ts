/**
 * A saved plan as `tofu show -json plan.out` (or `terraform show -json`) writes it: the parts the
 * review reads, checked once and typed. Pure.
 */

/** One entry of the plan's `resource_changes`. */
export interface ResourceChange {
  readonly address: string;
  readonly mode?: string;
  readonly type: string;
  readonly name: string;
  readonly index?: unknown;
  readonly action_reason?: string;
  readonly change: { readonly actions: string[]; readonly before: any; readonly after: any; readonly after_unknown?: any; readonly replace_paths?: unknown[][] };
}

/** A resource (or data source) of a module's `resources`, in `planned_values` or `prior_state`. */
export interface PlanResource {
  readonly address?: string;
  readonly mode?: string;
  readonly type: string;
  readonly name: string;
  readonly values: any;
}

/** The parts of a plan the review reads. */
export interface Plan {
  /** When the plan was made (RFC 3339): "now" for the review. */
  readonly timestamp?: string;
  readonly changes: readonly ResourceChange[];
  /** Resources as the plan leaves them (`planned_values`), every module. */
  readonly planned: readonly PlanResource[];
  /** Resources and data sources before the plan (`prior_state`), every module. */
  readonly prior: readonly PlanResource[];
}

/** What a change does to its resource, in the review's words. */
export type CopyAction = "create" | "replace" | "destroy" | "update";

/** Resource types ami-fleet synthesizes; a plan with none of them is not a fleet's plan. */
export const FLEET_RESOURCE_TYPES: ReadonlySet<string> = new Set(["aws_ami_copy", "aws_ami_launch_permission", "aws_kms_grant", "aws_ssm_parameter", "aws_snapshot_create_volume_permission"]);

/**
 * Reads a plan, after checking that it is one the review can judge: a gate must refuse what it
 * cannot read rather than call it safe. Throws an Error that says what the input is instead.
 */
export function readPlan(json: unknown): Plan {
  const p = json as { format_version?: unknown; resource_changes?: unknown; planned_values?: any; prior_state?: any; values?: unknown; errored?: unknown; timestamp?: unknown };
  if (!p || typeof p !== "object" || Array.isArray(p) || typeof p.format_version !== "string") {
    throw new Error("not a plan in JSON: expected the output of `tofu show -json plan.out` (or `terraform show -json`)");
  }
  if (p.planned_values === undefined && p.resource_changes === undefined) {
    throw new Error(
      p.values !== undefined
        ? "this is a state, not a plan: save a plan (`tofu plan -out=plan.out`) and give `tofu show -json plan.out`"
        : "not a plan in JSON: it has neither planned_values nor resource_changes; give `tofu show -json plan.out`",
    );
  }
  if (p.errored === true) {
    throw new Error("the plan errored (\"errored\": true): it is incomplete and cannot be applied; fix the errors `tofu plan` printed and plan again");
  }
  if (p.resource_changes !== undefined && !Array.isArray(p.resource_changes)) {
    throw new Error("not a plan in JSON: resource_changes is not a list");
  }
  const changes = (p.resource_changes ?? []) as ResourceChange[];
  for (const [i, rc] of changes.entries()) {
    if (!rc || typeof rc !== "object" || typeof rc.type !== "string" || typeof rc.address !== "string" || !Array.isArray(rc.change?.actions)) {
      throw new Error(`not a plan in JSON: resource_changes[${i}] lacks type, address or change.actions`);
    }
  }
  const planned = moduleResources(p.planned_values?.root_module);
  if (!changes.some((rc) => FLEET_RESOURCE_TYPES.has(rc.type)) && !planned.some((r) => FLEET_RESOURCE_TYPES.has(r.type))) {
    throw new Error(
      `the plan has none of ami-fleet's resources (${[...FLEET_RESOURCE_TYPES].join(", ")}): is it the plan of a fleet stack (cdktf.out/stacks/<fleet>)?`,
    );
  }
  return {
    timestamp: typeof p.timestamp === "string" ? p.timestamp : undefined,
    changes,
    planned,
    prior: moduleResources(p.prior_state?.values?.root_module),
  };
}

/** The plans of several stacks as one (their addresses do not overlap); "now" is the earliest plan's time. */
export function mergePlans(plans: readonly Plan[]): Plan {
  const times = plans.map((p) => p.timestamp).filter((t): t is string => t !== undefined).sort((a, b) => Date.parse(a) - Date.parse(b));
  return {
    timestamp: times[0],
    changes: plans.flatMap((p) => p.changes),
    planned: plans.flatMap((p) => p.planned),
    prior: plans.flatMap((p) => p.prior),
  };
}

/** The action of a change's `actions`; undefined for no-op, read and forget. */
export function actionOf(actions: readonly string[]): CopyAction | undefined {
  switch ([...actions].sort().join("+")) {
    case "create":
      return "create";
    case "delete":
      return "destroy";
    case "create+delete":
      return "replace";
    case "update":
      return "update";
    default:
      return undefined;
  }
}

/** Why a copy is replaced: the plan's replace_paths, else the forcing arguments that differ. */
export function replaceReasons(rc: ResourceChange): string[] {
  const paths = (rc.change.replace_paths ?? []).map((p) => p.map(String).join("."));
  if (paths.length > 0) return paths.sort();
  if (rc.action_reason === "replace_by_request") return ["-replace requested"];
  // Older plans lack replace_paths: the arguments that force a new copy and differ.
  const forcing = ["name", "source_ami_id", "source_ami_region", "encrypted", "kms_key_id", "region", "destination_outpost_arn"];
  return forcing.filter((k) => JSON.stringify(rc.change.before?.[k]) !== JSON.stringify(rc.change.after?.[k]));
}

/** Every resource of a module and its child modules, depth first. */
function moduleResources(root: any): PlanResource[] {
  const out: PlanResource[] = [];
  const walk = (module: any) => {
    if (!module || typeof module !== "object") return;
    for (const r of Array.isArray(module.resources) ? module.resources : []) if (r && typeof r.type === "string") out.push(r);
    for (const child of Array.isArray(module.child_modules) ? module.child_modules : []) walk(child);
  };
  walk(root);
  return out;
}
