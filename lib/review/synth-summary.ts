import { FleetAddress, formatAddress, parseAddress } from "../fleet/addresses";
import { LAUNCH_PERMISSIONS_LOCAL, LISTED_KINDS, ShareEntry, shareTableKey } from "../fleet/principals";

/**
 * What a synthesized stack would create, read from its cdk.tf.json: resource instances, with each
 * for_each expanded over the lists of the launch_permissions local that the resource's address
 * names (its kind of principal and its Region). Pure: JSON in, lines out.
 */

/** One resource instance address, e.g. aws_ami_launch_permission.share_v1_eu-west-1_accounts["444455556666"]. */
export function instanceAddresses(tf: any): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries<any>(tf?.resource ?? {})) {
    for (const [name, body] of Object.entries<any>(byName)) {
      const address = `${type}.${name}`;
      if (body.for_each === undefined) {
        out.push(address);
        continue;
      }
      const parsed = parseAddress(address);
      const keys = parsed && forEachKeys(tf, parsed);
      if (parsed && (parsed.type === "aws_ami_launch_permission" || parsed.type === "aws_kms_grant") && keys) out.push(...keys.map((key) => formatAddress({ ...parsed, key })));
      else out.push(`${address}["<unknown until plan>"]`);
    }
  }
  return out.sort();
}

/** The keys a fleet resource's for_each expands to: the local's list its address selects. */
function forEachKeys(tf: any, address: FleetAddress): readonly string[] | undefined {
  const table: Record<string, ShareEntry> | undefined = tf.locals?.[LAUNCH_PERMISSIONS_LOCAL];
  if (!table) return undefined;
  const entry: ShareEntry | undefined = table[shareTableKey(table, address.region)];
  const spelling =
    address.type === "aws_kms_grant"
      ? LISTED_KINDS.account
      : Object.values(LISTED_KINDS).find((s) => address.type === "aws_ami_launch_permission" && s.group === address.group);
  return spelling && (entry?.[spelling.localList] ?? []);
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

/**
 * The stacks in the order they deploy: each after the stacks it depends on (cdktf's manifest.json
 * `dependencies`: a share or recipient stack after the copy stacks it reads), ties by name. A
 * dependency on a stack that is not there is ignored; a cycle is an error naming its stacks.
 */
export function deployOrder(stacks: readonly string[], dependencies: Readonly<Record<string, readonly string[]>>): string[] {
  const names = new Set(stacks);
  const order: string[] = [];
  const placed = new Set<string>();
  let remaining = [...stacks].sort();
  while (remaining.length > 0) {
    const ready = remaining.filter((name) => (dependencies[name] ?? []).every((d) => placed.has(d) || !names.has(d)));
    if (ready.length === 0) throw new Error(`the stacks ${remaining.join(", ")} depend on each other in a cycle`);
    for (const name of ready) {
      order.push(name);
      placed.add(name);
    }
    remaining = remaining.filter((name) => !placed.has(name));
  }
  return order;
}
