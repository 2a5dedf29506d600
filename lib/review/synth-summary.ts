/**
 * What a synthesized stack would create, read from its cdk.tf.json: resource instances with
 * for_each expanded over the launch_permissions local. Pure: JSON in, lines out.
 */

/** One resource instance address, e.g. aws_ami_launch_permission.share_v1_eu-west-1_accounts["444455556666"]. */
export function instanceAddresses(tf: any): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries<any>(tf?.resource ?? {})) {
    for (const [name, body] of Object.entries<any>(byName)) {
      const keys = forEachKeys(tf, body.for_each);
      if (keys === undefined) out.push(`${type}.${name}`);
      else for (const key of keys) out.push(`${type}.${name}["${key}"]`);
    }
  }
  return out.sort();
}

/** The keys a `toset(local.launch_permissions[...].x)` for_each expands to; undefined without for_each. */
function forEachKeys(tf: any, forEach: unknown): string[] | undefined {
  if (forEach === undefined) return undefined;
  const match = /local\.launch_permissions(?:\["([^"]+)"\]|\.([\w-]+))\.(\w+)/.exec(String(forEach));
  if (!match) return ["<unknown until plan>"];
  return tf.locals?.launch_permissions?.[match[1] ?? match[2]]?.[match[3]] ?? [];
}

/** `golden-base: 6 aws_ami_copy, 6 aws_ami_launch_permission` and the addresses, indented. */
export function describeStack(stackName: string, tf: any): string {
  const addresses = instanceAddresses(tf);
  const counts = new Map<string, number>();
  for (const address of addresses) {
    const type = address.split(".")[0];
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  const header = `${stackName}: ${[...counts].map(([type, n]) => `${n} ${type}`).join(", ") || "nothing"} would be created`;
  return [header, ...addresses.map((a) => `  + ${a}`)].join("\n");
}
