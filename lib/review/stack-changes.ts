import { copiesOutputName, parseAddress } from "../fleet/addresses";
import { MANAGEMENT_TAGS } from "../fleet/fleet";

/** The key of ami-fleet's own entry in a synthesized stack's `//` block (stacks/fleet-stack.ts writes it). */
export const STACK_METADATA_KEY = "ami-fleet";

/** ami-fleet's entry in a synthesized stack's `//` block (Terraform ignores the block). */
export interface StackMetadata {
  readonly fleet: string;
  /** The other stacks' outputs this stack reads at plan time (layout: split's share stacks read the copy ids). */
  readonly reads?: readonly { readonly stack: string; readonly outputs: readonly string[] }[];
}

function metadataOf(tf: unknown): Partial<StackMetadata> | undefined {
  return (tf as { "//"?: Record<string, Partial<StackMetadata>> })?.["//"]?.[STACK_METADATA_KEY];
}

/**
 * The stacks `head`'s stack `name` must wait for: those whose outputs it reads and that the base
 * does not have yet (a new stack, or one without the output: a new image's copies). Until they are
 * applied its plan cannot read the copy ids, so it is planned after (README "Stack layout").
 */
export function waitsFor(name: string, base: Readonly<Record<string, unknown>>, head: Readonly<Record<string, unknown>>): string[] {
  const reads = metadataOf(head[name])?.reads ?? [];
  const outputsOf = (tf: unknown) => (tf as { output?: Record<string, unknown> })?.output ?? {};
  return reads
    .filter(({ stack, outputs }) => {
      if (!(stack in base)) return true;
      const replaced = replacedCopyOutputs(base[stack], head[stack]);
      return outputs.some((output) => !(output in outputsOf(base[stack])) || replaced.has(output));
    })
    .map(({ stack }) => stack)
    .sort();
}

/** The arguments of `aws_ami_copy` that force a new copy, and so a new id (DOMAIN.md "Copying"). */
const COPY_REPLACED_BY = ["name", "source_ami_id", "source_ami_region", "encrypted", "kms_key_id", "destination_outpost_arn"] as const;

/**
 * The `copies_<image>` outputs of a stack whose ids this change may give new values: a copy whose
 * replacing arguments differ, or one removed; and, when the stack is planned at all (its
 * configuration changed), a copy whose source resolves at plan time (`lookup`, `ssmParameter`: its
 * `source_ami_id` is an expression, the same text before and after, and the plan may find a newer
 * AMI and replace the copy). A stack that reads them (a recipient's, a share stack) must be planned
 * again once this one is applied, even when its own configuration did not change. A copy added
 * changes no id that was read (a new output is `waitsFor`'s other case).
 */
export function replacedCopyOutputs(base: unknown, head: unknown): Set<string> {
  const copiesOf = (tf: unknown) => (tf as { resource?: { aws_ami_copy?: Record<string, Record<string, unknown>> } })?.resource?.aws_ami_copy ?? {};
  const before = copiesOf(base);
  const after = copiesOf(head);
  const forcing = (copy: Record<string, unknown> | undefined) => canonical(Object.fromEntries(COPY_REPLACED_BY.map((arg) => [arg, copy?.[arg] ?? null])));
  const planned = canonical(base) !== canonical(head);
  const resolvedAtPlan = (copy: Record<string, unknown> | undefined) => typeof copy?.source_ami_id === "string" && copy.source_ami_id.includes("${");
  const outputs = new Set<string>();
  for (const name of Object.keys(before)) {
    if (name in after && forcing(before[name]) === forcing(after[name]) && !(planned && resolvedAtPlan(after[name]))) continue;
    const address = parseAddress(`aws_ami_copy.${name}`);
    if (address?.type === "aws_ami_copy") outputs.add(copiesOutputName(address.image));
  }
  return outputs;
}

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
 * The fleet a synthesized stack belongs to: from ami-fleet's entry in its `//` block, else (a
 * stack synthesized before that entry existed, e.g. a base branch's) from its copies' management
 * tag; undefined for a configuration that is not a fleet stack.
 */
export function fleetOfStack(tf: unknown): string | undefined {
  const metadata = metadataOf(tf)?.fleet;
  if (typeof metadata === "string") return metadata;
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
