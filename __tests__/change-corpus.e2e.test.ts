import { App } from "cdktf";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { loadFleets } from "../lib/fleet/load";
import { loadProjectConfig } from "../lib/project/config";
import { deployOrder } from "../lib/review/synth-summary";
import { addFleetStacks } from "../stacks/fleet-app";
import { PROJECT_ROOT, spawnAsync } from "./helpers/cli";
import { Ec2 } from "./helpers/live";
import { emulatorEnv, Moto, startMoto } from "./helpers/moto";
import { LAYOUTS } from "./helpers/provider-types";
import { loadToolchain, Toolchain, tofuOk, tofuOnPath, writeEmulatorOverrides } from "./helpers/tofu";

/**
 * One verdict per change, whatever the layout (issue 15): a corpus of fleet changes, each reviewed
 * the way the pull-request workflow does it (its "plan and review every changed stack" step, taken
 * from docs/ci/ami-fleet-pr.yml and run as written: reconcile of the deployed fleets, `changed`, a
 * real OpenTofu plan of every stack it lists, the destruction of removed stacks, one review) against
 * the same deployed fleets in each of the three layouts. The dangers and the exit code must be the
 * same in every layout, and each change must get the dangers it calls for.
 */

const STEP = "plan and review every changed stack";
const WORKFLOW = parse(fs.readFileSync(path.join(PROJECT_ROOT, "docs", "ci", "ami-fleet-pr.yml"), "utf8"));
const REVIEW_STEP: string = WORKFLOW.jobs.plan.steps.find((s: any) => s.name === STEP).run;

const ORG = "arn:aws:organizations::111122223333:organization/o-abc123def4";
const A1 = "444455556666";
const A2 = "777788889999";
const OUTSIDER = "999988887777";
const RECIPIENT = "222233334444";

type Docs = Record<string, Record<string, any>>;
interface Sources {
  readonly v1: string;
  readonly v2: string;
  readonly v3: string;
}

/** The deployed fleets: `gold` (two versions, two Regions, a pointer, an Organization) and `look` (a lookup source). */
function baseDocs(s: Sources): Docs {
  return {
    gold: {
      name: "gold",
      source: { region: "us-east-1", images: [{ key: "v1", amiId: s.v1 }, { key: "v2", amiId: s.v2 }] },
      regions: ["eu-west-1", "us-west-2"],
      share: { accounts: [A1] },
      organization: { arn: ORG, memberAccounts: [A1, A2, RECIPIENT] },
      pointers: [{ key: "latest", parameter: "/gold/latest", image: "v2" }],
      encryption: { acknowledgeUnencryptedSharing: true },
    },
    look: {
      name: "look",
      source: { region: "us-east-1", images: [{ key: "cur", lookup: { owners: ["self"], name: "look-golden-*", mostRecent: true } }] },
      regions: ["eu-west-1"],
      share: { accounts: [A1] },
      encryption: { acknowledgeUnencryptedSharing: true },
      tags: { team: "a" },
    },
  };
}

/** A change of the fleet files; `before` runs on the emulator first (a lookup's newer match). */
interface Change {
  readonly name: string;
  readonly edit: (docs: Docs, s: Sources) => void;
  readonly before?: (ec2: Ec2) => Promise<void>;
  /** The review's exit code and the danger categories it must report (besides any others, which must agree across layouts). */
  readonly status: "0" | "2";
  readonly categories: readonly string[];
}

const CHANGES: readonly Change[] = [
  { name: "add-account-inside", edit: (d) => d.gold.share.accounts.push(A2), status: "0", categories: [] },
  { name: "add-account-outside", edit: (d) => d.gold.share.accounts.push(OUTSIDER), status: "2", categories: ["outside-organization"] },
  // Public is outside every Organization too.
  { name: "make-public", edit: (d) => (d.gold.share = { ...d.gold.share, public: true, acknowledgePublic: true }), status: "2", categories: ["outside-organization", "public"] },
  { name: "add-recipient", edit: (d) => (d.gold.recipients = [{ account: RECIPIENT, regions: ["eu-west-1"] }]), status: "2", categories: ["recipient"] },
  { name: "rename-pointer", edit: (d) => (d.gold.pointers[0].parameter = "/gold/current"), status: "2", categories: ["destroy"] },
  { name: "move-pointer", edit: (d) => (d.gold.pointers[0].image = "v1"), status: "2", categories: ["pointer-move"] },
  { name: "remove-region", edit: (d) => (d.gold.regions = ["eu-west-1"]), status: "2", categories: ["destroy"] },
  { name: "remove-fleet", edit: (d) => delete d.look, status: "2", categories: ["destroy"] },
  { name: "add-image-version", edit: (d, s) => d.gold.source.images.push({ key: "v3", amiId: s.v3 }), status: "0", categories: [] },
  {
    name: "new-lookup-match",
    edit: (d) => (d.look.tags = { team: "b" }),
    // Registered after the fleet was deployed, so the lookup now finds it (creation dates are to the second).
    before: async (ec2) => {
      await new Promise((r) => setTimeout(r, 1100));
      await ec2.registerSource("us-east-1", "look-golden-2");
    },
    status: "2",
    categories: ["replace"],
  },
];

/** What the review said: its status, and each danger as `<blocking|allowed> <category> <address>`. */
interface Verdict {
  readonly status: string;
  readonly dangers: readonly string[];
}

let toolchain: Toolchain;
let work: string;
const verdicts = new Map<string, Map<string, Verdict>>();

beforeAll(() => {
  toolchain = loadToolchain();
  work = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-corpus-"));
});
afterAll(() => {
  if (work && !process.env.KEEP_WORK) fs.rmSync(work, { recursive: true, force: true });
});

/** A checkout of the team's repository in `dir`: the fleet files, the project config and this project's install. */
function checkout(dir: string, docs: Docs, config: string): void {
  fs.mkdirSync(path.join(dir, "fleets"), { recursive: true });
  for (const [name, doc] of Object.entries(docs)) fs.writeFileSync(path.join(dir, "fleets", `${name}.yaml`), stringify(doc));
  fs.writeFileSync(path.join(dir, "ami-fleet.config.yaml"), config);
  // ami-fleet installed, as `npx ami-fleet` finds it (the whole install runs in pr-workflow.e2e.test.ts).
  fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
  fs.symlinkSync(path.join(PROJECT_ROOT, "bin", "ami-fleet.js"), path.join(dir, "node_modules", ".bin", "ami-fleet"));
}

/**
 * `cdktf synth` of a checkout into `outdir`, in this process: what main.ts does run in `dir` (the
 * fleet files by their relative paths, as `npx cdktf synth` names them), state in `stateDir`.
 */
function synthCheckout(dir: string, outdir: string, stateDir: string): void {
  const cwd = process.cwd();
  const previous = process.env.AMI_FLEET_STATE_DIR;
  process.env.AMI_FLEET_STATE_DIR = stateDir;
  process.chdir(dir);
  try {
    const loaded = loadProjectConfig(dir);
    if ("problems" in loaded) throw new Error(JSON.stringify(loaded.problems));
    const app = new App({ outdir });
    addFleetStacks(app, loadFleets(["fleets"]), loaded.config);
    app.synth();
  } finally {
    process.chdir(cwd);
    if (previous === undefined) delete process.env.AMI_FLEET_STATE_DIR;
    else process.env.AMI_FLEET_STATE_DIR = previous;
  }
  writeEmulatorOverrides(outdir);
}

/** The dangers of review.md's table (the PR comment), blocking or allowed. */
function dangersOf(markdown: string): string[] {
  return [...markdown.matchAll(/^\| (⛔|✅) \| ([a-z-]+) \| `([^`]+)` \|/gm)].map((m) => `${m[1] === "⛔" ? "blocking" : "allowed"} ${m[2]} ${m[3]}`).sort();
}

describe.each(LAYOUTS)("layout: %s", (layout) => {
  let moto: Moto;
  let ec2: Ec2;
  let sources: Sources;
  const dir = () => path.join(work, layout);
  const config = layout === "split" ? "layout: split\nshareGroups: 2\n" : `layout: ${layout}\n`;

  beforeAll(async () => {
    moto = await startMoto();
    ec2 = new Ec2(moto.env);
    sources = {
      v1: await ec2.registerSource("us-east-1", "gold-v1"),
      v2: await ec2.registerSource("us-east-1", "gold-v2"),
      v3: await ec2.registerSource("us-east-1", "gold-v3"),
    };
    await ec2.registerSource("us-east-1", "look-golden-1");
    // The target branch, deployed in its stacks' order (a share or recipient stack after the copies it reads).
    checkout(path.join(dir(), "base"), baseDocs(sources), config);
    const out = path.join(dir(), "deployed.out");
    synthCheckout(path.join(dir(), "base"), out, path.join(dir(), "state"));
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
    const dependencies = Object.fromEntries(Object.entries<any>(manifest.stacks).map(([name, s]) => [name, s.dependencies ?? []]));
    for (const stack of deployOrder(Object.keys(manifest.stacks), dependencies)) {
      tofuOk(toolchain, path.join(out, "stacks", stack), ["init", "-no-color"], moto.env);
      tofuOk(toolchain, path.join(out, "stacks", stack), ["apply", "-no-color", "-auto-approve"], moto.env);
    }
    verdicts.set(layout, new Map());
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it.each(CHANGES.map((c) => [c.name, c] as const))("%s: reviewed by the workflow's step", async (name, change) => {
    await change.before?.(ec2);
    const repo = path.join(dir(), name);
    const docs = baseDocs(sources);
    change.edit(docs, sources);
    checkout(repo, docs, config);
    checkout(path.join(repo, "base"), baseDocs(sources), config);
    // The workflow's two synths: the target branch beside the change (base.out), and the change.
    synthCheckout(path.join(repo, "base"), path.join(repo, "base.out"), path.join(dir(), "state"));
    synthCheckout(repo, path.join(repo, "cdktf.out"), path.join(dir(), "state"));
    const output = path.join(repo, "github-output");
    fs.writeFileSync(output, "");
    const run = await spawnAsync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", REVIEW_STEP], {
      ...process.env,
      ...emulatorEnv(moto.endpoint),
      ...tofuOnPath(toolchain),
      TF_PLUGIN_CACHE_DIR: path.join(work, "plugin-cache"),
      GITHUB_OUTPUT: output,
      CHECKPOINT_DISABLE: "1",
      NO_COLOR: "1",
      CI: "true",
    }, repo);
    if (run.code !== 0) throw new Error(`the step failed (exit ${run.code}):\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-4000)}`);
    const status = /^status=(\d)$/m.exec(fs.readFileSync(output, "utf8"))?.[1];
    const review = fs.readFileSync(path.join(repo, "review.md"), "utf8");
    const verdict = { status: status ?? "(none)", dangers: dangersOf(review) };
    verdicts.get(layout)!.set(name, verdict);
    const categories = new Set(verdict.dangers.filter((d) => d.startsWith("blocking")).map((d) => d.split(" ")[1]));
    expect({ status: verdict.status, categories: [...categories].sort() }).toEqual({ status: change.status, categories: [...change.categories].sort() });
  });
});

it("every change gets the same verdict in every layout: the same dangers, the same exit code", () => {
  const [first, ...others] = LAYOUTS;
  expect([...verdicts.keys()].sort()).toEqual([...LAYOUTS].sort());
  for (const change of CHANGES) {
    const expected = verdicts.get(first)!.get(change.name);
    expect(expected).toBeDefined();
    for (const layout of others) expect({ layout, change: change.name, verdict: verdicts.get(layout)!.get(change.name) }).toEqual({ layout, change: change.name, verdict: expected });
  }
});
