import { CreateKeyCommand, KMSClient, ListGrantsCommand, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { keyGrantName } from "../../lib/fleet/addresses";
import { asRole } from "./iam";
import { App } from "cdktf";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { loadFleets } from "../../lib/fleet/load";
import { loadProjectConfig } from "../../lib/project/config";
import { deployOrder } from "../../lib/review/synth-summary";
import { addFleetStacks } from "../../stacks/fleet-app";
import { PROJECT_ROOT, spawnAsync } from "./cli";
import { Ec2 } from "./live";
import { emulatorEnv, Moto, startMoto } from "./moto";
import { LAYOUTS } from "./provider-types";
import { loadToolchain, Toolchain, tofuOk, tofuOnPath, writeEmulatorOverrides } from "./tofu";

/**
 * One verdict per change, whatever the layout: a corpus of fleet changes, each reviewed the way the
 * pull-request workflow does it (its "plan and review every changed stack" step, taken from
 * docs/ci/ami-fleet-pr.yml and run as written: reconcile of the deployed fleets, `changed`, a real
 * OpenTofu plan of every stack it lists, the destruction of removed stacks, one review) against the
 * same fleets deployed in one layout. Each layout has its own test file
 * (`change-corpus-<layout>.e2e.test.ts`, so that the three run beside the other e2e files), and each
 * must give every change exactly the verdict written here: so the dangers and the exit code are the
 * same in every layout.
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
  /** A customer managed key in eu-west-1 that fleets `red` and `blue` both encrypt with. */
  readonly key: string;
}

/**
 * The deployed fleets: `gold` (two versions, two Regions, a pointer, an Organization), `look` (a
 * lookup source, not shared), `kin` and `kinlook` (a recipient in both Regions; an AMI id and a
 * lookup source), and `red` and `blue` (one key and one share account: a KMS grant each).
 */
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
      tags: { team: "a" },
    },
    kin: {
      name: "kin",
      source: { region: "us-east-1", images: [{ key: "v1", amiId: s.v1 }] },
      regions: ["eu-west-1", "us-west-2"],
      recipients: [{ account: RECIPIENT }],
    },
    kinlook: {
      name: "kinlook",
      source: { region: "us-east-1", images: [{ key: "cur", lookup: { owners: ["self"], name: "kin-golden-*", mostRecent: true } }] },
      regions: ["eu-west-1", "us-west-2"],
      recipients: [{ account: RECIPIENT }],
    },
    ...Object.fromEntries(
      ["red", "blue"].map((name) => [
        name,
        {
          name,
          source: { region: "us-east-1", images: [{ key: "v1", amiId: s.v1 }] },
          regions: ["eu-west-1"],
          share: { accounts: [A1] },
          encryption: { encrypted: true, kmsKeyIds: { "eu-west-1": s.key } },
        },
      ]),
    ),
  };
}

/** A change of the fleet files; `before` runs on the emulator first (a lookup's newer match). */
interface Change {
  readonly name: string;
  readonly edit: (docs: Docs, s: Sources) => void;
  readonly before?: (ec2: Ec2, sources: Sources, env: NodeJS.ProcessEnv) => Promise<void>;
  /** The review's exit code, and every danger of its PR comment as `<blocking|allowed> <category> <address>`. */
  readonly verdict: Verdict;
  /** The findings the step's reconcile reports of these fleets, as `<kind> <fleet> <region> <account>`. */
  readonly drift?: { readonly of: readonly string[]; readonly findings: readonly string[] };
}

/** What the review said: its status output, and each danger as `<blocking|allowed> <category> <address>`, sorted. */
export interface Verdict {
  readonly status: string;
  readonly dangers: readonly string[];
}

const COPIES = ["v1_eu-west-1", "v1_us-west-2", "v2_eu-west-1", "v2_us-west-2"];
const blocking = (category: string, addresses: readonly string[]) => addresses.map((a) => `blocking ${category} ${a}`);

/** The outsider granted on every copy of gold, judged by the target branch's Organization, and the Organization's change. */
const OUTSIDER_JUDGED_BY_BASE: Verdict = {
  status: "2",
  dangers: [...blocking("outside-organization", COPIES.map((c) => `aws_ami_launch_permission.share_${c}_accounts["${OUTSIDER}"]`)), "blocking trust-anchor gold: organization"],
};

export const CHANGES: readonly Change[] = [
  { name: "add-account-inside", edit: (d) => d.gold.share.accounts.push(A2), verdict: { status: "0", dangers: [] } },
  {
    name: "add-account-outside",
    edit: (d) => d.gold.share.accounts.push(OUTSIDER),
    verdict: { status: "2", dangers: blocking("outside-organization", COPIES.map((c) => `aws_ami_launch_permission.share_${c}_accounts["${OUTSIDER}"]`)) },
  },
  {
    name: "make-public",
    edit: (d) => (d.gold.share = { ...d.gold.share, public: true, acknowledgePublic: true }),
    // Public is outside every Organization too.
    verdict: {
      status: "2",
      dangers: [...blocking("outside-organization", COPIES.map((c) => `aws_ami_launch_permission.share_${c}_public`)), ...blocking("public", COPIES.map((c) => `aws_ami_launch_permission.share_${c}_public`))],
    },
  },
  {
    name: "add-recipient",
    edit: (d) => (d.gold.recipients = [{ account: RECIPIENT, regions: ["eu-west-1"] }]),
    verdict: { status: "2", dangers: [`blocking recipient gold: recipient ${RECIPIENT}`] },
  },
  {
    name: "rename-pointer",
    edit: (d) => (d.gold.pointers[0].parameter = "/gold/current"),
    verdict: { status: "2", dangers: blocking("destroy", ["aws_ssm_parameter.pointer_latest_eu-west-1", "aws_ssm_parameter.pointer_latest_us-west-2"]) },
  },
  {
    name: "move-pointer",
    edit: (d) => (d.gold.pointers[0].image = "v1"),
    verdict: { status: "2", dangers: blocking("pointer-move", ["aws_ssm_parameter.pointer_latest_eu-west-1", "aws_ssm_parameter.pointer_latest_us-west-2"]) },
  },
  {
    name: "remove-region",
    edit: (d) => (d.gold.regions = ["eu-west-1"]),
    verdict: { status: "2", dangers: blocking("destroy", ["aws_ami_copy.copy_v1_us-west-2", "aws_ami_copy.copy_v2_us-west-2", "aws_ssm_parameter.pointer_latest_us-west-2"]) },
  },
  { name: "remove-fleet", edit: (d) => delete d.look, verdict: { status: "2", dangers: blocking("destroy", ["aws_ami_copy.copy_cur_eu-west-1"]) } },
  {
    name: "add-image-version",
    edit: (d, s) => d.gold.source.images.push({ key: "v3", amiId: s.v3 }),
    // New copies shared unencrypted, which the fleet file acknowledges.
    verdict: { status: "0", dangers: ["allowed unencrypted-shared aws_ami_copy.copy_v3_eu-west-1", "allowed unencrypted-shared aws_ami_copy.copy_v3_us-west-2"] },
  },
  // The gate's anchors come from the target branch: a change that edits them is judged by the old ones, and blocked by its own danger.
  {
    name: "outsider-made-member",
    edit: (d) => {
      d.gold.share.accounts.push(OUTSIDER);
      d.gold.organization.memberAccounts.push(OUTSIDER);
    },
    verdict: OUTSIDER_JUDGED_BY_BASE,
  },
  {
    name: "organization-removed",
    edit: (d) => {
      delete d.gold.organization;
      d.gold.share.accounts.push(OUTSIDER);
    },
    verdict: OUTSIDER_JUDGED_BY_BASE,
  },
  {
    name: "acknowledged-with-share",
    edit: (d) => {
      d.look.share = { accounts: [A1] };
      d.look.encryption = { acknowledgeUnencryptedSharing: true };
    },
    verdict: { status: "2", dangers: ["blocking unencrypted-shared aws_ami_copy.copy_cur_eu-west-1", "blocking trust-anchor look: encryption.acknowledgeUnencryptedSharing"] },
  },
  // A recipient's own copy deleted is a destroy, whether its stack is planned or waits for the owner's new copies.
  {
    name: "recipient-region-with-version",
    edit: (d, s) => {
      d.kin.source.images.push({ key: "v2", amiId: s.v2 });
      d.kin.recipients = [{ account: RECIPIENT, regions: ["eu-west-1"] }];
    },
    verdict: { status: "2", dangers: [`blocking destroy aws_ami_copy.recipient_${RECIPIENT}_copy_v1_us-west-2`, "blocking unencrypted-shared aws_ami_copy.copy_v2_eu-west-1"] },
  },
  {
    name: "recipient-region-lookup",
    edit: (d) => (d.kinlook.recipients = [{ account: RECIPIENT, regions: ["eu-west-1"] }]),
    verdict: { status: "2", dangers: [`blocking destroy aws_ami_copy.recipient_${RECIPIENT}_copy_cur_us-west-2`] },
  },
  {
    name: "new-lookup-match",
    edit: (d) => (d.look.tags = { team: "b" }),
    // Registered after the fleet was deployed, so the lookup now finds it (creation dates are to the second).
    before: async (ec2) => {
      await new Promise((r) => setTimeout(r, 1100));
      await ec2.registerSource("us-east-1", "look-golden-2");
    },
    verdict: { status: "2", dangers: blocking("replace", ["aws_ami_copy.copy_cur_eu-west-1"]) },
  },
  // Last: it changes live state. Two fleets' grants to one account on one key; blue's revoked by hand
  // is blue's drift (red's grant does not stand in for it), so blue's plan refreshes and re-creates it.
  {
    name: "grant-revoked",
    edit: (d) => (d.blue.tags = { team: "b" }),
    before: async (_ec2, s, env) => {
      const kms = new KMSClient({ region: "eu-west-1", endpoint: env.AWS_ENDPOINT_URL, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
      const { Grants } = await kms.send(new ListGrantsCommand({ KeyId: s.key }));
      const grant = Grants!.find((g) => g.Name === keyGrantName("blue", A1))!;
      await kms.send(new RevokeGrantCommand({ KeyId: s.key, GrantId: grant.GrantId! }));
    },
    verdict: { status: "0", dangers: [] },
    drift: { of: ["red", "blue"], findings: [`missing-grant blue eu-west-1 ${A1}`] },
  },
];

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
  return [...markdown.matchAll(/^\| (⛔|allowed) \| ([a-z-]+) \| `([^`]+)` \|/gm)].map((m) => `${m[1] === "⛔" ? "blocking" : "allowed"} ${m[2]} ${m[3]}`).sort();
}

/**
 * The corpus in one layout: the fleets deployed, then each change reviewed by the workflow's step;
 * each verdict must be the one written in CHANGES.
 */
export function changeCorpus(layout: (typeof LAYOUTS)[number]): void {
  let toolchain: Toolchain;
  let work: string;
  let moto: Moto;
  let ec2: Ec2;
  let sources: Sources;
  const config = layout === "split" ? "layout: split\nshareGroups: 2\n" : `layout: ${layout}\n`;

  beforeAll(async () => {
    toolchain = loadToolchain();
    work = fs.mkdtempSync(path.join(os.tmpdir(), `ami-fleet-corpus-${layout}-`));
    moto = await startMoto();
    ec2 = new Ec2(moto.env);
    const kms = new KMSClient({ region: "eu-west-1", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    sources = {
      v1: await ec2.registerSource("us-east-1", "gold-v1"),
      v2: await ec2.registerSource("us-east-1", "gold-v2"),
      v3: await ec2.registerSource("us-east-1", "gold-v3"),
      key: (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!,
    };
    await ec2.registerSource("us-east-1", "look-golden-1");
    await ec2.registerSource("us-east-1", "kin-golden-1");
    // The target branch, deployed in its stacks' order (a share or recipient stack after the copies it reads).
    checkout(path.join(work, "base"), baseDocs(sources), config);
    const out = path.join(work, "deployed.out");
    synthCheckout(path.join(work, "base"), out, path.join(work, "state"));
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
    const dependencies = Object.fromEntries(Object.entries<any>(manifest.stacks).map(([name, s]) => [name, s.dependencies ?? []]));
    for (const stack of deployOrder(Object.keys(manifest.stacks), dependencies)) {
      tofuOk(toolchain, path.join(out, "stacks", stack), ["init", "-no-color"], moto.env);
      tofuOk(toolchain, path.join(out, "stacks", stack), ["apply", "-no-color", "-auto-approve"], moto.env);
    }
  });
  afterAll(async () => {
    await moto?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it.each(CHANGES.map((c) => [c.name, c] as const))(`layout: ${layout}, %s: the workflow's review step gives the corpus's verdict`, async (name, change) => {
    await change.before?.(ec2, sources, moto.env);
    const repo = path.join(work, name);
    const docs = baseDocs(sources);
    change.edit(docs, sources);
    checkout(repo, docs, config);
    checkout(path.join(repo, "base"), baseDocs(sources), config);
    // The workflow's two synths: the target branch beside the change (base.out), and the change.
    synthCheckout(path.join(repo, "base"), path.join(repo, "base.out"), path.join(work, "state"));
    synthCheckout(repo, path.join(repo, "cdktf.out"), path.join(work, "state"));
    const output = path.join(repo, "github-output");
    fs.writeFileSync(output, "");
    const run = await spawnAsync(
      "bash",
      ["--noprofile", "--norc", "-eo", "pipefail", "-c", REVIEW_STEP],
      // The pull-request job runs as the plan role (docs/iam/plan.json), reconcile included.
      asRole("plan", {
        ...process.env,
        ...emulatorEnv(moto.endpoint),
        ...tofuOnPath(toolchain),
        TF_PLUGIN_CACHE_DIR: path.join(work, "plugin-cache"),
        GITHUB_OUTPUT: output,
        CHECKPOINT_DISABLE: "1",
        NO_COLOR: "1",
        CI: "true",
      }),
      repo,
    );
    if (run.code !== 0) throw new Error(`the step failed (exit ${run.code}):\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-4000)}`);
    const status = /^status=(\d)$/m.exec(fs.readFileSync(output, "utf8"))?.[1] ?? "(none)";
    const review = fs.readFileSync(path.join(repo, "review.md"), "utf8");
    expect({ status, dangers: dangersOf(review) }).toEqual({ status: change.verdict.status, dangers: [...change.verdict.dangers].sort() });
    if (change.drift) {
      const reconciled = JSON.parse(fs.readFileSync(path.join(repo, "reconcile.json"), "utf8"));
      const findings = reconciled.fleets
        .filter((f: any) => change.drift!.of.includes(f.name))
        .flatMap((f: any) => f.findings.map((x: any) => `${x.kind} ${f.name} ${x.region} ${x.account}`));
      expect(findings.sort()).toEqual([...change.drift.findings].sort());
    }
  });
}
