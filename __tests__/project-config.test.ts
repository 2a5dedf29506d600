import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli } from "./helpers/cli";
import { Testing } from "cdktf";
import { formatProblem } from "../lib/fleet/errors";
import { BackendConfig, loadProjectConfig } from "../lib/project/config";
import { FleetStack } from "../stacks/fleet-stack";
import { fleetOf, validDocument } from "./helpers/fleets";

/** The project config (ami-fleet.config.yaml): where stacks keep their state. */

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-config-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function load(text: string | undefined) {
  if (text !== undefined) fs.writeFileSync(path.join(dir, "ami-fleet.config.yaml"), text);
  return loadProjectConfig(dir, undefined);
}

function problems(text: string): string[] {
  const result = load(text);
  if (!("problems" in result)) throw new Error("expected problems");
  return result.problems.map(formatProblem);
}

describe("project config", () => {
  it("is local state without a config file", () => {
    expect(load(undefined)).toEqual({ config: { layout: "fleet", shareGroups: 8, backend: { type: "local" } } });
  });

  it("reads the stack layout: one stack per fleet by default, or one per fleet and Region", () => {
    expect(load("layout: fleet-region\n")).toEqual({ config: { layout: "fleet-region", shareGroups: 8, backend: { type: "local" } } });
    expect(load("layout: fleet\nbackend:\n  type: s3\n  bucket: team-tf-state\n  region: eu-west-1\n")).toMatchObject({ config: { layout: "fleet", backend: { type: "s3" } } });
    const file = path.join(dir, "ami-fleet.config.yaml");
    expect(problems("layout: region\n")).toEqual([expect.stringMatching(new RegExp(`^${file}: layout: .*Use layout: fleet \\(one stack per fleet\\), layout: fleet-region \\(one stack per fleet and Region\\) or layout: split`))]);
    expect(problems("stacks: fleet\n")).toEqual([expect.stringContaining("The config file has three fields: layout, shareGroups and backend")]);
  });

  it("reads the split layout's share groups, 8 by default, and refuses them without it", () => {
    expect(load("layout: split\n")).toEqual({ config: { layout: "split", shareGroups: 8, backend: { type: "local" } } });
    expect(load("layout: split\nshareGroups: 20\n")).toEqual({ config: { layout: "split", shareGroups: 20, backend: { type: "local" } } });
    const file = path.join(dir, "ami-fleet.config.yaml");
    expect(problems("layout: split\nshareGroups: 0\n")).toEqual([`${file}: shareGroups: must be at least 1. Use a whole number from 1 to 256 (README "Stack layout").`]);
    expect(problems("layout: split\nshareGroups: 2.5\n")).toEqual([`${file}: shareGroups: must be a whole number. Use a whole number from 1 to 256 (README "Stack layout").`]);
    expect(problems("layout: fleet-region\nshareGroups: 4\n")).toEqual([
      `${file}: shareGroups: is set, but layout is fleet-region: share groups are a part of layout: split. Remove shareGroups, or set layout: split.`,
    ]);
  });

  it("reads an S3 backend with its defaults: encrypted, S3-native locking, ami-fleet/ prefix", () => {
    expect(load("backend:\n  type: s3\n  bucket: team-tf-state\n  region: eu-west-1\n")).toEqual({
      config: { layout: "fleet", shareGroups: 8, backend: { type: "s3", bucket: "team-tf-state", region: "eu-west-1", keyPrefix: "ami-fleet/", encrypt: true, lockfile: true } },
    });
  });

  it("names the file, the field and the fix for what it refuses", () => {
    const file = path.join(dir, "ami-fleet.config.yaml");
    expect(problems("backend:\n  type: s4\n")).toEqual([expect.stringMatching(new RegExp(`^${file}: backend.type: .*Use type: local, or type: s3 with bucket and region\\.$`))]);
    expect(problems("backend:\n  type: s3\n  region: eu-west-1\n")).toEqual([expect.stringContaining(`${file}: backend.bucket:`)]);
    expect(problems("backend:\n  type: s3\n  bucket: Team_State\n  region: eu-west-1\n")).toEqual([expect.stringContaining("must be an S3 bucket name")]);
    expect(problems("backend:\n  type: s3\n  bucket: team-tf-state\n  region: eu-wset-1\n")).toEqual([`${file}: backend.region: unknown Region "eu-wset-1". Use the bucket's Region, e.g. eu-west-1.`]);
    expect(problems("backend:\n  type: local\n  path: x\n")).toEqual([expect.stringContaining(`${file}: backend.path: unknown field "path"`)]);
    expect(problems("backend: [")).toEqual([expect.stringContaining("is not valid YAML")]);
  });

  it("a misspelt field gets the nearest one, and the file is named from the folder the command runs in", async () => {
    fs.writeFileSync(path.join(dir, "ami-fleet.config.yaml"), "layuot: split\n");
    fs.mkdirSync(path.join(dir, "fleets"));
    const result = await runCli(["validate"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ami-fleet.config.yaml: layuot: unknown field "layuot". Did you mean "layout"?\n');
    expect(result.stderr).not.toContain(dir);
  });

  it("an AMI_FLEET_CONFIG that does not exist is an error, not local state", () => {
    const result = loadProjectConfig(dir, path.join(dir, "missing.yaml"));
    expect("problems" in result && result.problems[0].message).toMatch(/cannot be read \(ENOENT\)/);
  });
});

describe("the stack's backend", () => {
  const synth = (backend?: BackendConfig) =>
    JSON.parse(Testing.synth(new FleetStack(Testing.app(), fleetOf(validDocument()), backend ? { backend } : {})));

  it("writes the S3 backend with use_lockfile, one key per fleet", () => {
    const tf = synth({ type: "s3", bucket: "team-tf-state", region: "eu-west-1", keyPrefix: "ami/", encrypt: true, lockfile: true });
    expect(tf.terraform.backend).toEqual({
      s3: { bucket: "team-tf-state", key: "ami/golden-base.tfstate", region: "eu-west-1", encrypt: true, use_lockfile: true },
    });
    const unlocked = synth({ type: "s3", bucket: "team-tf-state", region: "eu-west-1", keyPrefix: "", encrypt: false, lockfile: false });
    expect(unlocked.terraform.backend.s3).toEqual({ bucket: "team-tf-state", key: "golden-base.tfstate", region: "eu-west-1", encrypt: false });
  });

  it("stays local by default", () => {
    expect(Object.keys(synth().terraform.backend)).toEqual(["local"]);
  });
});
