import { asRole } from "./helpers/iam";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { packProject, PROJECT_ROOT, runCli, spawnAsync } from "./helpers/cli";
import { startFaultProxy } from "./helpers/fault-proxy";
import { Ec2 } from "./helpers/live";
import { emulatorEnv, Moto, startMoto } from "./helpers/moto";
import { shareGroupOf } from "../lib/project/layout";
import { copyTeamApp, createTeamApp } from "./helpers/team-app";
import { loadToolchain, synth, Toolchain, tofuOk, tofuOnPath } from "./helpers/tofu";

/**
 * The pull-request workflow (docs/ci/ami-fleet-pr.yml) as a team runs it: a clean copy of a team's
 * repository (its own cdktf app, which installs the packed ami-fleet as a dependency, as the README's
 * "In your own cdktf app" says: helpers/team-app.ts; its fleets and config), the target branch checked out
 * beside it in base/, and every `run` step of the job, taken from the YAML and run as written with
 * bash as GitHub runs them (`-eo pipefail`), install step included, against the emulator with the
 * real OpenTofu and AWS provider. The `uses` steps are the runner's: the checkouts (the copies),
 * Node, OpenTofu (on PATH), credentials (the emulator's) and the PR comment (review.md).
 */

const WORKFLOW = parse(fs.readFileSync(path.join(PROJECT_ROOT, "docs", "ci", "ami-fleet-pr.yml"), "utf8"));
const JOB = WORKFLOW.jobs.plan;
const GATE_CONDITION = "steps.review.outputs.status == '2' && !contains(github.event.pull_request.labels.*.name, 'ami-fleet-approved')";
const ORG = "arn:aws:organizations::111122223333:organization/o-abc123def4";
const A1 = "444455556666";
const A2 = "777788889999";
const OUTSIDER = "999988887777";

let moto: Moto;
let toolchain: Toolchain;
let ec2: Ec2;
let work: string;
/** The team's app (package.json, its lockfile, the vendored tarball, cdktf.json, main.ts) every repository copies. */
let teamApp: string;

beforeAll(async () => {
  toolchain = loadToolchain();
  moto = await startMoto();
  ec2 = new Ec2(moto.env);
  // In memory where the machine has it: each of the job's `npm ci` writes a few hundred MB.
  work = fs.mkdtempSync(path.join(memoryTmpdir(), "ami-fleet-workflow-"));
  teamApp = path.join(work, "team-app");
  await createTeamApp(teamApp, await packProject(work));
}, 600_000);
afterAll(async () => {
  await moto?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** /dev/shm when it is a writable folder with 4 GiB free, else the system's temporary folder. */
function memoryTmpdir(): string {
  try {
    const stats = fs.statfsSync("/dev/shm");
    fs.accessSync("/dev/shm", fs.constants.W_OK);
    if (stats.bavail * stats.bsize >= 4 * 1024 ** 3) return "/dev/shm";
  } catch {
    // no /dev/shm here
  }
  return os.tmpdir();
}

/** The team's repository as a clone has it in `dir`: its app, `fleets` as its fleet files and `config` as its ami-fleet.config.yaml. */
function checkout(dir: string, fleets: Record<string, string>, config: string): void {
  copyTeamApp(teamApp, dir);
  if (Object.keys(fleets).length > 0) fs.mkdirSync(path.join(dir, "fleets"), { recursive: true });
  for (const [name, text] of Object.entries(fleets)) fs.writeFileSync(path.join(dir, "fleets", name), text);
  fs.writeFileSync(path.join(dir, "ami-fleet.config.yaml"), config);
}

interface JobRun {
  /** The name (or command) of each step run, with its exit code. */
  readonly steps: readonly { readonly step: string; readonly code: number | null; readonly output: string }[];
  /** The first step that failed, as GitHub would stop the job there. */
  readonly failed?: string;
  /** The steps' outputs ($GITHUB_OUTPUT) by step id. */
  readonly outputs: Record<string, Record<string, string>>;
}

const stepName = (step: any): string => step.name ?? step.uses ?? step.run.trim().split("\n")[0];

/** The gate's `if:`, the one expression of the job: evaluated as GitHub would. */
function gateRuns(step: any, outputs: JobRun["outputs"], labels: readonly string[]): boolean {
  expect(step.if).toBe(GATE_CONDITION);
  return outputs.review?.status === "2" && !labels.includes("ami-fleet-approved");
}

/**
 * A team's repository for one pull request: head at `<name>/`, the target branch at `<name>/base/`.
 * `deployBase` applies the target branch's stacks (before the pull request exists); `runJob` runs
 * the job's steps from `from` (a step name; default the first) with the AWS endpoint given.
 */
function teamRepository(name: string, base: Record<string, string>, head: Record<string, string>, config: string) {
  const repo = path.join(work, name);
  checkout(repo, head, config);
  checkout(path.join(repo, "base"), base, config);
  // State stays where the target branch was applied: the local backend in one folder for every runner of the test.
  const stateDir = path.join(work, `${name}-state`);
  fs.mkdirSync(stateDir);
  const deployBase = (order: (stacks: string[]) => string[]) => {
    const out = path.join(work, `${name}-deployed.out`);
    synth([path.join(repo, "base", "fleets")], out, { AMI_FLEET_CONFIG: path.join(repo, "base", "ami-fleet.config.yaml"), AMI_FLEET_STATE_DIR: stateDir });
    for (const stack of order(fs.readdirSync(path.join(out, "stacks")))) {
      const dir = path.join(out, "stacks", stack);
      tofuOk(toolchain, dir, ["init", "-no-color"], moto.env);
      tofuOk(toolchain, dir, ["apply", "-no-color", "-auto-approve"], moto.env);
    }
  };
  const runJob = async (endpoint: string, options: { from?: string; until?: string; labels?: string[] } = {}): Promise<JobRun> => {
    const outputs: JobRun["outputs"] = {};
    const steps: { step: string; code: number | null; output: string }[] = [];
    const names = JOB.steps.map(stepName);
    const first = options.from ? names.indexOf(options.from) : 0;
    const last = options.until ? names.indexOf(options.until) : names.length - 1;
    expect({ first, last }).toEqual({ first: expect.any(Number), last: expect.any(Number) });
    expect(Math.min(first, last)).toBeGreaterThanOrEqual(0);
    for (const step of JOB.steps.slice(first, last + 1)) {
      if (step.uses) continue;
      if (step.if !== undefined && !gateRuns(step, outputs, options.labels ?? [])) continue;
      const outputFile = path.join(work, `${name}-github-output`);
      fs.writeFileSync(outputFile, "");
      // The pull-request job runs as the plan role (docs/iam/plan.json), reconcile included.
      const env = asRole("plan", {
        ...process.env,
        ...(JOB.env ?? {}),
        ...emulatorEnv(endpoint),
        ...tofuOnPath(toolchain),
        AMI_FLEET_STATE_DIR: stateDir,
        GITHUB_OUTPUT: outputFile,
        NO_COLOR: "1",
        CI: "true",
      });
      const run = await spawnAsync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], env, repo);
      steps.push({ step: stepName(step), code: run.code, output: `${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}` });
      if (step.id) outputs[step.id] = Object.fromEntries(fs.readFileSync(outputFile, "utf8").split("\n").filter(Boolean).map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
      if (run.code !== 0) return { steps, failed: stepName(step), outputs };
    }
    return { steps, outputs };
  };
  return { repo, deployBase, runJob };
}

/** The steps' output when the job failed where it should not have. */
const explain = (run: JobRun) => run.steps.map((s) => `--- ${s.step} (exit ${s.code})\n${s.output}`).join("\n");

it("layout: split, the whole job as written: installs; plans the changed stacks without refresh and a removed Region's destruction; an account outside the Organization and a new public fleet block though their share stacks wait; a failing `changed` or base synth fails the job", async () => {
  const v1 = await ec2.registerSource("us-east-1", "workflow-split-v1");
  const v2 = await ec2.registerSource("us-east-1", "workflow-split-v2");
  const fleetDoc = (images: Record<string, string>, regions: string[], accounts: string[]) =>
    stringify({
      name: "wf",
      source: { region: "us-east-1", images: Object.entries(images).map(([key, amiId]) => ({ key, amiId })) },
      regions,
      share: { accounts },
      organization: { arn: ORG, memberAccounts: [A1, A2] },
      encryption: { acknowledgeUnencryptedSharing: true },
    });
  const publicFleet = stringify({
    name: "pub",
    source: { region: "us-east-1", images: [{ key: "v1", amiId: v1 }] },
    regions: ["eu-west-1"],
    share: { public: true, acknowledgePublic: true },
    encryption: { acknowledgeUnencryptedSharing: true },
  });
  const { repo, deployBase, runJob } = teamRepository(
    "workflow-split",
    { "wf.yaml": fleetDoc({ v1 }, ["eu-west-1", "us-west-2"], [A1]) },
    // One pull request: a Region removed, a new image version, an account inside the Organization and
    // one outside it, and a new public fleet.
    { "wf.yaml": fleetDoc({ v1, v2 }, ["eu-west-1"], [A1, A2, OUTSIDER]), "pub.yaml": publicFleet },
    "layout: split\nshareGroups: 4\n",
  );
  // The target branch is deployed: copies first, then the share stacks that read them.
  deployBase((stacks) => [...stacks.filter((s) => !s.includes("-shares-")), ...stacks.filter((s) => s.includes("-shares-"))]);

  // Every AWS call of the job goes through a proxy that counts them.
  const proxy = await startFaultProxy(moto.endpoint);
  try {
    const run = await runJob(proxy.endpoint);
    // The review found dangers: the gate stops the job until a maintainer labels the PR.
    expect({ failed: run.failed, status: run.outputs.review?.status }).toEqual({ failed: "gate", status: "2" });
    if (run.steps.some((s) => s.step !== "gate" && s.code !== 0)) throw new Error(explain(run));
    expect(gateRuns(JOB.steps.find((s: any) => s.name === "gate"), run.outputs, ["ami-fleet-approved"])).toBe(false);
    // `npm ci` installed the packed ami-fleet (a folder of its own, not a link to this checkout) whose CLI the next steps ran.
    expect(fs.lstatSync(path.join(repo, "node_modules", "ami-fleet")).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(repo, "node_modules", "ami-fleet", "dist", "lib", "cli", "main.js"))).toBe(true);

    const changed = JSON.parse(fs.readFileSync(path.join(repo, "changed.json"), "utf8"));
    const planned = changed.plan.filter((s: any) => s.waitsFor.length === 0).map((s: any) => s.stack);
    const waiting = changed.plan.filter((s: any) => s.waitsFor.length > 0).map((s: any) => s.stack);
    expect(changed.removed.map((s: any) => s.stack)).toEqual(["wf-us-west-2"]);
    expect(planned).toEqual(expect.arrayContaining(["wf-eu-west-1", "pub-eu-west-1"]));
    // The public fleet's share stack and the new image's wait for their copies: neither is planned.
    expect(waiting).toEqual(expect.arrayContaining([`pub-shares-v1-g${shareGroupOf({ kind: "public", value: "all" }, 4)}`, `wf-shares-v2-g${shareGroupOf({ kind: "account", value: OUTSIDER }, 4)}`]));
    for (const stack of planned) expect(fs.existsSync(path.join(repo, "cdktf.out", "stacks", stack, "plan.json"))).toBe(true);
    for (const stack of waiting) expect(fs.existsSync(path.join(repo, "cdktf.out", "stacks", stack, "plan.json"))).toBe(false);
    // The deployed files reconciled in sync, so the deployed fleet's plans skipped the refresh: the
    // only DescribeImageAttribute calls are reconcile's, one per deployed copy.
    expect(proxy.actions.get("DescribeImageAttribute")).toBe(2);

    // One review of the whole change, and it judged what the waiting stacks will do, from the fleet change.
    const review = fs.readFileSync(path.join(repo, "review.md"), "utf8");
    expect(review.match(/### ami-fleet plan review/g)).toHaveLength(1);
    const blocking = [...review.matchAll(/^\| ⛔ \| ([a-z-]+) \| `([^`]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    expect(blocking).toEqual([
      "destroy aws_ami_copy.copy_v1_us-west-2",
      `outside-organization aws_ami_launch_permission.share_v1_eu-west-1_accounts["${OUTSIDER}"]`,
      `outside-organization aws_ami_launch_permission.share_v2_eu-west-1_accounts["${OUTSIDER}"]`,
      "public aws_ami_launch_permission.share_v1_eu-west-1_public",
      // A new fleet's acknowledgement is not on the target branch: a trust anchor a human approves.
      "trust-anchor pub: encryption.acknowledgeUnencryptedSharing",
    ]);
    // Every principal the change grants or revokes is listed, planned or waiting.
    expect(review).toContain(`| grant | account ${OUTSIDER} | v1@eu-west-1, v2@eu-west-1 |`);
    expect(review).toContain(`| grant | account ${A2} | v1@eu-west-1, v2@eu-west-1 |`);
    expect(review).toContain("| grant | public (group all) | v1@eu-west-1 |");
    expect(review).toContain(`| revoke | account ${A1} | v1@us-west-2 |`);
    expect(review).toContain("**Planned after this change's copies are applied:**");
    const destroy = JSON.parse(fs.readFileSync(path.join(repo, "base.out", "stacks", "wf-us-west-2", "plan.json"), "utf8"));
    expect(destroy.resource_changes.filter((c: any) => c.change.actions.includes("delete")).map((c: any) => c.address)).toEqual(["aws_ami_copy.copy_v1_us-west-2"]);

    // `changed` failing is the job failing, never an empty review that passes.
    const step = "plan and review every changed stack";
    fs.rmSync(path.join(repo, "base.out", "stacks", "wf-eu-west-1", "cdk.tf.json"));
    const broken = await runJob(proxy.endpoint, { from: step, until: step });
    expect({ failed: broken.failed, outputs: broken.outputs.review }).toEqual({ failed: step, outputs: {} });
    expect(fs.readFileSync(path.join(repo, "review.md"), "utf8")).toBe("");
  } finally {
    await proxy.close();
  }

  // A target branch whose fleets do not synthesize fails the job: it never passes as "nothing to remove".
  fs.writeFileSync(path.join(repo, "base", "fleets", "wf.yaml"), "name: wf\nregions: [mars-1]\n");
  fs.rmSync(path.join(repo, "base.out"), { recursive: true, force: true });
  const brokenBase = await runJob(moto.endpoint, { from: "synthesize the target branch" });
  expect(brokenBase.failed).toBe("synthesize the target branch");
  expect(brokenBase.steps.map((s) => s.step)).toEqual(["synthesize the target branch"]);
  expect(brokenBase.steps[0].output).toMatch(/wf\.yaml[\s\S]*nothing was synthesized/);
  expect(fs.existsSync(path.join(repo, "base.out", "stacks"))).toBe(false);
});

it("a lookup source that finds a newer AMI, through the flow (split): changed lists the share stacks after the copy stack; applied in that order, every declared principal can launch the new copy", async () => {
  const { DescribeImageAttributeCommand, DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
  await ec2.registerSource("us-east-1", "lk-golden-1");
  const dir = path.join(work, "lookup-flow");
  const fleets = path.join(dir, "fleets");
  fs.mkdirSync(fleets, { recursive: true });
  const fleetFile = path.join(fleets, "lk.yaml");
  const writeFleet = (tags: Record<string, string>) =>
    fs.writeFileSync(
      fleetFile,
      stringify({
        name: "lk",
        source: { region: "us-east-1", images: [{ key: "cur", lookup: { owners: ["self"], name: "lk-golden-*", mostRecent: true } }] },
        regions: ["eu-west-1"],
        share: { accounts: [A1, A2] },
        encryption: { acknowledgeUnencryptedSharing: true },
        tags,
      }),
    );
  const config = path.join(dir, "ami-fleet.config.yaml");
  fs.writeFileSync(config, "layout: split\nshareGroups: 2\n");
  const env = { AMI_FLEET_CONFIG: config, AMI_FLEET_STATE_DIR: dir };
  const applyInOrder = (out: string, stacks: string[]) => {
    for (const stack of stacks) {
      tofuOk(toolchain, path.join(out, "stacks", stack), ["init", "-no-color"], moto.env);
      tofuOk(toolchain, path.join(out, "stacks", stack), ["apply", "-no-color", "-auto-approve"], moto.env);
    }
  };
  const copyOf = (out: string) => JSON.parse(tofuOk(toolchain, path.join(out, "stacks", "lk-eu-west-1"), ["output", "-json"], moto.env).stdout).copies_cur.value["eu-west-1"] as string;

  writeFleet({ team: "a" });
  const base = path.join(dir, "base.out");
  synth([fleets], base, env);
  const shareStacks = fs.readdirSync(path.join(base, "stacks")).filter((s) => s.includes("-shares-")).sort();
  expect(shareStacks.length).toBeGreaterThan(0);
  applyInOrder(base, ["lk-eu-west-1", ...shareStacks]);
  const oldCopy = copyOf(base);

  // A newer image matches the lookup; the pull request changes only the copies' tags.
  await new Promise((r) => setTimeout(r, 1100));
  const newer = await ec2.registerSource("us-east-1", "lk-golden-2");
  writeFleet({ team: "b" });
  const head = path.join(dir, "head.out");
  synth([fleets], head, env);
  const changed = await runCli(["changed", "--base", base, head, "--format", "json"]);
  expect(changed.code).toBe(2);
  const plan = JSON.parse(changed.stdout).plan.map((s: any) => [s.stack, s.waitsFor]);
  expect(plan).toEqual([["lk-eu-west-1", []], ...shareStacks.map((stack) => [stack, ["lk-eu-west-1"]])]);

  // The flow: the stacks to plan now, then those that wait for them.
  applyInOrder(head, [...plan.filter(([, w]: any) => w.length === 0), ...plan.filter(([, w]: any) => w.length > 0)].map(([stack]: any) => stack));
  const newCopy = copyOf(head);
  expect(newCopy).not.toBe(oldCopy);
  const [image] = (await ec2.in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [newCopy] }))).Images!;
  expect(image.Tags?.find((t) => t.Key === "ami-fleet:source-ami")?.Value).toBe(newer);
  const permissions = await ec2.in("eu-west-1").send(new DescribeImageAttributeCommand({ ImageId: newCopy, Attribute: "launchPermission" }));
  expect(permissions.LaunchPermissions!.map((p) => p.UserId).sort()).toEqual([A1, A2]);
  const reconciled = await runCli(["reconcile", fleetFile, "--format", "json"], { env: moto.env });
  expect({ code: reconciled.code, findings: JSON.parse(reconciled.stdout).fleets[0].findings }).toEqual({ code: 0, findings: [] });
});

it("the scheduled drift workflow (docs/ci/ami-fleet-drift.yml) in the team's app: in sync exits 0; a stranger's launch permission fails the job with it in the summary", async () => {
  const { DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
  const drift = parse(fs.readFileSync(path.join(PROJECT_ROOT, "docs", "ci", "ami-fleet-drift.yml"), "utf8")).jobs.reconcile;
  const source = await ec2.registerSource("us-east-1", "drift-workflow");
  const fleet = stringify({ name: "daily", source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] }, regions: ["eu-west-1"], share: { accounts: [A1] }, encryption: { acknowledgeUnencryptedSharing: true } });
  const { repo, deployBase } = teamRepository("drift-workflow", { "daily.yaml": fleet }, { "daily.yaml": fleet }, "layout: fleet\n");
  deployBase((stacks) => stacks);
  // Every `run` step as written, as the read-only reconcile role (docs/iam/reconcile.json), as GitHub runs them.
  const runDrift = async () => {
    const summary = path.join(work, "drift-summary.md");
    fs.writeFileSync(summary, "");
    for (const step of drift.steps.filter((s: any) => s.run)) {
      const env = asRole("reconcile", { ...process.env, ...emulatorEnv(moto.endpoint), GITHUB_STEP_SUMMARY: summary, NO_COLOR: "1", CI: "true" });
      const run = await spawnAsync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], env, repo);
      if (run.code !== 0) return { failed: stepName(step), code: run.code, summary: fs.readFileSync(summary, "utf8") };
    }
    return { failed: undefined, code: 0, summary: fs.readFileSync(summary, "utf8") };
  };
  const clean = await runDrift();
  expect({ failed: clean.failed, code: clean.code }).toEqual({ failed: undefined, code: 0 });
  expect(clean.summary).toMatch(/in sync: 1 fleet, no drift/);
  expect(JSON.parse(fs.readFileSync(path.join(repo, "live-state.json"), "utf8"))).toBeTruthy();

  const [copy] = (await ec2.in("eu-west-1").send(new DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "tag:ami-fleet:fleet", Values: ["daily"] }] }))).Images!;
  await ec2.addPermission("eu-west-1", copy.ImageId!, { UserId: OUTSIDER });
  const drifted = await runDrift();
  expect({ failed: drifted.failed, code: drifted.code }).toEqual({ failed: "reconcile", code: 2 });
  expect(drifted.summary).toContain(OUTSIDER);
}, 600_000);
