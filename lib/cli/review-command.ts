import { describeAwsError, SdkAwsReader } from "../live/aws";
import { oneLine } from "../fleet/errors";
import { DANGER_CATEGORIES, DangerCategory, DriftNote, reviewPlans, sourcesNeedingSizes } from "../review/plan-review";
import { FleetSpecError } from "../fleet/errors";
import { MANAGEMENT_TAGS } from "../fleet/fleet";
import { parseAddress } from "../fleet/addresses";
import { DEFAULT_CONFIG, loadProjectConfig } from "../project/config";
import { stackOf } from "../project/layout";
import { fleetChange } from "../review/fleet-change";
import { actionOf, Plan, readPlan } from "../review/plan";
import { renderReviewMarkdown, renderReviewText } from "../report/review";
import * as fs from "fs";
import { DEFAULT_FLEET_DIR } from "../fleet/load";
import { loadOrReport } from "./validate-command";
import { readJsonFile } from "./files";
import { CliIo, EXIT } from "./io";
import { OutputFormat, writeReport } from "./output";

/** Options of `ami-fleet review`. */
export interface ReviewOptions {
  /** Plan JSON files, one per stack of the change. */
  readonly plan: readonly string[];
  readonly format?: OutputFormat;
  readonly out?: string;
  readonly allow: readonly string[];
  readonly fleets?: string[];
  /** The fleet files before the change: the sharing verdicts come from the fleet change. */
  readonly baseFleets?: string[];
  /** `ami-fleet changed --format json` of the change: its waiting stacks. */
  readonly changed?: string;
  /** `ami-fleet reconcile --format json` of the deployed fleets: drift a refreshed plan repairs. */
  readonly reconcile?: string;
  readonly live?: boolean;
  readonly liveRegion?: string;
  readonly priceStorage: number;
  readonly priceTransfer: number;
  /** Seconds one AWS request (--live) may take. */
  readonly timeout: number;
}

/**
 * `ami-fleet review --plan plan.json [--plan ...] [--base-fleets base/fleets]`: one summary of a
 * change's saved plans for a reviewer, danger first. Exit 0 nothing dangerous (or all allowed), 2
 * dangerous changes, 1 error.
 */
export async function reviewCommand(options: ReviewOptions, io: CliIo): Promise<number> {
  const unknown = options.allow.filter((a) => !(DANGER_CATEGORIES as readonly string[]).includes(a));
  if (unknown.length > 0) {
    io.stderr.write(`ami-fleet review: --allow ${unknown.join(",")}: unknown category. Use ${DANGER_CATEGORIES.join(", ")}.\n`);
    return EXIT.error;
  }
  if (options.plan.length === 0 && !options.baseFleets) {
    io.stderr.write("ami-fleet review: give --plan (a plan JSON from `tofu show -json plan.out`), or --base-fleets to judge a change whose stacks all wait.\n");
    return EXIT.error;
  }
  const plans = options.plan.map((file) => {
    if (file !== "-" && isSavedPlan(file)) {
      throw new Error(`${file}: a saved plan (binary), not its JSON: run \`tofu show -json ${file} > plan.json\` (or terraform show -json) and give --plan plan.json`);
    }
    const json = readJsonFile(file);
    try {
      return { file, json, plan: readPlan(json) };
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`);
    }
  });

  // The fleets' declared Organizations, when the fleet files are at hand (fleets/ by default).
  const fleetPaths = options.fleets ?? (fs.existsSync(DEFAULT_FLEET_DIR) ? [DEFAULT_FLEET_DIR] : []);
  const fleets = fleetPaths.length > 0 ? loadOrReport(fleetPaths, io) : [];
  if (!fleets) return EXIT.error;
  // Fail closed: who may be granted is judged against the fleet files that declare the grants (their
  // Organization and acknowledgements); without them those verdicts cannot be given, so the review
  // refuses rather than give a quieter one.
  const read = new Set(fleets.map((f) => f.name));
  const unjudged = plans.flatMap(({ file, plan }) => {
    if (!grantsAccess(plan)) return [];
    const missing = fleetsOfPlan(plan).filter((name) => !read.has(name));
    return fleets.length === 0 || missing.length > 0 ? [`${file}${missing.length > 0 ? ` (fleet ${missing.join(", ")})` : ""}`] : [];
  });
  if (unjudged.length > 0 || (options.baseFleets && fleetPaths.length === 0)) {
    const where = fleetPaths.length === 0 ? `no fleet files were read (no ${DEFAULT_FLEET_DIR}/ in ${io.cwd})` : `its fleet files are not among those read (${fleetPaths.join(", ")})`;
    io.stderr.write(
      `ami-fleet review: ${unjudged.length > 0 ? `${unjudged.join(", ")} grants launch permissions or key access, but` : "--base-fleets judges the change against the change's own fleet files, but"} ` +
        `${where}: their Organization and acknowledgements decide the verdict. ` +
        `Run it in the project folder, or pass --fleets <the change's fleet files> (in a pull request, with --base-fleets <the target branch's fleets/>).\n`,
    );
    return EXIT.error;
  }
  const organizations = Object.fromEntries(fleets.filter((f) => f.organization).map((f) => [f.name, f.organization!]));
  // Before a repository's first fleet there are none: an empty folder is no fleets, not an error.
  const basePaths = options.baseFleets?.filter((p) => !(fs.existsSync(p) && fs.statSync(p).isDirectory() && fs.readdirSync(p).length === 0));
  const baseFleets = basePaths === undefined ? undefined : basePaths.length === 0 ? [] : loadOrReport(basePaths, io);
  if (options.baseFleets && !baseFleets) return EXIT.error;
  if (!baseFleets && (options.changed || options.reconcile)) {
    io.stderr.write("ami-fleet review: --changed and --reconcile judge a fleet change: give --base-fleets too.\n");
    return EXIT.error;
  }
  // Where each resource lives (the project's layout) and which stacks of the change wait for an apply.
  const project = baseFleets ? loadProjectConfig(io.cwd) : { config: DEFAULT_CONFIG };
  if ("problems" in project) {
    io.stderr.write(new FleetSpecError(project.problems).report());
    return EXIT.error;
  }
  const { layout, shareGroups } = project.config;
  const waiting = options.changed ? waitingStacks(readJsonFile(options.changed), options.changed) : [];
  const drift = options.reconcile ? driftNotes(readJsonFile(options.reconcile), options.reconcile) : [];

  let sourceSizesGb: Record<string, number> = {};
  const liveErrors: string[] = [];
  if (options.live) {
    // Each source is asked for in its own Region (the plan's source_ami_region), one call per Region.
    const fallback = options.liveRegion ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION ?? "us-east-1";
    const byRegion = new Map<string, string[]>();
    for (const { amiId, region } of plans.flatMap(({ json }) => sourcesNeedingSizes(json))) {
      const where = region ?? fallback;
      byRegion.set(where, [...(byRegion.get(where) ?? []), amiId]);
    }
    const reader = new SdkAwsReader({ requestTimeoutMs: options.timeout * 1000, connectTimeoutMs: Math.min(options.timeout, 10) * 1000 });
    for (const [region, ids] of byRegion) {
      try {
        const images = await reader.describeImages(region, { ImageIds: ids });
        for (const image of images) {
          sourceSizesGb[image.ImageId!] = (image.BlockDeviceMappings ?? []).reduce((sum, m) => sum + (m.Ebs?.VolumeSize ?? 0), 0);
        }
      } catch (error) {
        // Sizes only feed the cost estimate: they stay "unknown" there, and the review says why.
        const why = `cannot read source sizes in ${region}: ${oneLine(describeAwsError(error))}`;
        liveErrors.push(why);
        io.stderr.write(`ami-fleet review --live: ${why}\n`);
      }
    }
  }

  const review = reviewPlans(
    plans.map(({ json }) => json),
    {
    allow: options.allow as DangerCategory[],
    organizations,
    unencryptedSharingAcknowledged: fleets.filter((f) => f.acknowledgeUnencryptedSharing).map((f) => f.name),
    sourceSizesGb,
    liveErrors,
    prices: { snapshotGbMonth: options.priceStorage, transferGb: options.priceTransfer },
    ...(baseFleets
      ? {
          fleetChange: fleetChange(baseFleets, fleets),
          stacks: {
            stackOf: (fleet: string, address: string) => {
              const parsed = parseAddress(address);
              return parsed && stackOf(fleet, parsed, layout, shareGroups);
            },
            waiting,
          },
          drift,
        }
      : {}),
  });
  writeReport(io, review, { text: renderReviewText, markdown: renderReviewMarkdown }, options);
  return review.blocked ? EXIT.changes : EXIT.ok;
}

/** A saved plan file (`tofu plan -out`) is a zip archive: it starts with the zip signature. */
function isSavedPlan(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  } catch {
    return false; // unreadable: readJsonFile says why
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** True when a plan grants someone access that the fleet files judge: a launch permission, a KMS grant or a snapshot permission. */
function grantsAccess(plan: Plan): boolean {
  const access = new Set(["aws_ami_launch_permission", "aws_kms_grant", "aws_snapshot_create_volume_permission"]);
  return plan.changes.some((rc) => rc.mode !== "data" && access.has(rc.type) && ["create", "replace"].includes(actionOf(rc.change.actions) ?? ""));
}

/** The fleets a plan's copies belong to (their management tag, before and after); none for a stack without copies (a share stack). */
function fleetsOfPlan(plan: Plan): string[] {
  const names = [...plan.prior, ...plan.planned].filter((r) => r.type === "aws_ami_copy").map((r) => r.values?.tags?.[MANAGEMENT_TAGS.fleet]);
  return [...new Set(names.filter((n): n is string => typeof n === "string"))].sort();
}

/** The stacks of `ami-fleet changed --format json` that wait for another's apply. */
function waitingStacks(json: unknown, file: string): string[] {
  const plan = (json as { plan?: unknown })?.plan;
  if (!Array.isArray(plan)) throw new Error(`${file}: not the JSON of \`ami-fleet changed --format json\` (no "plan" list)`);
  return plan.filter((s) => Array.isArray(s?.waitsFor) && s.waitsFor.length > 0 && typeof s.stack === "string").map((s) => s.stack as string);
}

/** The findings of `ami-fleet reconcile --format json`, as much as explains a plan's repair. */
function driftNotes(json: unknown, file: string): DriftNote[] {
  const fleets = (json as { fleets?: unknown })?.fleets;
  if (!Array.isArray(fleets)) throw new Error(`${file}: not the JSON of \`ami-fleet reconcile --format json\` (no "fleets" list)`);
  return fleets.flatMap((f) => (Array.isArray(f?.findings) ? f.findings : []).map((x: DriftNote) => ({ ...x, fleet: f.name })));
}
