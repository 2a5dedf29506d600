// Synth time and peak memory of a large fleet: 20 images x 30 Regions x 200 accounts (600 copies,
// 120,000 launch permission instances), against the same fleet with 1 account, to show that synth
// grows with copies, not copies x principals. Each run is a fresh process timed by /usr/bin/time.
//   npm run bench [-- --runs 5]
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { KNOWN_REGIONS, partitionOf } from "../lib/fleet/regions";
import { validateFleet } from "../lib/fleet/validate";
import { FleetStack } from "../stacks/fleet-stack";

function fleetDocument(images: number, regions: number, accounts: number) {
  const targets = KNOWN_REGIONS.filter((r) => partitionOf(r) === "aws" && r !== "us-east-1").slice(0, regions);
  if (targets.length < regions) throw new Error(`only ${targets.length} Regions known`);
  return {
    name: "bench",
    source: {
      region: "us-east-1",
      images: Array.from({ length: images }, (_, i) => ({ key: `v${i}`, amiId: `ami-${(i + 1).toString(16).padStart(17, "0")}` })),
    },
    regions: targets,
    share: { accounts: Array.from({ length: accounts }, (_, i) => String(100000000000 + i)) },
    tags: { team: "platform" },
  };
}

function child(accounts: number, outdir: string): void {
  const started = process.hrtime.bigint();
  const result = validateFleet("bench.yaml", fleetDocument(20, 30, accounts));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const app = new App({ outdir });
  new FleetStack(app, result.fleet);
  app.synth();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const bytes = fs.statSync(path.join(outdir, "stacks", "bench", "cdk.tf.json")).size;
  process.stdout.write(JSON.stringify({ ms, bytes }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function parent(runs: number): void {
  const rows: string[] = [];
  const results: Record<number, { ms: number; rssMb: number; bytes: number }> = {};
  for (const accounts of [1, 200]) {
    const ms: number[] = [];
    const rss: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-bench-"));
      const stats = path.join(outdir, "time.txt");
      const run = spawnSync("/usr/bin/time", ["-f", "%M", "-o", stats, process.execPath, require.resolve("ts-node/dist/bin"), "--transpile-only", __filename, "--child", String(accounts), outdir], {
        encoding: "utf8",
        cwd: path.join(__dirname, ".."),
      });
      if (run.status !== 0) throw new Error(run.stderr);
      const out = JSON.parse(run.stdout);
      ms.push(out.ms);
      bytes = out.bytes;
      rss.push(Number(fs.readFileSync(stats, "utf8").trim().split("\n").pop()) / 1024);
      fs.rmSync(outdir, { recursive: true, force: true });
    }
    results[accounts] = { ms: median(ms), rssMb: median(rss), bytes };
    rows.push(
      `20 images x 30 Regions x ${String(accounts).padStart(3)} accounts: synth median ${median(ms).toFixed(0)} ms ` +
        `(runs: ${ms.map((m) => m.toFixed(0)).join(", ")}), peak RSS median ${median(rss).toFixed(0)} MiB, cdk.tf.json ${(bytes / 1024).toFixed(0)} KiB`,
    );
  }
  rows.push(
    `ratio 200 accounts / 1 account: time x${(results[200].ms / results[1].ms).toFixed(2)}, ` +
      `peak RSS x${(results[200].rssMb / results[1].rssMb).toFixed(2)}, output x${(results[200].bytes / results[1].bytes).toFixed(2)} ` +
      `(launch permission instances x200)`,
  );
  process.stdout.write(`${rows.join("\n")}\n`);
}

const args = process.argv.slice(2);
if (args[0] === "--child") child(Number(args[1]), args[2]);
else parent(Number(args[args.indexOf("--runs") + 1] || 5) || 5);
