// Reconcile on a fleet of 5 images x 17 Regions x 50 accounts in the emulator: API calls against
// the floor (per Region one DescribeImages, one GetEbsEncryptionByDefault, one DescribeSnapshots of
// the public snapshots and one DescribeSnapshots call per 200 snapshots; one DescribeImageAttribute
// per copy) and wall time, median of several runs of the real CLI.
//   npm run bench:reconcile [-- --runs 5]
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { Ec2 } from "../__tests__/helpers/live";
import { startMoto } from "../__tests__/helpers/moto";
import { loadFleets } from "../lib/fleet/load";

const REGIONS = [
  "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
  "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
  "ap-southeast-2", "sa-east-1", "us-east-1",
];

async function main(runs: number): Promise<void> {
  const moto = await startMoto();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-bench-reconcile-"));
  try {
    const ec2 = new Ec2(moto.env);
    const sources: Record<string, string> = {};
    for (let i = 1; i <= 5; i++) sources[`v${i}`] = await ec2.registerSource("us-east-1", `bench-source-${i}`);
    const doc = {
      name: "bench",
      source: { region: "us-east-1", images: Object.entries(sources).map(([key, amiId]) => ({ key, amiId })) },
      regions: REGIONS.map((region) => (region === "us-east-1" ? { region, allowSourceRegion: true } : region)),
      share: { accounts: Array.from({ length: 50 }, (_, i) => String(200000000000 + i)) },
    };
    const file = path.join(dir, "bench.yaml");
    fs.writeFileSync(file, stringify(doc));
    const [fleet] = loadFleets([file]);
    const setupStart = Date.now();
    await ec2.applyFleet(fleet, sources);
    const copies = fleet.images.length * fleet.regions.length;
    process.stdout.write(`fleet: 5 images x ${REGIONS.length} Regions x 50 accounts = ${copies} copies, ${copies * 50} launch permissions (set up in ${((Date.now() - setupStart) / 1000).toFixed(1)} s)\n`);
    // Each copy has one snapshot (its root volume), so a Region holds S = images snapshots.
    const R = REGIONS.length;
    const snapshotBatches = R * Math.ceil(fleet.images.length / 200);
    const floor = 3 * R + copies + snapshotBatches;
    const walls: number[] = [];
    let calls = "";
    let totalCalls = 0;
    for (let i = 0; i < runs; i++) {
      const started = Date.now();
      const run = spawnSync(process.execPath, [path.join(__dirname, "..", "bin", "ami-fleet.js"), "reconcile", file, "--format", "json", "--stats"], {
        env: { ...process.env, ...moto.env },
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      walls.push(Date.now() - started);
      const report = JSON.parse(run.stdout);
      if (run.status !== 0) throw new Error(`reconcile exited ${run.status}: ${run.stderr}`);
      totalCalls = report.stats.totalCalls;
      calls = `${report.stats.totalCalls} calls ${JSON.stringify(report.stats.calls)}, in-process read+diff ${report.stats.wallMs} ms`;
    }
    const sorted = [...walls].sort((a, b) => a - b);
    process.stdout.write(`reconcile --stats: ${calls}\n`);
    process.stdout.write(`floor: 3R (DescribeImages, GetEbsEncryptionByDefault, public snapshots) + C (DescribeImageAttribute) + R*ceil(S/200) (DescribeSnapshots) = ${3 * R} + ${copies} + ${snapshotBatches} = ${floor}\n`);
    if (totalCalls !== floor) process.stdout.write(`measured ${totalCalls} calls, ${totalCalls - floor} above the floor\n`);
    process.stdout.write(`wall time of the CLI process: median ${sorted[Math.floor(runs / 2)]} ms (runs: ${walls.join(", ")})\n`);
  } finally {
    await moto.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
main(Number(args[args.indexOf("--runs") + 1] || 5) || 5).catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
