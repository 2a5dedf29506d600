import type { CopyChange } from "./plan-review";
import { actionOf, Plan, readPlan } from "./plan";

/**
 * The cost a plan's copies add or remove: snapshot storage per Region and the one-time
 * cross-Region transfer, from the source AMIs' sizes. Pure.
 */

/** Prices used by the estimate (USD); the review shows them and they can be overridden. */
export interface Prices {
  /** EBS snapshot storage, per GB-month. */
  readonly snapshotGbMonth: number;
  /** Inter-Region data transfer, per GB. */
  readonly transferGb: number;
}

/** us-east-1 list prices (USD). */
export const DEFAULT_PRICES: Prices = { snapshotGbMonth: 0.05, transferGb: 0.02 };

/** What a plan's copies cost: snapshot storage per month and one-time transfer. */
export interface CostEstimate {
  readonly prices: Prices;
  /** Change in snapshot storage per Region, GB and USD per month (negative when copies go). */
  readonly storageByRegion: readonly { readonly region: string; readonly gb: number; readonly usdPerMonth: number }[];
  readonly storageUsdPerMonth: number;
  /** One-time cross-Region transfer of the copies created. */
  readonly transferGb: number;
  readonly transferUsd: number;
  /** Source AMIs whose size was not known (neither in the plan nor read with --live). */
  readonly unknownSizes: readonly string[];
  /** Why --live could not read sizes, per Region, when it was asked to and failed. */
  readonly liveErrors?: readonly string[];
}

/** A source AMI whose size the review needs, and the Region it lives in (from the plan). */
export interface SourceToSize {
  readonly amiId: string;
  /** undefined when the plan does not say. */
  readonly region?: string;
}

/**
 * Source AMIs the plan's copies need sizes for and the plan itself lacks: the sources of copies
 * created or replaced, and of copies destroyed (their storage goes away), each with its Region.
 * Throws as `readPlan` does for what is not a plan.
 */
export function sourcesNeedingSizes(json: unknown): SourceToSize[] {
  const plan = readPlan(json);
  const known = sourceSizesInPlan(plan);
  const needed = new Map<string, SourceToSize>();
  for (const rc of plan.changes) {
    if (rc.type !== "aws_ami_copy" || rc.mode === "data") continue;
    const action = actionOf(rc.change.actions);
    const sides = action === "destroy" ? [rc.change.before] : action === "create" || action === "update" ? [rc.change.after] : action === "replace" ? [rc.change.before, rc.change.after] : [];
    for (const side of sides) {
      const id = side?.source_ami_id;
      if (typeof id !== "string" || id in known || needed.has(id)) continue;
      needed.set(id, { amiId: id, region: typeof side.source_ami_region === "string" ? side.source_ami_region : undefined });
    }
  }
  return [...needed.values()].sort((a, b) => a.amiId.localeCompare(b.amiId));
}

/** The estimate for the copies a review found; sizes from the plan's data sources win over `sourceSizesGb`. */
export function estimateCost(
  plan: Plan,
  copies: readonly CopyChange[],
  prices: Prices,
  sourceSizesGb: Readonly<Record<string, number>> = {},
  liveErrors: readonly string[] = [],
): CostEstimate {
  const sizes = { ...sourceSizesGb, ...sourceSizesInPlan(plan) };
  const unknown = new Set<string>();
  const storage = new Map<string, number>();
  let transferGb = 0;
  const sourceBefore = new Map<string, string>();
  for (const rc of plan.changes) {
    if (rc.type === "aws_ami_copy" && typeof rc.change.before?.source_ami_id === "string") sourceBefore.set(rc.address, rc.change.before.source_ami_id);
  }
  for (const copy of copies) {
    const size = copy.sourceAmiId ? sizes[copy.sourceAmiId] : undefined;
    if (copy.action === "create" || copy.action === "replace") {
      if (size === undefined) {
        unknown.add(copy.sourceAmiId ?? `(source of ${copy.address})`);
        continue;
      }
      // A cross-Region copy is always a full copy; a copy within its Region (a recipient's) moves no data between Regions.
      if (copy.sourceRegion === undefined || copy.sourceRegion !== copy.region) transferGb += size;
      if (copy.action === "create") storage.set(copy.region, (storage.get(copy.region) ?? 0) + size);
    } else if (copy.action === "destroy") {
      const source = sourceBefore.get(copy.address);
      const old = source === undefined ? undefined : sizes[source];
      if (old !== undefined) storage.set(copy.region, (storage.get(copy.region) ?? 0) - old);
      else unknown.add(source ?? `(source of ${copy.address})`);
    }
  }
  const round = (n: number) => Math.round(n * 100) / 100;
  const storageByRegion = [...storage]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([region, gb]) => ({ region, gb, usdPerMonth: round(gb * prices.snapshotGbMonth) }));
  return {
    prices,
    storageByRegion,
    storageUsdPerMonth: round(storageByRegion.reduce((s, r) => s + r.gb, 0) * prices.snapshotGbMonth),
    transferGb,
    transferUsd: round(transferGb * prices.transferGb),
    unknownSizes: [...unknown].sort(),
    ...(liveErrors.length > 0 ? { liveErrors: [...liveErrors] } : {}),
  };
}

/** Source AMI sizes (GB) from the data.aws_ami sources the plan read. */
function sourceSizesInPlan(plan: Plan): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const r of plan.prior) {
    if (r.mode !== "data" || r.type !== "aws_ami" || !r.values?.id) continue;
    const gb = (r.values.block_device_mappings ?? []).reduce((sum: number, m: any) => sum + Number(m?.ebs?.volume_size ?? 0), 0);
    if (gb > 0) sizes[r.values.id] = gb;
  }
  return sizes;
}
