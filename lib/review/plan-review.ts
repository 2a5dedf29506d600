import { MANAGEMENT_TAGS } from "../fleet/fleet";
import { FleetAddress, formatAddress, parseAddress } from "../fleet/addresses";
import { accountOfPrincipalArn, describePrincipal, fromPlanValues, outsideOrganization, Principal } from "../fleet/principals";
import { LONG_ACCOUNT_LIST } from "../fleet/advice";
import { CostEstimate, DEFAULT_PRICES, estimateCost, Prices } from "./cost";
import { FLEET_CHANGE_CATEGORIES, FleetChange, RecipientChange, SharingChange } from "./fleet-change";
import { actionOf, CopyAction, mergePlans, Plan, readPlan, replaceReasons } from "./plan";

export { DEFAULT_PRICES, sourcesNeedingSizes } from "./cost";
export type { CostEstimate, Prices, SourceToSize } from "./cost";
export type { CopyAction } from "./plan";
export type { FleetChange, RecipientChange, SharingChange } from "./fleet-change";

/**
 * The review of a saved Terraform/OpenTofu plan (`tofu show -json plan.out`): what a reviewer of
 * an AMI replication change must see, danger first. Pure: plan JSON and options in, a typed
 * summary out; no I/O, no clock.
 */

/** Danger categories; `--allow` accepts them by name. */
export const DANGER_CATEGORIES = [
  "trust-anchor",
  "destroy",
  "replace",
  "revoke",
  "public",
  "unencrypted-shared",
  "outside-organization",
  "concurrency",
  "past-deprecation",
  "pointer-move",
  "recipient",
  "unexplained",
  "unplanned",
] as const;
/** A danger category (contract). */
export type DangerCategory = (typeof DANGER_CATEGORIES)[number];

/** A copy the plan creates, replaces, destroys or updates. */
export interface CopyChange {
  readonly address: string;
  readonly fleet: string;
  readonly image: string;
  readonly region: string;
  readonly action: CopyAction;
  /** For a replacement: the arguments that force it. */
  readonly reasons: readonly string[];
  readonly sourceAmiId?: string;
  /** The Region it is copied from (the source's; a recipient's copy is copied within its Region). */
  readonly sourceRegion?: string;
  readonly encrypted?: boolean;
  /** The recipient account that owns the copy; undefined for the owner's own copies. */
  readonly account?: string;
}

/** A launch permission the plan grants or revokes. */
export interface PermissionChange {
  readonly address: string;
  readonly fleet: string;
  readonly image: string;
  readonly region: string;
  readonly principal: string;
  readonly action: "grant" | "revoke";
}

/** A recipient's read access to a snapshot of the owner's copy (createVolumePermission), granted or revoked. */
export interface SnapshotPermissionChange {
  readonly address: string;
  readonly image: string;
  readonly region: string;
  /** The recipient account. */
  readonly account: string;
  readonly snapshotId: string;
  readonly action: "grant" | "revoke";
}

/** A KMS grant the plan creates or retires. */
export interface GrantChange {
  readonly address: string;
  readonly region: string;
  readonly account: string;
  readonly action: "grant" | "revoke";
}

/** A pointer (SSM parameter consumers resolve) the plan creates, moves or deletes. */
export interface PointerChange {
  readonly address: string;
  readonly fleet: string;
  /** The pointer's key. */
  readonly pointer: string;
  readonly region: string;
  /** The parameter name. */
  readonly parameter: string;
  readonly action: CopyAction;
  /** The AMI it names before the plan; undefined when it is created. */
  readonly from?: string;
  /** The AMI it names after; `(known after apply)` when that is a copy the plan creates. */
  readonly to?: string;
  /** The recipient account it is in; undefined for the owner's. */
  readonly account?: string;
}

/** Something a reviewer must see before approving, and whether --allow accepted it. */
export interface Danger {
  readonly category: DangerCategory;
  readonly address: string;
  readonly message: string;
  /** Accepted by --allow. */
  readonly allowed: boolean;
}

/** The review of one plan (JSON contract, version 1). */
export interface PlanReview {
  readonly version: 1;
  readonly copies: readonly CopyChange[];
  readonly permissions: readonly PermissionChange[];
  readonly grants: readonly GrantChange[];
  readonly snapshotPermissions: readonly SnapshotPermissionChange[];
  readonly pointers: readonly PointerChange[];
  readonly dangers: readonly Danger[];
  /** Advice that does not block: what the change costs more than it needs to. */
  readonly notes: readonly string[];
  /**
   * With the fleet change (`--base-fleets`): every launch permission it grants or revokes and every
   * recipient it adds or removes, whether or not the stack that holds it was planned.
   */
  readonly fleetChange?: { readonly sharing: readonly SharingChange[]; readonly recipients: readonly RecipientChange[] };
  readonly cost: CostEstimate;
  /** True when a danger is present that --allow did not accept. */
  readonly blocked: boolean;
}

/** What the review knows besides the plan. */
export interface ReviewContext {
  /** Accepted danger categories. */
  readonly allow?: readonly DangerCategory[];
  readonly prices?: Prices;
  /** Why --live could not read some sizes (one line per Region that failed). */
  readonly liveErrors?: readonly string[];
  /** Source AMI sizes in GB (sum of its EBS volumes), e.g. read with --live; the plan's data sources win. */
  readonly sourceSizesGb?: Readonly<Record<string, number>>;
  /** Per fleet: its owner's Organization, when the fleet declares one. */
  readonly organizations?: Readonly<Record<string, { readonly arn: string; readonly memberAccounts?: readonly string[] }>>;
  /** Fleets whose files acknowledge sharing unencrypted copies: their unencrypted-shared dangers are allowed. */
  readonly unencryptedSharingAcknowledged?: readonly string[];
  /** Copies one apply may start per destination Region before the review warns. @default 300 */
  readonly maxConcurrentCopies?: number;
  /**
   * The change of the fleet files (base against head). With it, sharing, exposure and recipient
   * verdicts (FLEET_CHANGE_CATEGORIES) come from the fleets alone, so they are the same whatever
   * stacks the plans hold; the plans keep what only a plan knows (destroy, replace, deprecation, ...).
   */
  readonly fleetChange?: FleetChange;
  /**
   * With the fleet change: the stack that holds a fleet's resource in the project's layout, and the
   * stacks of the change that wait for another's apply (not planned, judged from the fleet change).
   * A copy or launch permission the fleet change adds or removes that no plan does, outside a
   * waiting stack, is `unplanned`.
   */
  readonly stacks?: { readonly stackOf: (fleet: string, address: string) => string | undefined; readonly waiting: readonly string[] };
  /** What reconcile reported of the deployed fleets: a refreshed plan's repair of it is explained, not `unexplained`. */
  readonly drift?: readonly DriftNote[];
}

/** A reconcile finding, as much of it as explains a plan's repair. */
export interface DriftNote {
  readonly kind: string;
  readonly fleet: string;
  readonly image?: string;
  readonly region: string;
  readonly principal?: string;
  readonly account?: string;
  /** A pointer's parameter name. */
  readonly parameter?: string;
}

/** The fleet resource behind a plan entry's type and name (the construct's naming rules, parsed back). */
function fleetAddressOf(type: string, name: string): FleetAddress | undefined {
  return parseAddress(`${type}.${name}`);
}

/** Image key and Region of a copy or launch permission entry, when its name follows the naming rules. */
function imageAndRegionOf(type: string, name: string): { image: string; region: string } | undefined {
  const address = fleetAddressOf(type, name);
  return address && "image" in address ? { image: address.image, region: address.region } : undefined;
}

/** Reviews a plan. Throws an Error naming what is wrong when the input is not a plan. */
export function reviewPlan(json: unknown, context: ReviewContext = {}): PlanReview {
  return reviewPlans([json], context);
}

/**
 * Reviews the plans of one change together (one per planned stack): one verdict, whatever the
 * layout split the change into. No plan at all is allowed only with the fleet change (every stack
 * of the change waits for another's apply). Throws an Error naming what is wrong with a plan.
 */
export function reviewPlans(jsons: readonly unknown[], context: ReviewContext = {}): PlanReview {
  if (jsons.length === 0 && !context.fleetChange) throw new Error("no plan to review");
  const plan = mergePlans(jsons.map((json) => readPlan(json)));
  const changes = plan.changes;
  const allow = new Set(context.allow ?? []);
  const copies: CopyChange[] = [];
  const permissions: PermissionChange[] = [];
  const principalOfAddress = new Map<string, Principal | undefined>();
  const grants: GrantChange[] = [];
  const snapshotPermissions: SnapshotPermissionChange[] = [];
  const pointers: PointerChange[] = [];
  const dangers: (Omit<Danger, "allowed"> & { acknowledged?: boolean })[] = [];
  const acknowledgedUnencrypted = new Set(context.unencryptedSharingAcknowledged ?? []);

  for (const rc of changes) {
    if (rc.mode === "data") continue;
    const action = actionOf(rc.change.actions);
    if (action === undefined) continue;
    const values = rc.change.after ?? rc.change.before ?? {};
    const old = rc.change.before ?? {};
    if (rc.type === "aws_ami_copy") {
      const tags = { ...(old.tags ?? {}), ...(values.tags ?? {}) };
      const parsed = imageAndRegionOf(rc.type, rc.name);
      const account = fleetAddressOf(rc.type, rc.name)?.recipient;
      const copy: CopyChange = {
        address: rc.address,
        fleet: tags[MANAGEMENT_TAGS.fleet] ?? "(unknown fleet)",
        image: tags[MANAGEMENT_TAGS.image] ?? parsed?.image ?? rc.name,
        region: values.region ?? parsed?.region ?? "(unknown)",
        action,
        reasons: action === "replace" ? replaceReasons(rc) : [],
        sourceAmiId: rc.change.after?.source_ami_id ?? undefined,
        sourceRegion: rc.change.after?.source_ami_region ?? old.source_ami_region ?? undefined,
        encrypted: rc.change.after?.encrypted ?? undefined,
        ...(account !== undefined ? { account } : {}),
      };
      copies.push(copy);
      const whose = account !== undefined ? `account ${account}'s own copy` : "copy";
      const users = account !== undefined ? `instances and launch templates in account ${account}` : "instances and launch templates";
      if (action === "destroy") {
        dangers.push({ category: "destroy", address: rc.address, message: `destroys ${whose} ${old.id ?? ""} of image ${copy.image} in ${copy.region}: ${users} using it can no longer launch`.replace("  ", " ") });
      } else if (action === "replace") {
        dangers.push({ category: "replace", address: rc.address, message: `replaces ${whose} ${old.id ?? ""} of image ${copy.image} in ${copy.region} (${copy.reasons.join(", ") || "forced"}): the old AMI is deregistered after the new one exists`.replace("  ", " ") });
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
    } else if (rc.type === "aws_ssm_parameter") {
      const parsed = fleetAddressOf(rc.type, rc.name);
      if (parsed?.type !== "aws_ssm_parameter") continue; // not a pointer of ours
      const tags = { ...(old.tags ?? {}), ...(values.tags ?? {}) };
      const from = action === "create" ? undefined : old.insecure_value ?? undefined;
      const to = action === "destroy" ? undefined : rc.change.after_unknown?.insecure_value === true ? "(known after apply)" : values.insecure_value ?? undefined;
      const change: PointerChange = {
        address: rc.address,
        fleet: tags[MANAGEMENT_TAGS.fleet] ?? "(unknown fleet)",
        pointer: parsed.pointer,
        region: values.region ?? parsed.region,
        parameter: values.name ?? old.name ?? "(unknown)",
        action,
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(parsed.recipient !== undefined ? { account: parsed.recipient } : {}),
      };
      pointers.push(change);
      const where = `${change.region}${parsed.recipient !== undefined ? ` of account ${parsed.recipient}` : ""}`;
      // A new name replaces the parameter: the old name, the one consumers resolve, is deleted.
      const renamedFrom = action === "replace" && typeof old.name === "string" && old.name !== change.parameter ? old.name : undefined;
      if (action === "destroy") {
        dangers.push({ category: "destroy", address: rc.address, message: `deletes pointer ${change.parameter} in ${where}: launches that resolve it fail` });
      } else if (renamedFrom !== undefined) {
        dangers.push({
          category: "destroy",
          address: rc.address,
          message: `renames pointer ${renamedFrom} in ${where} to ${change.parameter}: the old name is deleted, so launches that still resolve ${renamedFrom} fail`,
        });
      }
      if (action !== "create" && action !== "destroy" && from !== to) {
        const target = to === "(known after apply)" ? "a copy this plan creates" : to;
        dangers.push({
          category: "pointer-move",
          address: rc.address,
          message: `moves pointer ${change.parameter} in ${where} from ${from ?? "(unknown)"} to ${target}: every consumer that resolves it launches the new AMI from its next launch`,
        });
      }
    } else if (rc.type === "aws_snapshot_create_volume_permission") {
      const parsed = fleetAddressOf(rc.type, rc.name);
      if (parsed?.type !== rc.type || (action !== "create" && action !== "destroy")) continue;
      snapshotPermissions.push({
        address: rc.address,
        image: parsed.image,
        region: values.region ?? parsed.region,
        account: values.account_id ?? parsed.recipient ?? "(unknown)",
        snapshotId: values.snapshot_id ?? parsed.key ?? "(known after apply)",
        action: action === "create" ? "grant" : "revoke",
      });
    } else if (rc.type === "aws_kms_grant") {
      const account = accountOfPrincipalArn(values.grantee_principal) ?? values.grantee_principal ?? "(unknown)";
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
    // A recipient's own copy is not shared; the owner's copy it copies is, in the owner's plan.
    if (copy.account !== undefined) continue;
    if ((copy.action === "create" || copy.action === "replace") && copy.encrypted !== true && sharedCopies.has(`${copy.image}\0${copy.region}`)) {
      const acknowledged = acknowledgedUnencrypted.has(copy.fleet);
      dangers.push({
        category: "unencrypted-shared",
        address: copy.address,
        message:
          `copy of image ${copy.image} in ${copy.region} is shared but not encrypted by the fleet (it keeps its source's encryption)` +
          (acknowledged ? `; fleet ${copy.fleet} acknowledges this (encryption.acknowledgeUnencryptedSharing)` : ""),
        acknowledged,
      });
    }
  }

  for (const permission of namedPermissions.filter((p) => p.action === "grant")) {
    const org = context.organizations?.[permission.fleet];
    const principal = principalOfAddress.get(permission.address);
    const outside = org && principal && outsideOrganization(principal, org);
    if (outside) dangers.push({ category: "outside-organization", address: permission.address, message: `grants ${permission.principal} in ${permission.region}: ${outside}` });
  }

  const notes = longAccountLists(namedPermissions, principalOfAddress);

  // EC2 refuses a deprecation time in the past; the plan's own timestamp is "now" for the review.
  const planTime = Date.parse(plan.timestamp ?? "");
  for (const rc of changes) {
    const when = rc.type === "aws_ami_copy" ? rc.change.after?.deprecation_time : undefined;
    const action = actionOf(rc.change.actions) ?? "";
    // deprecation_time changes in place: an update that sets it is refused by EC2 just the same.
    const sets = action === "create" || action === "replace" || (action === "update" && when !== rc.change.before?.deprecation_time);
    if (typeof when === "string" && sets && Date.parse(when) <= planTime) {
      dangers.push({
        category: "past-deprecation",
        address: rc.address,
        message: `deprecation_time ${when} is not after the plan (${plan.timestamp}): EC2 refuses it, so apply fails; move deprecateAt later`,
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

  const judged: (Omit<Danger, "allowed"> & { acknowledged?: boolean })[] = context.fleetChange
    ? [
        ...withFleetChange([...dangers, ...copiersReplaced(copies, context.fleetChange)], context.fleetChange),
        ...agreement({ copies, permissions: namedPermissions, pointers, grants, snapshotPermissions }, context.fleetChange, context),
      ]
    : dangers;
  const allowedDangers = judged.map(({ acknowledged, ...d }) => ({ ...d, allowed: allow.has(d.category) || acknowledged === true }));
  return {
    version: 1,
    copies: sortBy(copies, (c) => `${c.fleet}\0${c.account ?? ""}\0${c.image}\0${c.region}`),
    permissions: sortBy(namedPermissions, (p) => `${p.fleet}\0${p.image}\0${p.region}\0${p.principal}`),
    grants: sortBy(grants, (g) => `${g.region}\0${g.account}`),
    snapshotPermissions: sortBy(snapshotPermissions, (p) => `${p.account}\0${p.image}\0${p.region}\0${p.snapshotId}`),
    pointers: sortBy(pointers, (p) => `${p.fleet}\0${p.pointer}\0${p.region}`),
    notes,
    ...(context.fleetChange ? { fleetChange: { sharing: context.fleetChange.sharing, recipients: context.fleetChange.recipients } } : {}),
    dangers: sortBy(allowedDangers, (d) => `${String(DANGER_CATEGORIES.indexOf(d.category)).padStart(2, "0")}\0${d.address}`),
    cost: estimateCost(plan, copies, context.prices ?? DEFAULT_PRICES, context.sourceSizesGb, context.liveErrors),
    blocked: allowedDangers.some((d) => !d.allowed),
  };
}

/**
 * The plans' dangers with the fleet change's: in the fleet change's categories only its verdicts
 * count (a plan sees sharing only where its stack holds both a copy and its permissions); in the
 * others, one danger per category and address, the plan's wording first (it knows the AMI ids).
 */
function withFleetChange<D extends Omit<Danger, "allowed"> & { acknowledged?: boolean }>(dangers: readonly D[], change: FleetChange): (D | FleetChange["dangers"][number])[] {
  const kept = dangers.filter((d) => !FLEET_CHANGE_CATEGORIES.has(d.category));
  const seen = new Set(kept.map((d) => `${d.category}\0${d.address}`));
  return [...kept, ...change.dangers.filter((d) => !seen.has(`${d.category}\0${d.address}`))];
}

/**
 * The plans against the fleet change, for copies, pointers, launch permissions, KMS grants and
 * snapshot permissions: a plan that creates, destroys, grants or revokes what the fleet change does
 * not (and reconcile did not report as drift the plan repairs) is `unexplained`; what the fleet change
 * adds or removes that no plan does, outside a stack that waits, is `unplanned`. This is what makes a
 * stack skipped by the flow visible. A snapshot permission is judged by its resource (its instances
 * are the copy's snapshots, which only a plan knows), and only one way: a copy without EBS snapshots
 * has none to grant.
 */
function agreement(
  planned: {
    readonly copies: readonly CopyChange[];
    readonly permissions: readonly PermissionChange[];
    readonly pointers: readonly PointerChange[];
    readonly grants: readonly GrantChange[];
    readonly snapshotPermissions: readonly SnapshotPermissionChange[];
  },
  change: FleetChange,
  context: ReviewContext,
): Omit<Danger, "allowed">[] {
  const { copies, permissions, pointers, grants, snapshotPermissions } = planned;
  const dangers: Omit<Danger, "allowed">[] = [];
  const drift = context.drift ?? [];
  const of = (account: string | undefined) => (account !== undefined ? ` of account ${account}` : "");
  // What the plans create, destroy, grant or revoke; `repairs`: reconcile reported it missing.
  const done = [
    ...copies
      .filter((c) => c.action === "create" || c.action === "destroy")
      .map((c) => ({
        address: c.address,
        key: `${c.fleet}\0${c.address}`,
        action: c.action,
        what: `${c.action} the copy of image ${c.image} in ${c.region}${of(c.account)}`,
        repairs: c.action === "create" && drift.some((d) => d.kind === "missing-copy" && d.fleet === c.fleet && d.image === c.image && d.region === c.region && (d.account ?? undefined) === c.account),
      })),
    ...pointers
      .filter((p) => p.action === "create" || p.action === "destroy")
      .map((p) => ({
        address: p.address,
        key: `${p.fleet}\0${p.address}`,
        action: p.action,
        what: `${p.action === "create" ? "create" : "delete"} pointer ${p.parameter} in ${p.region}${of(p.account)}`,
        repairs:
          p.action === "create" &&
          drift.some((d) => d.kind === "pointer-missing" && d.fleet === p.fleet && d.parameter === p.parameter && d.region === p.region && (d.account ?? undefined) === p.account),
      })),
    ...permissions.map((p) => ({
      address: p.address,
      key: p.address,
      action: p.action,
      what: `${p.action} ${p.principal} on image ${p.image} in ${p.region}`,
      repairs: p.action === "grant" && drift.some((d) => d.kind === "missing-permission" && d.image === p.image && d.region === p.region && d.principal === p.principal),
    })),
    ...grants.map((g) => ({
      address: g.address,
      key: g.address,
      action: g.action,
      what: `${g.action === "grant" ? "create" : "retire"} the KMS grant for account ${g.account} in ${g.region}`,
      repairs: g.action === "grant" && drift.some((d) => d.kind === "missing-grant" && d.region === g.region && d.account === g.account),
    })),
    ...snapshotPermissions.map((p) => ({
      address: resourceOf(p.address),
      key: resourceOf(p.address),
      action: p.action,
      what: `${p.action} account ${p.account} read access to the snapshots of image ${p.image} in ${p.region}`,
      repairs: p.action === "grant" && drift.some((d) => d.kind === "missing-snapshot-permission" && d.image === p.image && d.region === p.region && d.account === p.account),
    })),
  ];
  // Copies and pointers are known by fleet and address (the plan tags them; two fleets' stacks have
  // the same addresses); permissions, grants and snapshot permissions by address alone (a share
  // stack's plan does not say its fleet).
  const implied = [
    ...change.copies.map((c) => ({ ...c, key: `${c.fleet}\0${c.address}`, what: `${c.action === "create" ? "creates" : "destroys"} the copy of image ${c.image} in ${c.region}${of(c.recipient)}` })),
    ...change.pointers.map((p) => ({ ...p, key: `${p.fleet}\0${p.address}`, what: `${p.action === "create" ? "creates" : "deletes"} pointer ${p.pointer} in ${p.region}` })),
    ...change.sharing.map((s) => ({ ...s, key: s.address, what: `${s.action === "grant" ? "grants" : "revokes"} ${s.principal} on image ${s.image} in ${s.region}` })),
    ...change.grants.map((g) => ({ ...g, key: g.address, what: `${g.action === "grant" ? "creates" : "retires"} the KMS grant for account ${g.account} in ${g.region}` })),
  ];
  // Explains a plan's snapshot permissions; never unplanned (see above).
  const readers = change.snapshotReaders.map((r) => ({ key: r.resource, action: r.action }));
  const impliedAt = new Map([...implied, ...readers].map((i) => [i.key, i.action as string]));
  const doneAt = new Map(done.map((d) => [d.key, d.action as string]));

  for (const d of done) {
    if (impliedAt.get(d.key) === d.action || d.repairs) continue;
    dangers.push({
      category: "unexplained",
      address: d.address,
      message: `the plans ${d.what}, which the fleet change does not: drift reconcile did not report, or a stack not applied as its branch says; reconcile, and check the target branch is deployed`,
    });
  }
  const waiting = new Set(context.stacks?.waiting ?? []);
  for (const i of implied) {
    if (doneAt.get(i.key) === i.action) continue;
    const stack = context.stacks?.stackOf(i.fleet, i.address);
    if (stack !== undefined && waiting.has(stack)) continue;
    dangers.push({
      category: "unplanned",
      address: i.address,
      message: `the fleet change ${i.what}, but no reviewed plan does${stack !== undefined ? `, and stack ${stack} is not listed to plan after an apply: plan ${stack} too (ami-fleet changed lists it)` : ""}`,
    });
  }
  return dangers;
}


/**
 * A recipient's own copy is copied from the owner's: when a plan replaces the owner's copy (its
 * source found anew at plan time, which the fleet files cannot tell), the recipient's copy is
 * replaced too, by a stack that waits for this apply. Judged now, at the address its plan will give.
 */
function copiersReplaced(copies: readonly CopyChange[], change: FleetChange): Omit<Danger, "allowed">[] {
  return copies
    .filter((c) => c.account === undefined && c.action === "replace")
    .flatMap((c) =>
      (change.copiedBy[c.fleet]?.[c.address] ?? []).map((address) => {
        const account = parseAddress(address)?.recipient;
        return {
          category: "replace" as const,
          address,
          message:
            `replaces account ${account}'s own copy of image ${c.image} in ${c.region} (source_ami_id: it copies ${c.address}, which the plans replace): ` +
            `the old AMI is deregistered after the new one exists, by its stack's plan after this apply`,
        };
      }),
    );
}

/** The resource of an instance address (`...snapshots_v1_eu-west-1["snap-1"]` -> `...snapshots_v1_eu-west-1`). */
function resourceOf(address: string): string {
  const parsed = parseAddress(address);
  if (!parsed || !("key" in parsed)) return address;
  const { key, ...resource } = parsed;
  return formatAddress(resource as FleetAddress);
}

/** `${image}\0${region}` of copies that have, or will have, a launch permission for someone. */
function sharedCopyKeys(plan: Plan, permissions: readonly PermissionChange[]): string[] {
  const keys = permissions.filter((p) => p.action === "grant").map((p) => `${p.image}\0${p.region}`);
  for (const r of plan.planned) {
    if (r.type !== "aws_ami_launch_permission") continue;
    const parsed = imageAndRegionOf(r.type, r.name);
    if (parsed) keys.push(`${parsed.image}\0${parsed.region}`);
  }
  return keys;
}

/**
 * Many account principals granted per copy: each is a launch permission instance that every plan
 * refreshes and every apply makes with its own call, where one Organization or OU principal is one.
 */
function longAccountLists(permissions: readonly PermissionChange[], principals: ReadonlyMap<string, Principal | undefined>): string[] {
  const perCopy = new Map<string, number>();
  for (const p of permissions) {
    if (p.action !== "grant" || principals.get(p.address)?.kind !== "account") continue;
    const key = `${p.fleet} ${p.image} in ${p.region}`;
    perCopy.set(key, (perCopy.get(key) ?? 0) + 1);
  }
  const long = [...perCopy].filter(([, n]) => n >= LONG_ACCOUNT_LIST);
  if (long.length === 0) return [];
  const total = long.reduce((sum, [, n]) => sum + n, 0);
  const most = Math.max(...long.map(([, n]) => n));
  return [
    `${total} account launch permissions granted on ${long.length} cop${long.length === 1 ? "y" : "ies"} (up to ${most} on one): ` +
      `if those accounts are one Organization or OU, an organizationArns or organizationalUnitArns principal is one instance per copy instead`,
  ];
}

/** Image key -> fleet name, from the management tags of the copies before and after the plan. */
function fleetsFromState(plan: Plan): Map<string, string> {
  const map = new Map<string, string>();
  for (const r of [...plan.prior, ...plan.planned]) {
    const tags = r.values?.tags ?? {};
    if (r.type === "aws_ami_copy" && tags[MANAGEMENT_TAGS.fleet]) map.set(tags[MANAGEMENT_TAGS.image], tags[MANAGEMENT_TAGS.fleet]);
  }
  return map;
}

function sortBy<T>(items: T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => key(a).localeCompare(key(b)));
}
