import { MANAGEMENT_TAGS } from "../fleet/fleet";

/**
 * Which fleets' stacks a change touches, from two synthesized outputs (the base branch's and this
 * one's): a stack whose Terraform configuration did not change needs no plan (reconcile is its
 * drift check). Pure: configurations in, stack names out.
 */

/** The stacks of head against base. */
export interface StackChanges {
  /** In both, with a different configuration: plan them. */
  readonly changed: readonly string[];
  /** Only in head: new fleets; plan them. */
  readonly added: readonly string[];
  /** Only in base: removed fleets; plan their destruction from the base's stack. */
  readonly removed: readonly string[];
  readonly unchanged: readonly string[];
}

/** Compares synthesized stacks (cdk.tf.json by stack name). */
export function compareStacks(base: Readonly<Record<string, unknown>>, head: Readonly<Record<string, unknown>>): StackChanges {
  const names = [...new Set([...Object.keys(base), ...Object.keys(head)])].sort();
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  const unchanged: string[] = [];
  for (const name of names) {
    if (!(name in base)) added.push(name);
    else if (!(name in head)) removed.push(name);
    else if (canonical(base[name]) === canonical(head[name])) unchanged.push(name);
    else changed.push(name);
  }
  return { changed, added, removed, unchanged };
}

/**
 * The fleet a synthesized stack belongs to, from its copies' management tag (every stack has at
 * least one copy); undefined for a configuration that is not a fleet stack.
 */
export function fleetOfStack(tf: unknown): string | undefined {
  const copies = (tf as { resource?: { aws_ami_copy?: Record<string, { tags?: Record<string, string> }> } })?.resource?.aws_ami_copy ?? {};
  for (const copy of Object.values(copies)) {
    const fleet = copy?.tags?.[MANAGEMENT_TAGS.fleet];
    if (typeof fleet === "string") return fleet;
  }
  return undefined;
}

/**
 * A configuration as text that is equal when Terraform would see the same configuration: keys
 * sorted, cdktf's `//` metadata dropped, and the local backend's path (relative to wherever the
 * output was written, so it differs between two output folders of the same project) left out.
 */
export function canonical(tf: unknown): string {
  const strip = (value: unknown, path: readonly string[]): unknown => {
    if (Array.isArray(value)) return value.map((item) => strip(item, path));
    if (value === null || typeof value !== "object") return value;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      if (key === "//") continue;
      const at = [...path, key];
      if (at.join(".") === "terraform.backend.local.path") continue;
      out[key] = strip((value as Record<string, unknown>)[key], at);
    }
    return out;
  };
  return JSON.stringify(strip(tf, []));
}
