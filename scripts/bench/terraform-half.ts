// The Terraform half of `npm run bench:scale`: for a fleet the emulator already holds, what the
// team's commands cost through the latency-and-buckets proxy. The naive path is one stack planned
// with default flags (a full refresh); the path the README recommends plans only the stacks whose
// configuration changed (`ami-fleet changed`), and plans them without refresh when `reconcile` of
// the deployed fleet (the base branch's file) is in sync. With `layout: fleet-region` or `split` the
// recommended path plans the changed stacks `parallel` at a time.
import { spawn } from "child_process";
import pLimit = require("p-limit");
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { FaultProxy } from "../../__tests__/helpers/fault-proxy";
import { emulatorEnv } from "../../__tests__/helpers/moto";
import { synth, Toolchain, tofuEnv } from "../../__tests__/helpers/tofu";
import { loadFleets } from "../../lib/fleet/load";
import { StackLayout } from "../../lib/project/config";
import { fleetStacks } from "../../lib/project/layout";
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
  /** The stack layout of the recommended path (the naive path is one stack per fleet). */
  readonly layout: StackLayout;
  /** Share groups of layout: split. */
  readonly shareGroups: number;
  /** Stacks planned or applied at once. */
  readonly parallel: number;
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
  readonly layout: StackLayout;
  readonly stacks: number;
  /** Stacks that "add one account" changed. */
  readonly planned: number;
  readonly noChangeNaive?: Measured;
  readonly noChangeFast: { seconds: number; calls: number };
  readonly addPlanNaive?: Measured;
  readonly addFast: { seconds: number; planSeconds: number; planBytes: number; review: Measured };
  readonly addApply: Measured;
}

const STACK = "scale";

export async function terraformHalf(input: TerraformHalfInput): Promise<TerraformHalfResult> {
  const { toolchain, proxy, log, layout } = input;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-bench-tf-"));
  try {
    const env = { ...emulatorEnv(proxy.endpoint), AWS_MAX_ATTEMPTS: "10" };
    const baseFile = path.join(dir, "base.yaml");
    const headFile = path.join(dir, "head.yaml");
    fs.writeFileSync(baseFile, stringify(scaleFleetDoc(STACK, input.sources, input.regions, input.accounts)));
    const [fleet] = loadFleets([baseFile]);
    const configFor = (chosen: StackLayout) => {
      const file = path.join(dir, `config-${chosen}.yaml`);
      fs.writeFileSync(file, stringify(chosen === "split" ? { layout: chosen, shareGroups: input.shareGroups } : { layout: chosen }));
      return file;
    };
    // Every output folder is directly in `dir`, so a stack's local state is dir/terraform.<stack>.tfstate
    // whichever output folder plans it.
    const stackDir = (out: string, stack: string) => path.join(dir, out, "stacks", stack);
    // The fleet file is synthesized from one path, as a repository's fleets/ has it in both
    // branches: its path is in the synthesized messages, so two paths would change every stack.
    const fleetFile = path.join(dir, "fleets", "scale.yaml");
    fs.mkdirSync(path.dirname(fleetFile));
    const synthTo = (file: string, out: string, chosen: StackLayout) => {
      fs.copyFileSync(file, fleetFile);
      synth([fleetFile], path.join(dir, out), { AMI_FLEET_CONFIG: configFor(chosen) });
      // The tests' fail-fast provider setting is not what users run: the provider retries throttling.
      for (const stack of fs.readdirSync(path.join(dir, out, "stacks"))) fs.rmSync(path.join(stackDir(out, stack), "emulator_override.tf.json"), { force: true });
    };
    const tofu = (out: string, stack: string, args: string[]) =>
      measure(proxy, toolchain.tofu, [`-chdir=${stackDir(out, stack)}`, ...args], { ...env, ...tofuEnv(toolchain) });
    const cli = (args: string[]) => measure(proxy, process.execPath, [path.join(__dirname, "..", "..", "bin", "ami-fleet.js"), ...args], { ...env, NO_COLOR: "1" });
    // One command per stack, `parallel` at once: the step's wall time, calls and peak.
    const eachStack = async (names: readonly string[], run: (stack: string) => Promise<Measured>): Promise<Measured> => {
      const limit = pLimit(input.parallel);
      const before = new Map(proxy.actions);
      const throttledBefore = proxy.throttled();
      const started = Date.now();
      const runs = await Promise.all(names.map((name) => limit(() => run(name))));
      return {
        code: runs.find((r) => r.code !== 0)?.code ?? 0,
        stdout: runs.map((r) => r.stdout).join("\n"),
        stderr: runs.map((r) => r.stderr).join("\n"),
        seconds: (Date.now() - started) / 1000,
        peakMiB: Math.max(...runs.map((r) => r.peakMiB)),
        calls: callsSince(proxy, before),
        throttled: proxy.throttled() - throttledBefore,
      };
    };

    // The deployed fleet: the naive layout's one stack, and the recommended layout's stacks, each
    // with the state an apply would have left.
    const naiveStacks = input.naive ? fleetStacks(fleet, "fleet") : [];
    const stacks = fleetStacks(fleet, layout, input.shareGroups);
    for (const stack of new Map([...naiveStacks, ...stacks].map((s) => [s.name, s])).values()) {
      fs.writeFileSync(path.join(dir, `terraform.${stack.name}.tfstate`), JSON.stringify(fleetState(stack, input.sources, input.live, input.template)));
    }
    const names = stacks.map((s) => s.name);
    log(`  layout ${layout}: ${names.length} stack(s)`);
    synthTo(baseFile, "base.out", layout);
    let noChangeNaive: Measured | undefined;
    let addPlanNaive: Measured | undefined;
    if (input.naive) {
      synthTo(baseFile, "naive.out", "fleet");
      ok(await tofu("naive.out", STACK, ["init", "-no-color", "-input=false"]), [0], "init");
      noChangeNaive = ok(await tofu("naive.out", STACK, ["plan", "-detailed-exitcode", "-no-color", "-input=false"]), [0], "naive no-change plan");
      log(`  no change, naive (one stack, tofu plan, full refresh): ${describe(noChangeNaive)}`);
    }

    // No fleet changed: synth, `changed` finds nothing, reconcile of the deployed fleets is the drift check.
    const started = Date.now();
    const before = totalCalls(proxy);
    synthTo(baseFile, "nochange.out", layout);
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
    const newAccount = String(200000000000 + input.accounts);
    // The stacks that hold the new account's permissions: every stack of the fleet and Region
    // layouts, its share group's share stacks in the split layout.
    const headStacks = fleetStacks(loadFleets([headFile])[0], layout, input.shareGroups).filter(
      (stack) => stack.holds.permissions && stack.fleet.regions.some((target) => target.share.accounts.includes(newAccount)),
    );
    const toPlan = headStacks.map((stack) => stack.name).sort();
    const addStarted = Date.now();
    synthTo(headFile, "add.out", layout);
    const changed = ok(await cli(["changed", "--base", path.join(dir, "base.out"), path.join(dir, "add.out")]), [2], "changed (add one account)");
    if (changed.stdout.trim().split("\n").sort().join() !== toPlan.join()) throw new Error(`changed listed ${JSON.stringify(changed.stdout)}, expected ${toPlan.join(" ")}`);
    const deployed = await cli(["reconcile", baseFile, "--format", "json"]);
    const refresh = deployed.code === 0 ? ["-refresh=false"] : [];
    const planBytes = new Map<string, number>();
    let planSeconds = 0;
    let planPeak = 0;
    let reviewSlowest = 0;
    const reviewed = ok(
      await eachStack(toPlan, async (stack) => {
        ok(await tofu("add.out", stack, ["init", "-no-color", "-input=false"]), [0], "init");
        const plan = ok(await tofu("add.out", stack, ["plan", ...refresh, "-no-color", "-input=false", "-out=add.tfplan"]), [0], "plan (add one account)");
        planSeconds += plan.seconds;
        planPeak = Math.max(planPeak, plan.peakMiB);
        const shown = ok(await tofu("add.out", stack, ["show", "-json", "add.tfplan"]), [0], "show -json");
        // The written state is the deployed fleet: the plan adds the new account's permissions and nothing else.
        const expected = headStacks.find((s) => s.name === stack)!.fleet;
        const changes = planChanges(JSON.parse(shown.stdout));
        const wanted = expected.images.length * expected.regions.length;
        if (changes.length !== wanted || !changes.every((c) => c.startsWith("create aws_ami_launch_permission.") && c.endsWith(`["${newAccount}"]`))) {
          throw new Error(`${stack}: expected ${wanted} new launch permissions for ${newAccount}, the plan has: ${changes.slice(0, 10).join(", ")}`);
        }
        const planJson = path.join(stackDir("add.out", stack), "plan.json");
        fs.writeFileSync(planJson, shown.stdout);
        planBytes.set(stack, Buffer.byteLength(shown.stdout));
        const review = ok(await cli(["review", "--plan", planJson, "--fleets", path.dirname(fleetFile)]), [0], "review (add one account)");
        reviewSlowest = Math.max(reviewSlowest, review.seconds);
        return review;
      }),
      [0],
      "plan and review",
    );
    const addFast = {
      seconds: (Date.now() - addStarted) / 1000,
      planSeconds,
      planBytes: [...planBytes.values()].reduce((a, b) => a + b, 0),
      review: reviewed,
    };
    log(
      `  add one account, synth to reviewed plan: ${addFast.seconds.toFixed(1)} s (${toPlan.length} stack(s) changed, ${input.parallel} at a time; ` +
        `reconcile of the deployed fleet ${deployed.code === 0 ? "in sync: plan -refresh=false" : `exit ${deployed.code}: full refresh`}; ` +
        `init+plan+show+review of the stacks ${reviewed.seconds.toFixed(1)} s, ${sum(reviewed.calls)} calls, ${reviewed.throttled} throttled; ` +
        `plans summed ${planSeconds.toFixed(1)} s, plan peak ${planPeak} MiB; review slowest ${reviewSlowest.toFixed(1)} s, peak ${reviewed.peakMiB} MiB; ` +
        `plan JSON ${(addFast.planBytes / 1048576).toFixed(1)} MiB in all, largest ${(Math.max(...planBytes.values()) / 1048576).toFixed(1)} MiB)`,
    );

    if (input.naive) {
      synthTo(headFile, "naive.out", "fleet");
      addPlanNaive = ok(await tofu("naive.out", STACK, ["plan", "-no-color", "-input=false", "-out=naive.tfplan"]), [0], "naive plan (add one account)");
      log(`  add one account, naive plan (one stack, full refresh): ${describe(addPlanNaive)}`);
    }

    const addApply = ok(await eachStack(toPlan, (stack) => tofu("add.out", stack, ["apply", "-no-color", "-input=false", "add.tfplan"])), [0], "apply (add one account)");
    log(`  add one account, apply of the reviewed plan(s): ${describe(addApply)}`);
    const after = ok(await cli(["reconcile", headFile, "--format", "json"]), [0], "reconcile after apply");
    log(`  after the apply, reconcile of the new fleet: in sync (${after.seconds.toFixed(1)} s)`);
    return { layout, stacks: names.length, planned: toPlan.length, noChangeNaive, noChangeFast, addPlanNaive, addFast, addApply };
  } finally {
    if (process.env.AMI_FLEET_BENCH_KEEP) process.stdout.write(`kept ${dir}\n`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `<action> <address>` of each resource change that is not a no-op or a read. */
function planChanges(plan: { resource_changes?: { address: string; change: { actions: string[] } }[] }): string[] {
  return (plan.resource_changes ?? [])
    .filter((c) => !c.change.actions.every((a) => a === "no-op" || a === "read"))
    .map((c) => `${c.change.actions.join("+")} ${c.address}`);
}

function callsSince(proxy: FaultProxy, before: ReadonlyMap<string, number>): Record<string, number> {
  const calls: Record<string, number> = {};
  for (const [action, n] of proxy.actions) if (n - (before.get(action) ?? 0) > 0) calls[action] = n - (before.get(action) ?? 0);
  return calls;
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
      resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000, peakMiB: Math.round(peakKiB / 1024), calls: callsSince(proxy, before), throttled: proxy.throttled() - throttledBefore });
    });
  });
}
