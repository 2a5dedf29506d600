import { MANAGEMENT_TAGS } from "../fleet/fleet";
import { FleetAddress, parseAddress } from "../fleet/addresses";
import { describePrincipal, fromPlanValues, Principal } from "../fleet/principals";
import { partitionOf } from "../fleet/regions";
import { parse as parseArn, validate as validateArn } from "@aws-sdk/util-arn-parser";

/**
 * The review of a saved Terraform/OpenTofu plan (`tofu show -json plan.out`): what a reviewer of
 * an AMI replication change must see, danger first. Pure: plan JSON and options in, a typed
 * summary out; no I/O, no clock.
 */

/** Danger categories; `--allow` accepts them by name. */
export const DANGER_CATEGORIES = [
  "destroy",
  "replace",
  "public",
  "unencrypted-shared",
  "outside-organization",
  "concurrency",
  "past-deprecation",
] as const;
export type DangerCategory = (typeof DANGER_CATEGORIES)[number];

export type CopyAction = "create" | "replace" | "destroy" | "update";

export interface CopyChange {
  readonly address: string;
  readonly fleet: string;
  readonly image: string;
  readonly region: string;
  readonly action: CopyAction;
  /** For a replacement: the arguments that force it. */
  readonly reasons: readonly string[];
  readonly sourceAmiId?: string;
  readonly encrypted?: boolean;
}

export interface PermissionChange {
  readonly address: string;
  readonly fleet: string;
  readonly image: string;
  readonly region: string;
  readonly principal: string;
  readonly action: "grant" | "revoke";
}

export interface GrantChange {
  readonly address: string;
  readonly region: string;
  readonly account: string;
  readonly action: "grant" | "revoke";
}

export interface Danger {
  readonly category: DangerCategory;
  readonly address: string;
  readonly message: string;
  /** Accepted by --allow. */
  readonly allowed: boolean;
}

/** Prices used by the estimate (USD); the review shows them and they can be overridden. */
export interface Prices {
  /** EBS snapshot storage, per GB-month. */
  readonly snapshotGbMonth: number;
  /** Inter-Region data transfer, per GB. */
  readonly transferGb: number;
}

export const DEFAULT_PRICES: Prices = { snapshotGbMonth: 0.05, transferGb: 0.02 };

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
}

export interface PlanReview {
  readonly version: 1;
  readonly copies: readonly CopyChange[];
  readonly permissions: readonly PermissionChange[];
  readonly grants: readonly GrantChange[];
  readonly dangers: readonly Danger[];
  readonly cost: CostEstimate;
  /** True when a danger is present that --allow did not accept. */
  readonly blocked: boolean;
}

/** What the review knows besides the plan. */
export interface ReviewContext {
  /** Accepted danger categories. */
  readonly allow?: readonly DangerCategory[];
  readonly prices?: Prices;
  /** Source AMI sizes in GB (sum of its EBS volumes), e.g. read with --live; the plan's data sources win. */
  readonly sourceSizesGb?: Readonly<Record<string, number>>;
  /** Per fleet: its owner's Organization, when the fleet declares one. */
  readonly organizations?: Readonly<Record<string, { readonly arn: string; readonly memberAccounts?: readonly string[] }>>;
  /** Copies one apply may start per destination Region before the review warns. @default 300 */
  readonly maxConcurrentCopies?: number;
}

interface ResourceChange {
  address: string;
  mode?: string;
  type: string;
  name: string;
  index?: unknown;
  action_reason?: string;
  change: { actions: string[]; before: any; after: any; replace_paths?: unknown[][] };
}

/** The fleet resource behind a plan entry's type and name (the construct's naming rules, parsed back). */
function fleetAddressOf(type: string, name: string): FleetAddress | undefined {
  return parseAddress(`${type}.${name}`, (region) => partitionOf(region) !== undefined);
}

/** Image key and Region of a copy or launch permission entry, when its name follows the naming rules. */
function imageAndRegionOf(type: string, name: string): { image: string; region: string } | undefined {
  const address = fleetAddressOf(type, name);
  return address && "image" in address ? { image: address.image, region: address.region } : undefined;
}

/** Reviews a plan. Throws an Error naming what is wrong when the input is not a plan. */
export function reviewPlan(plan: unknown, context: ReviewContext = {}): PlanReview {
  const changes = planResourceChanges(plan);
  const allow = new Set(context.allow ?? []);
  const copies: CopyChange[] = [];
  const permissions: PermissionChange[] = [];
  const principalOfAddress = new Map<string, Principal | undefined>();
  const grants: GrantChange[] = [];
  const dangers: Omit<Danger, "allowed">[] = [];

  for (const rc of changes) {
    if (rc.mode === "data") continue;
    const action = actionOf(rc.change.actions);
    if (action === undefined) continue;
    const values = rc.change.after ?? rc.change.before ?? {};
    const old = rc.change.before ?? {};
    if (rc.type === "aws_ami_copy") {
      const tags = { ...(old.tags ?? {}), ...(values.tags ?? {}) };
      const parsed = imageAndRegionOf(rc.type, rc.name);
      const copy: CopyChange = {
        address: rc.address,
        fleet: tags[MANAGEMENT_TAGS.fleet] ?? "(unknown fleet)",
        image: tags[MANAGEMENT_TAGS.image] ?? parsed?.image ?? rc.name,
        region: values.region ?? parsed?.region ?? "(unknown)",
        action,
        reasons: action === "replace" ? replaceReasons(rc) : [],
        sourceAmiId: rc.change.after?.source_ami_id ?? undefined,
        encrypted: rc.change.after?.encrypted ?? undefined,
      };
      copies.push(copy);
      if (action === "destroy") {
        dangers.push({ category: "destroy", address: rc.address, message: `destroys copy ${old.id ?? ""} of image ${copy.image} in ${copy.region}: instances and launch templates using it can no longer launch`.replace("  ", " ") });
      } else if (action === "replace") {
        dangers.push({ category: "replace", address: rc.address, message: `replaces copy ${old.id ?? ""} of image ${copy.image} in ${copy.region} (${copy.reasons.join(", ") || "forced"}): the old AMI is deregistered after the new one exists`.replace("  ", " ") });
      }
    } else if (rc.type === "aws_ami_launch_permission") {
      if (action === "update") continue;
      const parsed = imageAndRegionOf(rc.type, rc.name);
      const principal = fromPlanValues(values);
      principalOfAddress.set(rc.address, principal);
      const sides: ("grant" | "revoke")[] = action === "create" ? ["grant"] : action === "destroy" ? ["revoke"] : [];
      // A replaced permission follows its replaced copy: neither granted nor revoked in effect.
      for (const side of sides) {
        const change: PermissionChange = {
          address: rc.address,
          fleet: "",
          image: parsed?.image ?? "(unknown)",
          region: values.region ?? parsed?.region ?? "(unknown)",
          principal: principal ? describePrincipal(principal) : "(unknown principal)",
          action: side,
        };
        permissions.push(change);
        if (side === "grant" && values.group === "all") {
          dangers.push({ category: "public", address: rc.address, message: `makes image ${change.image} in ${change.region} PUBLIC: every AWS account can launch it` });
        }
      }
    } else if (rc.type === "aws_kms_grant") {
      const account = accountOfPrincipal(values.grantee_principal) ?? values.grantee_principal ?? "(unknown)";
      if (action === "create" || action === "destroy") {
        grants.push({ address: rc.address, region: values.region ?? "(unknown)", account, action: action === "create" ? "grant" : "revoke" });
      }
    }
  }

  // Fleet names for permissions come from their copies (same image and Region).
  const fleetOfCopy = new Map(copies.map((c) => [`${c.image}\0${c.region}`, c.fleet]));
  const fleetOfImage = new Map(copies.map((c) => [c.image, c.fleet]));
  const stateFleets = fleetsFromState(plan);
  const fleetName = (image: string, region: string) =>
    fleetOfCopy.get(`${image}\0${region}`) ?? fleetOfImage.get(image) ?? stateFleets.get(image) ?? stateFleets.values().next().value ?? "(unknown fleet)";
  const namedPermissions = permissions.map((p) => ({ ...p, fleet: fleetName(p.image, p.region) }));

  // Unencrypted copies that are shared: the fleet does not ask for encryption where it shares.
  const sharedCopies = new Set(sharedCopyKeys(plan, namedPermissions));
  for (const copy of copies) {
    if ((copy.action === "create" || copy.action === "replace") && copy.encrypted !== true && sharedCopies.has(`${copy.image}\0${copy.region}`)) {
      dangers.push({
        category: "unencrypted-shared",
        address: copy.address,
        message: `copy of image ${copy.image} in ${copy.region} is shared but not encrypted by the fleet (it keeps its source's encryption)`,
      });
    }
  }

  for (const permission of namedPermissions.filter((p) => p.action === "grant")) {
    const org = context.organizations?.[permission.fleet];
    const principal = principalOfAddress.get(permission.address);
    const outside = org && principal && outsideOrganization(principal, org);
    if (outside) dangers.push({ category: "outside-organization", address: permission.address, message: `grants ${permission.principal} in ${permission.region}: ${outside}` });
  }

  // EC2 refuses a deprecation time in the past; the plan's own timestamp is "now" for the review.
  const planTime = Date.parse((plan as { timestamp?: string }).timestamp ?? "");
  for (const rc of changes) {
    const when = rc.type === "aws_ami_copy" ? rc.change.after?.deprecation_time : undefined;
    const action = actionOf(rc.change.actions) ?? "";
    // deprecation_time changes in place: an update that sets it is refused by EC2 just the same.
    const sets = action === "create" || action === "replace" || (action === "update" && when !== rc.change.before?.deprecation_time);
    if (typeof when === "string" && sets && Date.parse(when) <= planTime) {
      dangers.push({
        category: "past-deprecation",
        address: rc.address,
        message: `deprecation_time ${when} is not after the plan (${(plan as { timestamp: string }).timestamp}): EC2 refuses it, so apply fails; move deprecateAt later`,
      });
    }
  }

  const perRegion = new Map<string, number>();
  for (const copy of copies) if (copy.action === "create" || copy.action === "replace") perRegion.set(copy.region, (perRegion.get(copy.region) ?? 0) + 1);
  const limit = context.maxConcurrentCopies ?? 300;
  for (const [region, count] of perRegion) {
    if (count > limit) {
      dangers.push({ category: "concurrency", address: region, message: `starts ${count} copies in ${region}; a destination Region runs at most ${limit} at once (apply in batches, e.g. -parallelism)` });
    }
  }

  const allowedDangers = dangers.map((d) => ({ ...d, allowed: allow.has(d.category) }));
  return {
    version: 1,
    copies: sortBy(copies, (c) => `${c.fleet}\0${c.image}\0${c.region}`),
    permissions: sortBy(namedPermissions, (p) => `${p.fleet}\0${p.image}\0${p.region}\0${p.principal}`),
    grants: sortBy(grants, (g) => `${g.region}\0${g.account}`),
    dangers: sortBy(allowedDangers, (d) => `${DANGER_CATEGORIES.indexOf(d.category)}\0${d.address}`),
    cost: estimateCost(plan, copies, context),
    blocked: allowedDangers.some((d) => !d.allowed),
  };
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
 */
export function sourcesNeedingSizes(plan: unknown): SourceToSize[] {
  const known = sourceSizesInPlan(plan);
  const needed = new Map<string, SourceToSize>();
  for (const rc of planResourceChanges(plan)) {
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

/** Resource types ami-fleet synthesizes; a plan with none of them is not a fleet's plan. */
const FLEET_RESOURCE_TYPES = new Set(["aws_ami_copy", "aws_ami_launch_permission", "aws_kms_grant"]);

/**
 * The plan's resource changes, after checking that it is a plan the review can judge: a gate
 * must refuse what it cannot read rather than call it safe.
 */
function planResourceChanges(plan: unknown): ResourceChange[] {
  const p = plan as { format_version?: unknown; resource_changes?: unknown; planned_values?: unknown; values?: unknown; errored?: unknown };
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
  const ours = changes.some((rc) => FLEET_RESOURCE_TYPES.has(rc.type)) || plannedResources(plan).some((r) => FLEET_RESOURCE_TYPES.has(r.type));
  if (!ours) {
    throw new Error(
      `the plan has none of ami-fleet's resources (${[...FLEET_RESOURCE_TYPES].join(", ")}): is it the plan of a fleet stack (cdktf.out/stacks/<fleet>)?`,
    );
  }
  return changes;
}

function actionOf(actions: string[]): CopyAction | undefined {
  const key = [...actions].sort().join("+");
  switch (key) {
    case "create":
      return "create";
    case "delete":
      return "destroy";
    case "create+delete":
      return "replace";
    case "update":
      return "update";
    default:
      return undefined; // no-op, read, forget
  }
}

function replaceReasons(rc: ResourceChange): string[] {
  const paths = (rc.change.replace_paths ?? []).map((p) => p.map(String).join("."));
  if (paths.length > 0) return paths.sort();
  if (rc.action_reason === "replace_by_request") return ["-replace requested"];
  // Older plans lack replace_paths: the arguments that force a new copy and differ.
  const forcing = ["name", "source_ami_id", "source_ami_region", "encrypted", "kms_key_id", "region", "destination_outpost_arn"];
  return forcing.filter((k) => JSON.stringify(rc.change.before?.[k]) !== JSON.stringify(rc.change.after?.[k]));
}

/** The account of an IAM principal ARN (`arn:aws:iam::444455556666:root`); undefined for anything else. */
function accountOfPrincipal(principal: unknown): string | undefined {
  if (typeof principal !== "string" || !validateArn(principal)) return undefined;
  const arn = parseArn(principal);
  return arn.service === "iam" && arn.accountId ? arn.accountId : undefined;
}

/**
 * The Organization id (`o-...`) of an Organization ARN (`.../organization/o-...`) or an OU ARN
 * (`.../ou/o-.../ou-...`); undefined for anything else.
 */
function organizationIdOf(arn: string): string | undefined {
  if (!validateArn(arn)) return undefined;
  const [kind, id] = parseArn(arn).resource.split("/");
  return (kind === "organization" || kind === "ou") && id ? id : undefined;
}

function outsideOrganization(principal: Principal, org: { arn: string; memberAccounts?: readonly string[] }): string | undefined {
  const orgId = organizationIdOf(org.arn);
  const { kind, value } = principal;
  if (kind === "organization" && value !== org.arn) return `another Organization than the fleet's (${org.arn})`;
  if (kind === "organizational-unit" && orgId && organizationIdOf(value) !== orgId) return `an OU of another Organization than the fleet's (${orgId})`;
  if (kind === "account" && org.memberAccounts && !org.memberAccounts.includes(value)) return `not a member account of ${orgId ?? org.arn}`;
  if (kind === "public") return `everyone, outside ${orgId ?? org.arn}`;
  return undefined;
}

/** `${image}\0${region}` of copies that have, or will have, a launch permission for someone. */
function sharedCopyKeys(plan: unknown, permissions: readonly PermissionChange[]): string[] {
  const keys = permissions.filter((p) => p.action === "grant").map((p) => `${p.image}\0${p.region}`);
  for (const r of plannedResources(plan)) {
    if (r.type !== "aws_ami_launch_permission") continue;
    const parsed = imageAndRegionOf(r.type, r.name);
    if (parsed) keys.push(`${parsed.image}\0${parsed.region}`);
  }
  return keys;
}

function plannedResources(plan: unknown): { type: string; name: string; values: any; mode?: string }[] {
  const out: { type: string; name: string; values: any; mode?: string }[] = [];
  const walk = (module: any) => {
    if (!module) return;
    for (const r of module.resources ?? []) out.push(r);
    for (const child of module.child_modules ?? []) walk(child);
  };
  walk((plan as any)?.planned_values?.root_module);
  return out;
}

function fleetsFromState(plan: unknown): Map<string, string> {
  const map = new Map<string, string>();
  const walk = (module: any) => {
    if (!module) return;
    for (const r of module.resources ?? []) {
      const tags = r.values?.tags ?? {};
      if (r.type === "aws_ami_copy" && tags[MANAGEMENT_TAGS.fleet]) map.set(tags[MANAGEMENT_TAGS.image], tags[MANAGEMENT_TAGS.fleet]);
    }
    for (const child of module.child_modules ?? []) walk(child);
  };
  walk((plan as any)?.prior_state?.values?.root_module);
  walk((plan as any)?.planned_values?.root_module);
  return map;
}

/** Source AMI sizes (GB) from the data.aws_ami sources the plan read. */
function sourceSizesInPlan(plan: unknown): Record<string, number> {
  const sizes: Record<string, number> = {};
  const walk = (module: any) => {
    if (!module) return;
    for (const r of module.resources ?? []) {
      if (r.mode !== "data" || r.type !== "aws_ami" || !r.values?.id) continue;
      const gb = (r.values.block_device_mappings ?? []).reduce((sum: number, m: any) => sum + Number(m?.ebs?.volume_size ?? 0), 0);
      if (gb > 0) sizes[r.values.id] = gb;
    }
    for (const child of module.child_modules ?? []) walk(child);
  };
  walk((plan as any)?.prior_state?.values?.root_module);
  return sizes;
}

function estimateCost(plan: unknown, copies: readonly CopyChange[], context: ReviewContext): CostEstimate {
  const prices = context.prices ?? DEFAULT_PRICES;
  const sizes = { ...(context.sourceSizesGb ?? {}), ...sourceSizesInPlan(plan) };
  const unknown = new Set<string>();
  const storage = new Map<string, number>();
  let transferGb = 0;
  const beforeSizes = new Map<string, number>();
  for (const rc of planResourceChanges(plan)) {
    if (rc.type === "aws_ami_copy" && rc.change.before?.source_ami_id) beforeSizes.set(rc.address, sizes[rc.change.before.source_ami_id] ?? NaN);
  }
  for (const copy of copies) {
    const size = copy.sourceAmiId ? sizes[copy.sourceAmiId] : undefined;
    if (copy.action === "create" || copy.action === "replace") {
      if (size === undefined) {
        unknown.add(copy.sourceAmiId ?? `(source of ${copy.address})`);
        continue;
      }
      transferGb += size; // a cross-Region copy is always a full copy
      if (copy.action === "create") storage.set(copy.region, (storage.get(copy.region) ?? 0) + size);
    } else if (copy.action === "destroy") {
      const old = beforeSizes.get(copy.address);
      if (old !== undefined && !Number.isNaN(old)) storage.set(copy.region, (storage.get(copy.region) ?? 0) - old);
      else unknown.add(sourceOfDestroyed(plan, copy.address) ?? `(source of ${copy.address})`);
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
  };
}

function sourceOfDestroyed(plan: unknown, address: string): string | undefined {
  return planResourceChanges(plan).find((rc) => rc.address === address)?.change.before?.source_ami_id;
}

function sortBy<T>(items: T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => key(a).localeCompare(key(b)));
}
