import { diffFleets } from "../drift/diff";
import { DriftReport, exitCodeOf } from "../drift/findings";
import { describeAwsError, SdkAwsReader } from "../live/aws";
import { closestRegion, partitionOf } from "../fleet/regions";
import { FleetSpecError, oneLine, quoteValue } from "../fleet/errors";
import { loadProjectConfig } from "../project/config";
import { stackOf } from "../project/layout";
import { readLiveState } from "../live/read";
import { CallStats, LIVE_STATE_VERSION, LiveState } from "../live/state";
import { renderDriftMarkdown } from "../report/markdown";
import { withRemedies } from "../report/remedies";
import { appCli } from "./app-cli";
import { renderDriftText } from "../report/text";
import { readJsonFile, writeFileAtomic } from "./files";
import { CliIo, EXIT } from "./io";
import { OutputFormat, writeReport } from "./output";
import { loadOrReport } from "./validate-command";

/** Options of `ami-fleet reconcile`. */
export interface ReconcileOptions {
  readonly format?: OutputFormat;
  readonly out?: string;
  readonly stats?: boolean;
  readonly stateFile?: string;
  readonly saveState?: string;
  readonly concurrency: number;
  readonly scanRegions: readonly string[];
  readonly pendingTimeout: number;
  /** Seconds one AWS request may take (per attempt). */
  readonly timeout: number;
}

/**
 * `ami-fleet reconcile [paths...]`: reads live state (or a saved one), diffs it against the
 * fleets and reports. Exit 0 in sync, 2 drift, 1 error (including any unreadable Region).
 */
export async function reconcileCommand(paths: readonly string[], options: ReconcileOptions, io: CliIo): Promise<number> {
  const fleets = loadOrReport(paths, io);
  if (!fleets) return EXIT.error;
  // The project's layout (ami-fleet.config.yaml): remedies name the stack that holds each resource.
  const project = loadProjectConfig(io.cwd);
  if ("problems" in project) {
    io.stderr.write(new FleetSpecError(project.problems).report());
    return EXIT.error;
  }
  const { layout, shareGroups } = project.config;

  let state: LiveState;
  let stats: CallStats | undefined;
  const started = Date.now();
  if (options.stateFile) {
    state = parseLiveState(readJsonFile(options.stateFile), options.stateFile);
  } else {
    const scanRegions = scanRegionsOf(options.scanRegions, io);
    if (scanRegions === undefined) return EXIT.error;
    const readerOptions = { requestTimeoutMs: options.timeout * 1000, connectTimeoutMs: Math.min(options.timeout, 10) * 1000 };
    const aws = new SdkAwsReader(readerOptions);
    const progress = io.stderr.isTTY === true;
    // No usable credentials is one problem, not one per fleet and Region: say it once, with the fix.
    try {
      await aws.checkCredentials(fleets[0]?.sourceRegion ?? "us-east-1");
    } catch (error) {
      const profile = io.env.AWS_PROFILE;
      io.stderr.write(
        `ami-fleet reconcile: no AWS credentials: ${oneLine(describeAwsError(error))}\n` +
          (profile
            ? `AWS_PROFILE is ${quoteValue(profile)}: check that this profile exists in ~/.aws/config or ~/.aws/credentials (aws configure list-profiles) and that it can sign in (aws sts get-caller-identity).\n`
            : `Set AWS_PROFILE to a profile in ~/.aws/config, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; check with \`aws sts get-caller-identity\`.\n`),
      );
      return EXIT.error;
    }
    // Each recipient's account through its role (one reader per role, with the same timeouts), as the stacks' provider assumes it.
    const recipientReaders = new Map<string, SdkAwsReader>();
    // Loaded only for fleets with recipients: the credential providers are slow to load.
    const { fromTemporaryCredentials } = fleets.some((fleet) => fleet.recipients.length > 0)
      ? await import("@aws-sdk/credential-providers")
      : { fromTemporaryCredentials: undefined };
    const recipientReader = (roleArn: string) =>
      recipientReaders.get(roleArn) ??
      recipientReaders
        .set(roleArn, new SdkAwsReader({ ...readerOptions, credentials: fromTemporaryCredentials!({ params: { RoleArn: roleArn, RoleSessionName: "ami-fleet-reconcile" } }) }))
        .get(roleArn)!;
    state = await readLiveState(fleets, aws, {
      recipientReader,
      scanRegions,
      concurrency: options.concurrency,
      now: () => new Date(),
      onStart: progress ? (regions) => io.stderr.write(`reading ${regions.length} Region${regions.length === 1 ? "" : "s"}…`) : undefined,
      onRegionDone: progress
        ? (region, done, total, error) =>
            io.stderr.write(`\r\x1b[Kreading Regions ${done}/${total} (${region}${error ? ": error" : ""})${done === total ? "\n" : ""}`)
        : undefined,
    });
    // Every reader's calls, the recipients' accounts included (their role's AssumeRole is the SDK's, not counted).
    const calls: Record<string, number> = {};
    let attempts = 0;
    for (const reader of [aws, ...recipientReaders.values()]) {
      const read = reader.stats();
      for (const [operation, n] of Object.entries(read.calls)) calls[operation] = (calls[operation] ?? 0) + n;
      attempts += read.attempts;
    }
    stats = { calls, attempts, totalCalls: Object.values(calls).reduce((a, b) => a + b, 0) };
  }
  if (options.saveState) writeFileAtomic(options.saveState, `${JSON.stringify(state, null, 2)}\n`);

  const diff = withRemedies(diffFleets(fleets, state, { pendingTimeoutMinutes: options.pendingTimeout }), (fleet, resource) => stackOf(fleet, resource, layout, shareGroups), appCli(io.cwd));
  const report: DriftReport = {
    ...diff,
    stats: {
      source: options.stateFile ? "state-file" : "aws",
      readAt: state.readAt,
      regions: Object.keys(state.regions).length,
      ...(stats ?? {}),
      wallMs: Date.now() - started,
    },
  };

  writeReport(io, report, { text: renderDriftText, markdown: renderDriftMarkdown }, options);
  if (options.stats && stats) {
    const perOperation = Object.entries(stats.calls).map(([op, n]) => `${op}=${n}`).join(" ");
    io.stderr.write(`stats: ${stats.totalCalls} calls (${perOperation}), ${stats.attempts} HTTP attempts, ${report.stats.wallMs} ms\n`);
  }
  return exitCodeOf(report);
}

/** `--scan-regions`: known Region names, or `all`; a typo is a usage error with a hint, never a Region read as empty. */
function scanRegionsOf(given: readonly string[], io: CliIo): readonly string[] | "all" | undefined {
  if (given.length === 1 && given[0] === "all") return "all";
  const unknown = given.filter((region) => partitionOf(region) === undefined);
  for (const region of unknown) {
    const guess = closestRegion(region);
    io.stderr.write(`ami-fleet reconcile: --scan-regions: unknown Region ${quoteValue(region)}.${guess ? ` Did you mean ${guess}?` : ""} Use Region names such as eu-west-1, or all.\n`);
  }
  return unknown.length > 0 ? undefined : given;
}

function parseLiveState(value: unknown, file: string): LiveState {
  const state = value as Partial<LiveState>;
  if (!state || typeof state !== "object" || typeof state.readAt !== "string" || typeof state.regions !== "object" || typeof state.sources !== "object") {
    throw new Error(`${file}: not an ami-fleet live state; write one with reconcile --save-state`);
  }
  if (state.version !== LIVE_STATE_VERSION) {
    throw new Error(`${file}: a live state of version ${String(state.version)}, this ami-fleet reads version ${LIVE_STATE_VERSION}; save it again with reconcile --save-state`);
  }
  return state as LiveState;
}
