// Reconcile under throttling: a fleet of images x Regions x accounts deployed in the emulator, read
// through the fault proxy, which adds latency, models EC2's token buckets per Region and action,
// and answers a share of all requests RequestLimitExceeded at random (seeded): the throttling a
// busy account sees from everyone else's calls. For each rate, --concurrency and AWS_MAX_ATTEMPTS
// (unset: the SDK's 3), `ami-fleet reconcile` runs --runs times (each with another seed) and the
// outcome of each run is printed: in sync, or an error; any finding is drift that is not there.
//   npm run bench:throttling [-- --size 5x17x50 --rates 0.1,0.3 --concurrency 4,8,16 --max-attempts 3,5 --runs 10 --latency 50]
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { runCli } from "../__tests__/helpers/cli";
import { startFaultProxy } from "../__tests__/helpers/fault-proxy";
import { Ec2 } from "../__tests__/helpers/live";
import { emulatorEnv, startMoto } from "../__tests__/helpers/moto";
import { loadFleets } from "../lib/fleet/load";
import { scaleFleetDoc } from "./bench/terraform-state";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const REGIONS = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "sa-east-1", "mx-central-1",
  "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
  "af-south-1", "il-central-1", "me-central-1", "me-south-1",
];

async function main(): Promise<void> {
  const [images, regionCount, accounts] = option("size", "5x17x50").split("x").map(Number);
  const rates = option("rates", "0.1,0.3").split(",").map(Number);
  const concurrencies = option("concurrency", "4,8,16").split(",");
  const attemptsList = option("max-attempts", "3,5").split(",");
  const runs = Number(option("runs", "10"));
  const latency = Number(option("latency", "50"));
  const moto = await startMoto();
  const proxy = await startFaultProxy(moto.endpoint);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-bench-throttling-"));
  try {
    const ec2 = new Ec2(moto.env);
    const sources: Record<string, string> = {};
    for (let i = 1; i <= images; i++) sources[`v${i}`] = await ec2.registerSource("us-east-1", `throttle-source-${i}`);
    const file = path.join(dir, "scale.yaml");
    fs.writeFileSync(file, stringify(scaleFleetDoc("scale", sources, REGIONS.slice(0, regionCount), accounts)));
    await ec2.applyFleet(loadFleets([file])[0], sources);
    proxy.latency(latency);
    proxy.throttleLikeEc2();
    proxy.replay(true);
    // One run without random throttling first: it records the emulator's answers for the replay.
    const env = { ...emulatorEnv(proxy.endpoint) };
    delete env.AWS_MAX_ATTEMPTS;
    const warm = await runCli(["reconcile", file, "--format", "json", "--stats"], { env });
    if (warm.code !== 0) throw new Error(`reconcile without throttling exited ${warm.code}: ${warm.stderr.slice(0, 2000)}`);
    const calls = JSON.parse(warm.stdout).stats.totalCalls as number;
    process.stdout.write(
      `${images} x ${regionCount} x ${accounts}: ${calls} calls a run, latency ${latency} ms, EC2 buckets modelled, ${runs} runs each (seeds 1..${runs})\n`,
    );
    for (const rate of rates) {
      for (const maxAttempts of attemptsList) {
        for (const concurrency of concurrencies) {
          const outcomes = { inSync: 0, error: 0, drift: 0 };
          const walls: number[] = [];
          const attempts: number[] = [];
          const actions = new Set<string>();
          for (let seed = 1; seed <= runs; seed++) {
            proxy.throttleRate(rate, seed);
            const started = Date.now();
            const run = await runCli(["reconcile", file, "--format", "json", "--stats", "--concurrency", concurrency], {
              env: { ...env, ...(maxAttempts === "3" ? {} : { AWS_MAX_ATTEMPTS: maxAttempts }) },
            });
            walls.push(Date.now() - started);
            const report = JSON.parse(run.stdout);
            attempts.push(report.stats.attempts);
            const findings = report.fleets.flatMap((f: { findings: unknown[] }) => f.findings).length;
            if (run.code === 0) outcomes.inSync++;
            else if (run.code === 1 && findings === 0) {
              outcomes.error++;
              for (const error of report.errors) actions.add(/throttled on (\w+)/.exec(error.message)?.[1] ?? `not throttling: ${error.message}`);
            } else outcomes.drift++;
          }
          proxy.throttleRate(0);
          process.stdout.write(
            `throttled ${Math.round(rate * 100)}%, ${maxAttempts} attempts, --concurrency ${concurrency}: ${outcomes.inSync}/${runs} in sync, ` +
              `${outcomes.error} throttling errors${actions.size ? ` (on ${[...actions].sort().join(", ")})` : ""}, ${outcomes.drift} reported drift; ` +
              `median wall ${(median(walls) / 1000).toFixed(1)} s, median attempts ${median(attempts)} for ${calls} calls\n`,
          );
        }
      }
    }
  } finally {
    await proxy.close();
    await moto.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
