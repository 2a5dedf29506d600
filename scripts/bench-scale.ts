// Org scale, through a proxy that adds latency to every call and models EC2's token buckets per
// Region and action (RequestLimitExceeded when a bucket is empty), in front of the emulator. Fleets
// of images x Regions x accounts are deployed with the SDK as `cdktf deploy` would leave them, with
// the Terraform state an apply would have written (scripts/bench/terraform-state.ts); then:
// - `ami-fleet reconcile --stats` as a user runs it. The first run asks the emulator (one Python
//   process that answers one call at a time); later runs get its answers replayed by the proxy, so
//   they measure what AWS would cost: the reconciler, the latency and the buckets.
// - the Terraform half (scripts/bench/terraform-half.ts): a no-change run and "add one account",
//   naive (one full-refresh plan) and as the README recommends, and the apply of the reviewed plan.
// Prints calls, throttled answers, wall time and peak memory of each step.
//   npm run bench:scale [-- --runs 3 --latency 50 --sizes 1x3x3,5x17x50,20x30x200 --concurrency 8
//                          --naive-max-instances 10000 --layouts fleet,fleet-region,split --share-groups 8
//                          --parallel 2 --no-terraform]
// --naive-max-instances bounds the naive plans and the one-stack layout (`fleet`): above it, neither runs.
// AMI_FLEET_BENCH_KEEP=1 keeps each Terraform half's folder (synth outputs, state) and prints its path.
import { DescribeImagesCommand } from "@aws-sdk/client-ec2";
import * as fs from "fs";
import * as os from "os";
import pLimit = require("p-limit");
import * as path from "path";
import { stringify } from "yaml";
import { runCli } from "../__tests__/helpers/cli";
import { startFaultProxy } from "../__tests__/helpers/fault-proxy";
import { Ec2 } from "../__tests__/helpers/live";
import { emulatorEnv, startMoto } from "../__tests__/helpers/moto";
import { loadToolchain } from "../__tests__/helpers/tofu";
import { loadFleets } from "../lib/fleet/load";
import { DEFAULT_SHARE_GROUPS, StackLayout } from "../lib/project/config";
import { terraformHalf, TerraformHalfResult } from "./bench/terraform-half";
import { harvestTemplate, LiveCopy, scaleFleetDoc } from "./bench/terraform-state";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

async function main(): Promise<void> {
  const runs = Number(option("runs", "3"));
  const latency = Number(option("latency", "50"));
  const concurrency = option("concurrency", "8");
  const sizes = option("sizes", "1x3x3,5x17x50,20x30x200").split(",").map((s) => s.split("x").map(Number));
  // us-east-1 (the source) first, then 29 other commercial Regions the emulator serves.
  const regions = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "sa-east-1", "mx-central-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
    "af-south-1", "il-central-1", "me-central-1", "me-south-1", "ap-south-1", "ap-south-2", "ap-east-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
  ];
  const terraform = !process.argv.includes("--no-terraform");
  const naiveMax = Number(option("naive-max-instances", "10000"));
  const layouts = option("layouts", "fleet,fleet-region,split").split(",") as StackLayout[];
  const shareGroups = Number(option("share-groups", String(DEFAULT_SHARE_GROUPS)));
  const parallel = Number(option("parallel", String(os.cpus().length)));
  process.stdout.write(`latency ${latency} ms per call, EC2 token buckets modelled, --concurrency ${concurrency}, ${runs} runs each\n`);
  const toolchain = terraform ? loadToolchain() : undefined;
  const templateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-bench-template-"));
  const template = toolchain ? await harvestTemplate(toolchain, templateDir) : undefined;
  fs.rmSync(templateDir, { recursive: true, force: true });
  const measured: { size: string; copies: number; accounts: number; result: TerraformHalfResult }[] = [];
  for (const [images, regionCount, accounts] of sizes) {
    const moto = await startMoto();
    const proxy = await startFaultProxy(moto.endpoint);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-bench-scale-"));
    try {
      const ec2 = new Ec2(moto.env);
      const sources: Record<string, string> = {};
      for (let i = 1; i <= images; i++) sources[`v${i}`] = await ec2.registerSource("us-east-1", `scale-source-${i}`);
      const targets = regions.slice(0, regionCount);
      const doc = scaleFleetDoc("scale", sources, targets, accounts);
      const file = path.join(dir, "scale.yaml");
      fs.writeFileSync(file, stringify(doc));
      const [fleet] = loadFleets([file]);
      const setup = Date.now();
      const ids = await ec2.applyFleet(fleet, sources);
      const copies = images * regionCount;
      // Per Region: DescribeImages, GetEbsEncryptionByDefault, the public snapshots; per copy one DescribeImageAttribute; per 200 snapshots one DescribeSnapshots.
      const floor = 3 * regionCount + copies + regionCount * Math.ceil(images / 200);
      proxy.latency(latency);
      proxy.throttleLikeEc2();
      // Run 1 asks the emulator; later runs get the same answers replayed, so they measure the
      // reconciler, the latency and the buckets rather than the emulator's serial processing.
      proxy.replay(true);
      const walls: number[] = [];
      const inProcess: number[] = [];
      const emulator: number[] = [];
      let stats: any;
      for (let i = 0; i < runs; i++) {
        const started = Date.now();
        const before = proxy.upstream().totalMs;
        // Asynchronous: the proxy runs in this process and must keep answering while the CLI runs.
        const run = await runCli(["reconcile", file, "--format", "json", "--stats", "--concurrency", concurrency], {
          env: { ...emulatorEnv(proxy.endpoint), AWS_MAX_ATTEMPTS: "10" },
        });
        walls.push(Date.now() - started);
        if (run.code !== 0) throw new Error(`reconcile exited ${run.code}: ${run.stderr.slice(0, 2000)}`);
        stats = JSON.parse(run.stdout).stats;
        inProcess.push(stats.wallMs);
        emulator.push(proxy.upstream().totalMs - before);
        await new Promise((r) => setTimeout(r, 5000)); // let the buckets refill between runs
      }
      const median = medianOf(walls);
      process.stdout.write(
        `${images} x ${regionCount} x ${accounts} (${copies} copies, ${copies * accounts} launch permissions; set up in ${((Date.now() - setup) / 1000).toFixed(0)} s): ` +
          `reconcile ${stats.totalCalls} calls (floor ${floor}), ${stats.attempts} attempts, ${proxy.throttled()} throttled answers in all runs, ` +
          `wall median ${(median / 1000).toFixed(1)} s (runs: ${walls.map((w) => (w / 1000).toFixed(1)).join(", ")}); ` +
          `(run 1 through the emulator, later runs replayed); read+diff in the CLI median ${(medianOf(inProcess) / 1000).toFixed(1)} s; the emulator's own answer time, summed over calls, median ${(medianOf(emulator) / 1000).toFixed(1)} s\n`,
      );
      if (toolchain && template) {
        const live = new Map<string, LiveCopy>();
        for (const region of targets) {
          const images = (await ec2.in(region).send(new DescribeImagesCommand({ Owners: ["self"] }))).Images ?? [];
          const snapshotOf = new Map(images.map((image) => [image.ImageId!, image.BlockDeviceMappings![0].Ebs!.SnapshotId!]));
          for (const [key, id] of ids) if (key.endsWith(`/${region}`)) live.set(key, { id, snapshotId: snapshotOf.get(id)! });
        }
        // Mutating calls follow: nothing is replayed from here on.
        proxy.replay(false);
        const instances = copies * (accounts + 1);
        const naive = instances <= naiveMax;
        process.stdout.write(`  Terraform: ${instances} resource instances${naive ? "" : ` (naive full-refresh plans not run: over --naive-max-instances ${naiveMax})`}\n`);
        // One stack of this size costs Terraform too much to plan at all (at 20 x 30 x 200 a plan
        // without refresh had not finished after 24 min here): its layout runs up to the same bound.
        const runnable = layouts.filter((layout) => naive || layout !== "fleet");
        if (runnable.length < layouts.length) process.stdout.write(`  layout fleet (one stack) not run at this size: over --naive-max-instances ${naiveMax}\n`);
        for (const [i, layout] of runnable.entries()) {
          const result = await terraformHalf({
            toolchain, template, proxy, sources, regions: targets, accounts, live, naive: naive && i === 0, layout, shareGroups, parallel,
            log: (line) => process.stdout.write(`${line}\n`),
          });
          measured.push({ size: `${images}x${regionCount}x${accounts}`, copies, accounts, result });
          // Back to the deployed fleet for the next layout: the added account's permissions go.
          const added = { UserId: String(200000000000 + accounts) };
          const undo = pLimit(16);
          await Promise.all([...live].map(([key, copy]) => undo(() => ec2.removePermission(key.split("/")[1], copy.id, added))));
        }
      }
    } finally {
      await proxy.close();
      await moto.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  summarize(measured, latency);
}

/** Naive against recommended where both ran, and the naive figures extrapolated where they did not. */
function summarize(measured: readonly { size: string; copies: number; accounts: number; result: TerraformHalfResult }[], latencyMs: number): void {
  process.stdout.write("summary (recommended: changed + reconcile of the deployed fleet + plan -refresh=false of the changed stacks)\n");
  const naiveOf = new Map(measured.filter((m) => m.result.noChangeNaive).map((m) => [m.size, m.result]));
  for (const { size, result } of measured) {
    const naive = naiveOf.get(size);
    const against = (naiveSeconds: number | undefined, fast: number) => (naiveSeconds === undefined ? "" : ` (naive ${naiveSeconds.toFixed(1)} s: ${(naiveSeconds / fast).toFixed(1)}x)`);
    process.stdout.write(
      `${size}, layout ${result.layout} (${result.stacks} stacks, ${result.planned} changed by the new account): no-change run ${result.noChangeFast.seconds.toFixed(1)} s${against(naive?.noChangeNaive?.seconds, result.noChangeFast.seconds)}; ` +
        `add one account, synth to reviewed plan ${result.addFast.seconds.toFixed(1)} s${against(naive?.addPlanNaive?.seconds, result.addFast.seconds)}; ` +
        `its apply ${result.addApply.seconds.toFixed(1)} s, ModifyImageAttribute ${result.addApply.calls.ModifyImageAttribute ?? 0}\n`,
    );
  }
  for (const size of [...new Set(measured.map((m) => m.size))].filter((size) => !naiveOf.has(size))) {
    const { copies, accounts } = measured.find((m) => m.size === size)!;
    // A full refresh reads each launch permission instance: a DescribeImageAttribute each, at the
    // modelled latency, 10 at a time (OpenTofu's -parallelism), on top of the plan itself.
    const refreshCalls = copies * accounts;
    process.stdout.write(
      `${size}: naive not run; its full refresh alone is ${refreshCalls} DescribeImageAttribute calls (against ${copies} for reconcile), ` +
        `at least ${((refreshCalls * latencyMs) / 1000 / 10 / 60).toFixed(0)} min at ${latencyMs} ms and 10 at a time, on top of planning ${copies * (accounts + 1)} instances in one stack\n`,
    );
  }
}

function medianOf(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
