// The Terraform half of `npm run bench:scale`: for a fleet the emulator already holds, what the
// team's commands cost through the latency-and-buckets proxy. The naive path is one stack planned
// with default flags (a full refresh); the path the README recommends plans only the stacks whose
// configuration changed (`ami-fleet changed`), and plans them without refresh when `reconcile` of
// the deployed fleet (the base branch's file) is in sync.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { FaultProxy } from "../../__tests__/helpers/fault-proxy";
import { emulatorEnv } from "../../__tests__/helpers/moto";
import { synth, Toolchain } from "../../__tests__/helpers/tofu";
import { loadFleets } from "../../lib/fleet/load";
import { fleetState, LiveCopy, scaleFleetDoc, StateTemplate } from "./terraform-state";

export interface TerraformHalfInput {
  readonly toolchain: Toolchain;
  readonly template: StateTemplate;
  readonly proxy: FaultProxy;
  readonly sources: Record<string, string>;
  readonly regions: readonly string[];
  readonly accounts: number;
  readonly live: ReadonlyMap<string, LiveCopy>;
  /** Run the naive full-refresh plans (skipped at sizes where they would take too long). */
  readonly naive: boolean;
  readonly log: (line: string) => void;
}

/** One measured command. */
export interface Measured {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  /** Peak resident memory of the largest process, MiB (GNU time). */
  readonly peakMiB: number;
  /** API calls by action, and throttled answers, through the proxy while it ran. */
  readonly calls: Record<string, number>;
  readonly throttled: number;
}

export interface TerraformHalfResult {
  readonly instances: number;
  readonly noChangeNaive?: Measured;
  readonly noChangeFast: { seconds: number; calls: number };
  readonly addPlanNaive?: Measured;
  readonly addFast: { seconds: number; planSeconds: number; planBytes: number; review: Measured };
  readonly addApply: Measured;
}

const STACK = "scale";

export async function terraformHalf(input: TerraformHalfInput): Promise<TerraformHalfResult> {
  const { toolchain, proxy, log } = input;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-bench-tf-"));
  try {
    const env = { ...emulatorEnv(proxy.endpoint), AWS_MAX_ATTEMPTS: "10" };
    const baseFile = path.join(dir, "base.yaml");
    const headFile = path.join(dir, "head.yaml");
    fs.writeFileSync(baseFile, stringify(scaleFleetDoc(STACK, input.sources, input.regions, input.accounts)));
    const [fleet] = loadFleets([baseFile]);
    // Every output folder is directly in `dir`, so every stack's local state is dir/terraform.scale.tfstate.
    const stackOf = (out: string) => path.join(dir, out, "stacks", STACK);
    const synthTo = (file: string, out: string) => {
      synth([file], path.join(dir, out));
      // The tests' fail-fast provider setting is not what users run: the provider retries throttling.
      fs.rmSync(path.join(stackOf(out), "emulator_override.tf.json"), { force: true });
    };
    synthTo(baseFile, "base.out");
    fs.writeFileSync(path.join(dir, `terraform.${STACK}.tfstate`), JSON.stringify(fleetState(fleet, input.sources, input.live, input.template)));
    const tofu = (out: string, args: string[]) =>
      measure(proxy, toolchain.tofu, [`-chdir=${stackOf(out)}`, ...args], {
        ...env, TF_CLI_CONFIG_FILE: toolchain.cliConfig, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1",
      });
    const cli = (args: string[]) => measure(proxy, process.execPath, [path.join(__dirname, "..", "..", "bin", "ami-fleet.js"), ...args], { ...env, NO_COLOR: "1" });
    ok(await tofu("base.out", ["init", "-no-color", "-input=false"]), [0], "init");

    const instances = fleet.regions.length * fleet.images.length * (input.accounts + 1);
    // The written state is the deployed fleet: a plan without refresh must find nothing to do.
    const check = ok(await tofu("base.out", ["plan", "-refresh=false", "-detailed-exitcode", "-no-color", "-input=false"]), [0], "plan of the written state");
    log(`  written state checked: tofu plan -refresh=false finds no change (${check.seconds.toFixed(1)} s, peak ${check.peakMiB} MiB)`);

    let noChangeNaive: Measured | undefined;
    if (input.naive) {
      noChangeNaive = ok(await tofu("base.out", ["plan", "-detailed-exitcode", "-no-color", "-input=false"]), [0], "naive no-change plan");
      log(`  no change, naive (tofu plan, full refresh): ${describe(noChangeNaive)}`);
    }

    // No fleet changed: synth, `changed` finds nothing, reconcile of the deployed fleets is the drift check.
    const started = Date.now();
    const before = totalCalls(proxy);
    synthTo(baseFile, "nochange.out");
    const synthSeconds = (Date.now() - started) / 1000;
    const unchanged = ok(await cli(["changed", "--base", path.join(dir, "base.out"), path.join(dir, "nochange.out")]), [0], "changed (no change)");
    const inSync = ok(await cli(["reconcile", baseFile, "--format", "json"]), [0], "reconcile (no change)");
    const noChangeFast = { seconds: (Date.now() - started) / 1000, calls: totalCalls(proxy) - before };
    log(
      `  no change, plan only what changed: ${noChangeFast.seconds.toFixed(1)} s, ${noChangeFast.calls} calls ` +
        `(synth ${synthSeconds.toFixed(1)} s, changed ${unchanged.seconds.toFixed(1)} s: no stack to plan, reconcile ${inSync.seconds.toFixed(1)} s: in sync)`,
    );

    // Add one account: the pull-request flow of docs/ci/ami-fleet-pr.yml.
    fs.writeFileSync(headFile, stringify(scaleFleetDoc(STACK, input.sources, input.regions, input.accounts + 1)));
    const addStarted = Date.now();
    synthTo(headFile, "add.out");
    const changed = ok(await cli(["changed", "--base", path.join(dir, "base.out"), path.join(dir, "add.out")]), [2], "changed (add one account)");
    if (changed.stdout.trim() !== STACK) throw new Error(`changed listed ${JSON.stringify(changed.stdout)}, expected ${STACK}`);
    const deployed = await cli(["reconcile", baseFile, "--format", "json"]);
    const refresh = deployed.code === 0 ? ["-refresh=false"] : [];
    ok(await tofu("add.out", ["init", "-no-color", "-input=false"]), [0], "init");
    const plan = ok(await tofu("add.out", ["plan", ...refresh, "-no-color", "-input=false", "-out=add.tfplan"]), [0], "plan (add one account)");
    const shown = ok(await tofu("add.out", ["show", "-json", "add.tfplan"]), [0], "show -json");
    const planJson = path.join(stackOf("add.out"), "plan.json");
    fs.writeFileSync(planJson, shown.stdout);
    const review = ok(await cli(["review", "--plan", planJson]), [0], "review (add one account)");
    const addFast = { seconds: (Date.now() - addStarted) / 1000, planSeconds: plan.seconds, planBytes: Buffer.byteLength(shown.stdout), review };
    log(
      `  add one account, synth to reviewed plan: ${addFast.seconds.toFixed(1)} s (reconcile of the deployed fleet ${deployed.code === 0 ? "in sync: plan -refresh=false" : `exit ${deployed.code}: full refresh`}; ` +
        `plan ${describe(plan)}; show -json ${shown.seconds.toFixed(1)} s, plan JSON ${(addFast.planBytes / 1048576).toFixed(1)} MiB; ` +
        `review ${review.seconds.toFixed(1)} s, peak ${review.peakMiB} MiB)`,
    );

    let addPlanNaive: Measured | undefined;
    if (input.naive) {
      addPlanNaive = ok(await tofu("add.out", ["plan", "-no-color", "-input=false", "-out=naive.tfplan"]), [0], "naive plan (add one account)");
      log(`  add one account, naive plan (full refresh): ${describe(addPlanNaive)}`);
    }

    const addApply = ok(await tofu("add.out", ["apply", "-no-color", "-input=false", "add.tfplan"]), [0], "apply (add one account)");
    log(`  add one account, apply of the reviewed plan: ${describe(addApply)}`);
    const after = ok(await cli(["reconcile", headFile, "--format", "json"]), [0], "reconcile after apply");
    log(`  after the apply, reconcile of the new fleet: in sync (${after.seconds.toFixed(1)} s)`);
    return { instances, noChangeNaive, noChangeFast, addPlanNaive, addFast, addApply };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function describe(run: Measured): string {
  const calls = Object.entries(run.calls).sort(([, a], [, b]) => b - a).map(([action, n]) => `${action} ${n}`).join(", ");
  return `${run.seconds.toFixed(1)} s, peak ${run.peakMiB} MiB, ${sum(run.calls)} calls (${calls || "none"}), ${run.throttled} throttled`;
}

function sum(calls: Record<string, number>): number {
  return Object.values(calls).reduce((a, b) => a + b, 0);
}

function totalCalls(proxy: FaultProxy): number {
  return [...proxy.actions.values()].reduce((a, b) => a + b, 0);
}

function ok(run: Measured, codes: number[], what: string): Measured {
  if (!codes.includes(run.code ?? -1)) {
    throw new Error(`${what}: exit ${run.code} (expected ${codes.join(" or ")})\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`);
  }
  return run;
}

/** Runs a command under GNU time, asynchronously (the proxy answers from this process). */
function measure(proxy: FaultProxy, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  const timeFile = path.join(os.tmpdir(), `ami-fleet-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const before = new Map(proxy.actions);
  const throttledBefore = proxy.throttled();
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("/usr/bin/time", ["-f", "%M", "-o", timeFile, command, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => {
      const peakKiB = Number(fs.readFileSync(timeFile, "utf8").trim().split("\n").pop());
      fs.rmSync(timeFile, { force: true });
      const calls: Record<string, number> = {};
      for (const [action, n] of proxy.actions) if (n - (before.get(action) ?? 0) > 0) calls[action] = n - (before.get(action) ?? 0);
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000, peakMiB: Math.round(peakKiB / 1024), calls, throttled: proxy.throttled() - throttledBefore });
    });
  });
}
