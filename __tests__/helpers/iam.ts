import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "./cli";
import type { RecordedCall } from "./moto";

/**
 * The roles docs/iam documents, and the access key each signs with in the end-to-end suite: the
 * emulator allows every call, so the key is how a recorded call is charged to its role. A key
 * AssumeRole issued is charged to the recipient role. The harness's own setup calls sign with
 * `test` and are not charged to any role.
 */
export const ROLE_KEYS = {
  /** The pull-request job: reconcile of the target branch, synth, `tofu init/plan/show`, `cdktf diff`. */
  plan: "AKIAAMIFLEETPLAN0000",
  /** The deploy: `tofu apply` / `destroy`, `cdktf deploy`. */
  apply: "AKIAAMIFLEETAPPLY000",
  /** `ami-fleet reconcile` on its own (the daily drift job): read-only. */
  reconcile: "AKIAAMIFLEETREAD0000",
} as const;

export type Role = keyof typeof ROLE_KEYS | "recipient";
export const ROLES: readonly Role[] = ["plan", "apply", "reconcile", "recipient"];

/** The harness's key: its calls set up and change the emulator, they are no role's. */
export const HARNESS_KEY = "test";

/** The environment of a command run as `role`, unless `env` already signs with other credentials than the harness's. */
export function asRole(role: keyof typeof ROLE_KEYS, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.AWS_ACCESS_KEY_ID === undefined || env.AWS_ACCESS_KEY_ID === HARNESS_KEY ? { ...env, AWS_ACCESS_KEY_ID: ROLE_KEYS[role] } : env;
}

/** The role a `tofu` command runs as: what changes AWS is the apply role's, everything else the plan role's. */
export function tofuRole(args: readonly string[]): keyof typeof ROLE_KEYS {
  const command = args.find((arg) => !arg.startsWith("-"));
  return command === "apply" || command === "destroy" || command === "import" ? "apply" : "plan";
}

/** The session name the harness assumes recipient roles with (helpers/live.ts): its calls are no role's. */
export const HARNESS_SESSION = "ami-fleet-tests";

/** The role of a recorded call, or undefined for the harness's own calls. */
export function roleOf(call: RecordedCall): Role | undefined {
  if (/^arn:aws[\w-]*:iam::\d{12}:role\//.test(call.principal)) return call.session === HARNESS_SESSION ? undefined : "recipient";
  const role = (Object.keys(ROLE_KEYS) as (keyof typeof ROLE_KEYS)[]).find((r) => ROLE_KEYS[r] === call.principal);
  return role;
}

interface Statement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
}

export interface Policy {
  readonly Version: string;
  readonly Statement: readonly Statement[];
}

export const IAM_DIR = path.join(PROJECT_ROOT, "docs", "iam");

/** The policy docs/iam holds for a role (`<role>.json`). */
export function policyOf(role: Role | "consumer"): Policy {
  return JSON.parse(fs.readFileSync(path.join(IAM_DIR, `${role}.json`), "utf8")) as Policy;
}

/** The action patterns a policy allows (`ec2:Describe*` style wildcards kept as written). */
export function allowedPatterns(policy: Policy): string[] {
  return [...new Set(policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => ([] as string[]).concat(s.Action)))];
}

/** IAM's action match: case-insensitive, `*` and `?` wildcards. Resources are not judged: the emulator does not know them. */
export function matches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split("").map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("")}$`, "i");
  return re.test(action);
}

/**
 * Actions IAM never refuses, so no policy lists them: "No permissions are required to perform this
 * operation" (STS API reference, GetCallerIdentity; an explicit Deny does not stop it either).
 */
export const NEEDS_NO_PERMISSION: ReadonlySet<string> = new Set(["sts:GetCallerIdentity"]);

/** Whether a policy allows an action (an explicit Deny wins, as in IAM). */
export function allows(policy: Policy, action: string): boolean {
  const of = (effect: "Allow" | "Deny") => policy.Statement.filter((s) => s.Effect === effect).some((s) => ([] as string[]).concat(s.Action).some((p) => matches(p, action)));
  return of("Allow") && !of("Deny");
}

/** The calls recorded by every emulator of the e2e run (AMI_FLEET_CALLS_DIR), by role: action → count. */
export function recordedByRole(dir: string): Map<Role, Map<string, number>> {
  const byRole = new Map<Role, Map<string, number>>(ROLES.map((role) => [role, new Map()]));
  for (const file of fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".jsonl")) : []) {
    for (const line of fs.readFileSync(path.join(dir, file), "utf8").split("\n").filter(Boolean)) {
      const call = JSON.parse(line) as RecordedCall;
      const role = roleOf(call);
      if (!role) continue;
      const actions = byRole.get(role)!;
      actions.set(call.action, (actions.get(call.action) ?? 0) + 1);
    }
  }
  return byRole;
}
