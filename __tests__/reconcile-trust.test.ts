import { DeleteTagsCommand, DescribeImagesCommand, EnableEbsEncryptionByDefaultCommand, LaunchPermission } from "@aws-sdk/client-ec2";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { diffFleets } from "../lib/drift/diff";
import { DriftReport, Finding } from "../lib/drift/findings";
import { SdkAwsReader } from "../lib/live/aws";
import { readLiveState } from "../lib/live/read";
import { loadFleets } from "../lib/fleet/load";
import { reconcileJson, runCli } from "./helpers/cli";
import { FaultProxy, startFaultProxy } from "./helpers/fault-proxy";
import { Ec2 } from "./helpers/live";
import { emulatorEnv, freePort, Moto, startMoto } from "./helpers/moto";

/**
 * The reconcile invariant against the emulator and the fault proxy: whatever could not be read is
 * an error (exit 1), never "in sync" and never drift; what was read is still reported.
 */
jest.setTimeout(120_000);

const ACCOUNT = "444455556666";
const REGIONS = ["eu-west-1", "us-west-2"];

let moto: Moto;
let ec2: Ec2;
let dir: string;
let proxy: FaultProxy;

beforeAll(async () => {
  moto = await startMoto();
  ec2 = new Ec2(moto.env);
});
afterAll(async () => moto?.stop());
beforeEach(async () => {
  await moto.reset();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-trust-"));
  proxy = await startFaultProxy(moto.endpoint);
});
afterEach(async () => {
  await proxy.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function deployed(change: (doc: any) => void = () => undefined) {
  const source = await ec2.registerSource("us-east-1", "trust-source");
  const doc: any = {
    name: "golden",
    source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] },
    regions: [...REGIONS],
    share: { accounts: [ACCOUNT] },
  };
  change(doc);
  const file = path.join(dir, "golden.yaml");
  fs.writeFileSync(file, stringify(doc));
  const [fleet] = loadFleets([file]);
  const copies = await ec2.applyFleet(fleet, { v1: source });
  return { file, source, copies, fleet };
}

async function reconcile(file: string, args: string[] = [], env: NodeJS.ProcessEnv = emulatorEnv(proxy.endpoint)) {
  return reconcileJson(file, args, env);
}

const findings = (report: DriftReport): Finding[] => report.fleets.flatMap((f) => f.findings);

async function snapshotOf(region: string, imageId: string): Promise<string> {
  const [image] = (await ec2.in(region).send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images!;
  return image.BlockDeviceMappings![0].Ebs!.SnapshotId!;
}

describe("--scan-regions", () => {
  it("refuses an unknown Region name with a did-you-mean, before reading anything", async () => {
    const { file } = await deployed();
    const result = await reconcile(file, ["--scan-regions", "eu-wset-1"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('--scan-regions: unknown Region "eu-wset-1". Did you mean eu-west-1?');
    expect(proxy.requests.size).toBe(0);
  });

  it("a scanned Region that cannot be read is an error (exit 1), never in sync", async () => {
    const { file } = await deployed();
    proxy.deny("ca-central-1");
    const result = await reconcile(file, ["--scan-regions", "ca-central-1"]);
    expect(result.code).toBe(1);
    expect(result.report.inSync).toBe(false);
    expect(result.report.errors).toEqual([
      expect.objectContaining({ region: "ca-central-1", message: expect.stringMatching(/cannot read scanned Region .*UnauthorizedOperation/) }),
    ]);
  });

  it("all: reads every Region enabled for the account and finds an orphan in one the fleet never named", async () => {
    const { file, source, fleet } = await deployed();
    // A copy left in a Region that is in no fleet file and not named on the command line.
    await ec2.applyFleet({ ...fleet, regions: [{ ...fleet.regions[0], region: "ap-northeast-3" }] }, { v1: source });
    const result = await reconcile(file, ["--scan-regions", "all", "--stats"]);
    expect(result.code).toBe(2);
    expect(findings(result.report).map((f) => `${f.kind} ${f.region}`)).toEqual(["orphan-copy ap-northeast-3"]);
    expect((result.report.stats as { calls: Record<string, number> }).calls.DescribeRegions).toBe(1);
    expect((result.report.stats as { regions: number }).regions).toBeGreaterThan(10);
  });
});

describe("state that could not be read is an error, never in sync and never drift", () => {
  it.each(["deny", "empty", "truncated"] as const)(
    "DescribeSnapshots answering %s: exit 1, even for a fleet that says nothing about encryption",
    async (fault) => {
      const { file } = await deployed();
      proxy.failAction("DescribeSnapshots", fault, "eu-west-1");
      const result = await reconcile(file);
      expect(result.code).toBe(1);
      expect(result.report.inSync).toBe(false);
      expect(findings(result.report)).toEqual([]);
      // Both reads of DescribeSnapshots there: the copy's snapshots, and the Region's public snapshots.
      expect(result.report.errors).toEqual([
        expect.objectContaining({ region: "eu-west-1", message: expect.stringMatching(/^cannot list the public snapshots /) }),
        expect.objectContaining({ region: "eu-west-1", message: expect.stringMatching(/^cannot read the snapshots of ami-/) }),
      ]);
    },
  );

  it("DescribeImages answering an empty HTTP 200: an error, not missing-copy", async () => {
    const { file } = await deployed();
    proxy.failAction("DescribeImages", "empty", "us-west-2");
    const result = await reconcile(file);
    expect(result.code).toBe(1);
    expect(findings(result.report)).toEqual([]);
    expect(result.report.errors).toEqual([
      expect.objectContaining({ region: "us-west-2", message: expect.stringMatching(/cannot read Region: .*DescribeImages answered without an imagesSet/) }),
    ]);
  });

  it("DescribeImageAttribute answering an empty HTTP 200: an error, not missing-permission", async () => {
    const { file } = await deployed();
    proxy.failAction("DescribeImageAttribute", "empty");
    const result = await reconcile(file);
    expect(result.code).toBe(1);
    expect(findings(result.report)).toEqual([]);
    expect(result.report.errors).toHaveLength(REGIONS.length);
  });

  it("a launch permission of a kind ami-fleet does not know is an error on its copy, never read as no principal", async () => {
    for (const [k, v] of Object.entries(moto.env)) process.env[k] = v;
    const { fleet, copies } = await deployed();
    const copy = copies.get("v1/eu-west-1")!;
    // EC2 may add principal kinds; the emulator cannot answer one, so a reader that adds it to the real answer.
    class FutureEc2 extends SdkAwsReader {
      override async describeLaunchPermissions(region: string, imageId: string): Promise<LaunchPermission[]> {
        const real = await super.describeLaunchPermissions(region, imageId);
        return imageId === copy ? [...real, { FuturePrincipalArn: "arn:aws:future::111122223333:x" } as LaunchPermission] : real;
      }
    }
    const state = await readLiveState([fleet], new FutureEc2(), { now: () => new Date() });
    const image = state.regions["eu-west-1"].images.find((i) => i.imageId === copy)!;
    expect(image.launchPermissions).toBeUndefined();
    expect(image.permissionsError).toContain("FuturePrincipalArn");
    const report = diffFleets([fleet], state);
    expect(report.inSync).toBe(false);
    expect(report.errors.map((e) => e.region)).toEqual(["eu-west-1"]);
    expect(report.fleets[0].findings).toEqual([]);
  });

  it("a public copy is still critical when its launch permissions cannot be read", async () => {
    const { file, copies } = await deployed();
    await ec2.addPermission("eu-west-1", copies.get("v1/eu-west-1")!, { Group: "all" });
    proxy.failAction("DescribeImageAttribute", "deny");
    const result = await reconcile(file);
    expect(result.code).toBe(1);
    expect(findings(result.report).map((f) => `${f.kind} ${f.severity} ${f.region}`)).toEqual(["public-image critical eu-west-1"]);
  });

  it("an SSM source that cannot be read, and a copy that lost its tags: an error, not missing-copy", async () => {
    const source = await ec2.registerSource("us-east-1", "ssm-source");
    const ssm = new SSMClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await ssm.send(new PutParameterCommand({ Name: "/golden/base", Value: source, Type: "String" }));
    const doc = { name: "golden", source: { region: "us-east-1", images: [{ key: "v1", ssmParameter: "/golden/base" }] }, regions: ["eu-west-1"] };
    const file = path.join(dir, "golden.yaml");
    fs.writeFileSync(file, stringify(doc));
    const copies = await ec2.applyFleet(loadFleets([file])[0], { v1: source });
    const copy = copies.get("v1/eu-west-1")!;
    const [tagged] = (await ec2.in("eu-west-1").send(new DescribeImagesCommand({ ImageIds: [copy] }))).Images!;
    await ec2.in("eu-west-1").send(new DeleteTagsCommand({ Resources: [copy], Tags: tagged.Tags!.map(({ Key }) => ({ Key })) }));
    // Readable, the copy is found by name (tag-drift); unreadable, nobody can say it is missing.
    const readable = await reconcile(file);
    expect(findings(readable.report).map((f) => f.kind)).toEqual(["tag-drift"]);
    proxy.failAction("GetParameter", "deny");
    const result = await reconcile(file);
    expect(result.code).toBe(1);
    expect(findings(result.report)).toEqual([]);
    expect(result.report.errors.map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/cannot tell whether image v1 has a copy/), expect.stringMatching(/source image v1: cannot resolve/)]),
    );
  });

  it.each([
    ["named in the error", false],
    ["with an empty error message", true],
  ])("a snapshot that no longer exists (%s) is reported on its copy alone", async (_how, silent) => {
    const { file, copies } = await deployed();
    const gone = await snapshotOf("eu-west-1", copies.get("v1/eu-west-1")!);
    proxy.deleteSnapshot(gone, { silent });
    const result = await reconcile(file);
    expect(result.report.errors).toEqual([]);
    expect(result.code).toBe(2);
    expect(findings(result.report)).toEqual([
      expect.objectContaining({ kind: "copy-state", region: "eu-west-1", message: expect.stringContaining(`snapshot ${gone} no longer exists`) }),
    ]);
  });
});

describe("reconcile ends, and says why, when AWS cannot be asked", () => {
  it("an endpoint that accepts and never answers: exit 1 within the --timeout, not a hang", async () => {
    const { file } = await deployed();
    proxy.failAction("DescribeImages", "hang");
    const started = Date.now();
    const result = await reconcile(file, ["--timeout", "1"], { ...emulatorEnv(proxy.endpoint), AWS_MAX_ATTEMPTS: "1" });
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.report.errors.map((e) => e.message)).toEqual(
      REGIONS.map(() => expect.stringMatching(/cannot read Region: .*(timed? ?out|Timeout)/i)),
    );
  });

  it("shows at once on a terminal how many Regions it reads", async () => {
    // A server that never answers: the first line must already be there.
    const silent = http.createServer(() => undefined);
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, "127.0.0.1", resolve));
    const { file } = await deployed();
    const { spawn } = await import("child_process");
    const child = spawn("script", ["-qfec", `${process.execPath} bin/ami-fleet.js reconcile ${file} --timeout 3`, "/dev/null"], {
      env: { ...process.env, ...emulatorEnv(`http://127.0.0.1:${port}`), AWS_MAX_ATTEMPTS: "1" },
    });
    let seen = "";
    let shownAt: number | undefined;
    child.stdout.on("data", (c) => {
      seen += c;
      if (shownAt === undefined && seen.includes(`reading ${REGIONS.length} Regions…`)) shownAt = Date.now();
    });
    await new Promise((r) => child.on("close", r));
    const closedAt = Date.now();
    // Shown while the requests were still waiting for the 3 s timeout, not with the report.
    expect(shownAt).toBeDefined();
    expect(closedAt - shownAt!).toBeGreaterThan(2000);
    expect(seen).toMatch(/timed? ?out|Timeout/i);
    silent.closeAllConnections();
    silent.close();
  });

  it("no credentials or a mistyped profile: one error with the fix, exit 1", async () => {
    const { file } = await deployed();
    const env = {
      ...emulatorEnv(proxy.endpoint),
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      AWS_PROFILE: "prodd",
    };
    const result = await runCli(["reconcile", file, "--format", "json"], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.match(/no AWS credentials/g)).toHaveLength(1);
    expect(result.stderr).toMatch(/prodd/);
    expect(result.stderr).toMatch(/AWS_PROFILE is "prodd": check that this profile exists/);
    expect(proxy.requests.size).toBe(0);
  });
});

describe("reader paging and limits (in process, against the patched emulator)", () => {
  const env = () => {
    for (const [k, v] of Object.entries(moto.env)) process.env[k] = v;
  };

  it("follows DescribeImages pages", async () => {
    env();
    const { fleet } = await deployed((doc) => (doc.source.images = [doc.source.images[0]]));
    // Eleven more tagged copies of other image keys in eu-west-1 (orphans), so the tag search has 12 images.
    for (let i = 0; i < 11; i++) {
      const source = await ec2.registerSource("us-east-1", `extra-${i}`);
      await ec2.applyFleet({ ...fleet, images: [{ key: `x${i}`, source: { kind: "ami", amiId: source } }], regions: [fleet.regions[0]] }, { [`x${i}`]: source });
    }
    const reader = new SdkAwsReader({ imagesPageSize: 5 });
    const state = await readLiveState([fleet], reader, { now: () => new Date() });
    expect(state.regions["eu-west-1"].images).toHaveLength(12);
    // 12 images at 5 a page is 3 pages in eu-west-1, one in us-west-2.
    expect(reader.stats().calls.DescribeImages).toBe(4);
    const report = diffFleets([fleet], state);
    expect(report.fleets[0].findings.filter((f) => f.kind === "orphan-copy")).toHaveLength(11);
  });

  it("sends at most 200 values in one filter", async () => {
    env();
    const images = Array.from({ length: 250 }, (_, i) => ({ key: `k${i}`, amiId: `ami-${i.toString(16).padStart(17, "0")}` }));
    const file = path.join(dir, "wide.yaml");
    fs.writeFileSync(file, stringify({ name: "wide", source: { region: "us-east-1", images }, regions: ["eu-west-1"] }));
    const [fleet] = loadFleets([file]);
    const reader = new SdkAwsReader();
    const state = await readLiveState([fleet], reader, { now: () => new Date() });
    // One tag search, then the 250 expected names in two calls of 200 and 50.
    expect(reader.stats().calls.DescribeImages).toBe(3);
    expect(diffFleets([fleet], state).fleets[0].findings.filter((f) => f.kind === "missing-copy")).toHaveLength(250);
  });
});

describe("EBS encryption by default", () => {
  it("an unencrypted fleet's copies, encrypted by the account setting, are in sync", async () => {
    await ec2.in("eu-west-1").send(new EnableEbsEncryptionByDefaultCommand({}));
    await ec2.in("us-west-2").send(new EnableEbsEncryptionByDefaultCommand({}));
    const { file } = await deployed((doc) => (doc.encryption = { encrypted: false }));
    const result = await reconcile(file, ["--stats"]);
    expect(result.report.errors).toEqual([]);
    expect(findings(result.report)).toEqual([]);
    expect(result.code).toBe(0);
    expect((result.report.stats as { calls: Record<string, number> }).calls.GetEbsEncryptionByDefault).toBe(REGIONS.length);
  });
});
