import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { runCli } from "./helpers/cli";
import { shareGroupOf } from "../lib/project/layout";
import { synth, synthLayout, synthWithMain } from "./helpers/tofu";

/**
 * `layout: fleet-region` (ami-fleet.config.yaml): one stack per fleet and Region, each standing
 * alone, with the same resource addresses as the one stack per fleet. Real synth, the real CLI.
 */
jest.setTimeout(120_000);

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-layout-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const KEY = (region: string) => `arn:aws:kms:${region}:111122223333:key/0b5c2f1e-7a4d-4c11-9a3e-2f6d8e4b1c90`;

function fleetDoc(overrides: { regions?: string[]; accounts?: string[] } = {}) {
  return {
    name: "golden",
    source: { region: "us-east-1", images: [{ key: "v1", amiId: "ami-0123456789abcdef0" }, { key: "v2", amiId: "ami-0f1e2d3c4b5a69788" }] },
    regions: (overrides.regions ?? ["eu-west-1", "us-west-2"]).map((region) => ({ region, kmsKeyId: KEY(region) })),
    encryption: { encrypted: true },
    share: { accounts: overrides.accounts ?? ["444455556666"] },
    pointers: [{ key: "current", parameter: "/golden/current", image: "v2" }],
  };
}

/** Synthesizes `doc` with `layout` into `out`; returns cdk.tf.json by stack name. */
function synthWith(layout: string | undefined, doc: object, out: string): Record<string, any> {
  return synthLayout(dir, layout, doc, out);
}

/** Every managed resource address of a synthesized stack (for_each resources by their block). */
function addresses(tf: any): string[] {
  return Object.entries(tf.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName as object).map((name) => `${type}.${name}`));
}

describe("layout: fleet-region", () => {
  it("writes one stack per Region, each with that Region's resources only, at the addresses of the fleet layout", () => {
    const perFleet = synthWith(undefined, fleetDoc(), "fleet.out");
    const perRegion = synthWith("fleet-region", fleetDoc(), "region.out");
    expect(Object.keys(perFleet)).toEqual(["golden"]);
    expect(Object.keys(perRegion).sort()).toEqual(["golden-eu-west-1", "golden-us-west-2"]);
    // Together the Region stacks hold exactly the fleet stack's resources; each only its own Region's.
    const union = Object.values(perRegion).flatMap(addresses).sort();
    expect(union).toEqual(expect.arrayContaining(["aws_kms_grant.key_grants_eu-west-1", "aws_ssm_parameter.pointer_current_us-west-2"]));
    expect(union).toEqual(addresses(perFleet.golden).sort());
    for (const [stack, tf] of Object.entries(perRegion)) {
      const region = stack.slice("golden-".length);
      const own = addresses(tf);
      expect(own.length).toBeGreaterThan(0);
      for (const address of own) expect(address).toMatch(new RegExp(`_${region}(_[a-z]+)?$`));
      // Each stack stands alone: its own state, no remote state of another stack.
      expect(tf.terraform.backend.local.path).toMatch(new RegExp(`terraform\\.${stack}\\.tfstate$`));
      expect(tf.data?.terraform_remote_state).toBeUndefined();
      // A Region stack's resources are the fleet stack's, block for block (same arguments).
      for (const [type, byName] of Object.entries(tf.resource)) {
        for (const [name, block] of Object.entries(byName as Record<string, any>)) {
          const { ["//"]: _ignored, ...rest } = block;
          const { ["//"]: _alsoIgnored, ...expected } = perFleet.golden.resource[type][name];
          expect(rest).toEqual(expected);
        }
      }
    }
  });

  it("keys each Region stack's S3 state by the stack's name", () => {
    const fleets = path.join(dir, "fleets");
    fs.mkdirSync(fleets);
    fs.writeFileSync(path.join(fleets, "golden.yaml"), stringify(fleetDoc()));
    const config = path.join(dir, "s3.yaml");
    fs.writeFileSync(config, stringify({ layout: "fleet-region", backend: { type: "s3", bucket: "team-tf-state", region: "eu-west-1", keyPrefix: "ami/" } }));
    synth([fleets], path.join(dir, "s3.out"), { AMI_FLEET_CONFIG: config });
    const tf = JSON.parse(fs.readFileSync(path.join(dir, "s3.out", "stacks", "golden-us-west-2", "cdk.tf.json"), "utf8"));
    expect(tf.terraform.backend.s3).toMatchObject({ bucket: "team-tf-state", key: "ami/golden-us-west-2.tfstate", use_lockfile: true });
  });

  it("plans only the Regions a change lands in: a new Region is one new stack, a new account every Region's", async () => {
    synthWith("fleet-region", fleetDoc(), "base.out");
    synthWith("fleet-region", fleetDoc({ regions: ["eu-west-1", "us-west-2", "ap-southeast-2"] }), "region-added.out");
    const regionAdded = await runCli(["changed", "--base", path.join(dir, "base.out"), path.join(dir, "region-added.out"), "--format", "json"]);
    expect(regionAdded.code).toBe(2);
    const report = JSON.parse(regionAdded.stdout);
    expect(report.plan).toEqual([{ stack: "golden-ap-southeast-2", fleet: "golden", dir: path.join(dir, "region-added.out", "stacks", "golden-ap-southeast-2"), waitsFor: [] }]);
    expect(report.unchanged.map((s: any) => [s.stack, s.fleet])).toEqual([["golden-eu-west-1", "golden"], ["golden-us-west-2", "golden"]]);

    synthWith("fleet-region", fleetDoc({ accounts: ["444455556666", "777788889999"] }), "account-added.out");
    const accountAdded = await runCli(["changed", "--base", path.join(dir, "base.out"), path.join(dir, "account-added.out")]);
    expect({ code: accountAdded.code, stdout: accountAdded.stdout }).toEqual({ code: 2, stdout: "golden-eu-west-1\ngolden-us-west-2\n" });

    synthWith("fleet-region", fleetDoc({ regions: ["eu-west-1"] }), "region-removed.out");
    const regionRemoved = await runCli(["changed", "--base", path.join(dir, "base.out"), path.join(dir, "region-removed.out"), "--format", "json"]);
    expect(JSON.parse(regionRemoved.stdout).removed).toEqual([{ stack: "golden-us-west-2", fleet: "golden", dir: path.join(dir, "base.out", "stacks", "golden-us-west-2") }]);
  });

  it("refuses an unknown layout naming the file, the field and the fix; validate checks it too", async () => {
    const config = path.join(dir, "bad.yaml");
    fs.writeFileSync(config, "layout: per-region\n");
    const fleets = path.join(dir, "fleets");
    fs.mkdirSync(fleets);
    fs.writeFileSync(path.join(fleets, "golden.yaml"), stringify(fleetDoc()));
    const result = await runCli(["validate", fleets], { env: { AMI_FLEET_CONFIG: config } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${config}: layout:`);
    expect(result.stderr).toContain("Use layout: fleet (one stack per fleet), layout: fleet-region (one stack per fleet and Region) or layout: split");
    expect(() => synthWithMain([fleets], path.join(dir, "bad.out"), { AMI_FLEET_CONFIG: config })).toThrow(/layout:.*nothing was synthesized/s);
  });
});

describe("layout: split", () => {
  const ACCOUNTS = ["444455556666", "777788889999", "123456789012", "210987654321", "333344445555"];
  const splitConfig = (groups: number) => {
    const config = path.join(dir, `split-${groups}.yaml`);
    fs.writeFileSync(config, stringify({ layout: "split", shareGroups: groups }));
    return config;
  };
  const synthSplit = (doc: object, out: string, groups = 3): Record<string, any> => {
    const fleets = path.join(dir, "fleets");
    fs.mkdirSync(fleets, { recursive: true });
    fs.writeFileSync(path.join(fleets, "golden.yaml"), stringify(doc));
    synth([fleets], path.join(dir, out), { AMI_FLEET_CONFIG: splitConfig(groups) });
    const stacks: Record<string, any> = {};
    for (const name of fs.readdirSync(path.join(dir, out, "stacks"))) {
      stacks[name] = JSON.parse(fs.readFileSync(path.join(dir, out, "stacks", name, "cdk.tf.json"), "utf8"));
    }
    return stacks;
  };
  const groupOf = (account: string, groups = 3) => shareGroupOf({ kind: "account", value: account }, groups);

  it("puts copies and pointers in a stack per Region, permissions per image and share group, grants per share group", () => {
    const perFleet = synthWith(undefined, fleetDoc({ accounts: ACCOUNTS }), "fleet.out");
    const split = synthSplit(fleetDoc({ accounts: ACCOUNTS }), "split.out");
    const groups = [...new Set(ACCOUNTS.map((a) => groupOf(a)))].sort();
    expect(groups.length).toBeGreaterThan(1); // the accounts spread over more than one group
    expect(Object.keys(split).sort()).toEqual(
      [
        "golden-eu-west-1",
        "golden-us-west-2",
        ...groups.map((g) => `golden-grants-g${g}`),
        ...groups.flatMap((g) => [`golden-shares-v1-g${g}`, `golden-shares-v2-g${g}`]),
      ].sort(),
    );
    // The same resource blocks as the fleet stack, at the same addresses.
    const blocks = new Set(Object.values(split).flatMap(addresses));
    expect([...blocks].sort()).toEqual(addresses(perFleet.golden).sort());
    // Copy stacks hold no principal: adding one never changes them.
    for (const region of ["eu-west-1", "us-west-2"]) {
      const copyStack = split[`golden-${region}`];
      expect(Object.keys(copyStack.resource).sort()).toEqual(["aws_ami_copy", "aws_ssm_parameter"]);
      expect(copyStack.locals).toBeUndefined();
      expect(Object.keys(copyStack.output).sort()).toEqual(["copies_v1", "copies_v2"]);
    }
    // Each share stack: one image, its group's accounts, the copy ids read from each Region's copy stack's state.
    for (const g of groups) {
      const share = split[`golden-shares-v1-g${g}`];
      expect(share.locals.launch_permissions.fleet.accounts).toEqual(ACCOUNTS.filter((a) => groupOf(a) === g).sort());
      expect(Object.keys(share.resource)).toEqual(["aws_ami_launch_permission"]);
      expect(share.data.terraform_remote_state["copies_eu-west-1"]).toEqual({ backend: "local", config: { path: "../../../terraform.golden-eu-west-1.tfstate" } });
      const permission = share.resource.aws_ami_launch_permission["share_v1_eu-west-1_accounts"];
      expect(permission.image_id).toBe('${try(data.terraform_remote_state.copies_eu-west-1.outputs.copies_v1["eu-west-1"], "")}');
      expect(permission.lifecycle.precondition[0].error_message).toContain("is not in the state of stack golden-eu-west-1: apply that stack first");
      const grants = split[`golden-grants-g${g}`];
      expect(Object.keys(grants.resource)).toEqual(["aws_kms_grant"]);
      expect(grants.locals.launch_permissions.fleet.accounts).toEqual(share.locals.launch_permissions.fleet.accounts);
    }
    // cdktf deploys the copy stacks first.
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "split.out", "manifest.json"), "utf8"));
    expect(manifest.stacks[`golden-shares-v2-g${groups[0]}`].dependencies.sort()).toEqual(["golden-eu-west-1", "golden-us-west-2"]);
    expect(manifest.stacks["golden-eu-west-1"].dependencies).toEqual([]);
  });

  it("replans only the new principal's share group; a new image's share stacks wait for their copies", async () => {
    const base = ACCOUNTS.slice(0, 4);
    synthSplit(fleetDoc({ accounts: base }), "base.out");
    const added = ACCOUNTS[4];
    const g = groupOf(added);
    synthSplit(fleetDoc({ accounts: [...base, added] }), "added.out");
    const accountAdded = await runCli(["changed", "--base", path.join(dir, "base.out"), path.join(dir, "added.out"), "--format", "json"]);
    expect(accountAdded.code).toBe(2);
    const report = JSON.parse(accountAdded.stdout);
    expect(report.plan.map((s: any) => [s.stack, s.fleet, s.waitsFor])).toEqual([
      [`golden-grants-g${g}`, "golden", []],
      [`golden-shares-v1-g${g}`, "golden", []],
      [`golden-shares-v2-g${g}`, "golden", []],
    ]);
    expect(report.unchanged.map((s: any) => s.stack)).toEqual(expect.arrayContaining(["golden-eu-west-1", "golden-us-west-2"]));

    // A new image version: its copies change the copy stacks; its share stacks must wait for them.
    const doc = fleetDoc({ accounts: base }) as any;
    doc.source.images.push({ key: "v3", amiId: "ami-0aaaabbbbccccdddd" });
    synthSplit(doc, "image.out");
    const json = await runCli(["changed", "--base", path.join(dir, "base.out"), path.join(dir, "image.out"), "--format", "json"]);
    const plan = JSON.parse(json.stdout).plan;
    const groups = [...new Set(base.map((a) => groupOf(a)))].sort();
    expect(plan.map((s: any) => [s.stack, s.waitsFor])).toEqual(
      [
        ["golden-eu-west-1", []],
        ["golden-us-west-2", []],
        ...groups.map((group) => [`golden-shares-v3-g${group}`, ["golden-eu-west-1", "golden-us-west-2"]]),
      ].sort(([a], [b]) => String(a).localeCompare(String(b))),
    );
    const text = await runCli(["changed", "--base", path.join(dir, "base.out"), path.join(dir, "image.out")]);
    expect(text.stdout).toBe("golden-eu-west-1\ngolden-us-west-2\n");
    expect(text.stderr).toContain(`golden-shares-v3-g${groups[0]}: plan it once golden-eu-west-1, golden-us-west-2 are applied (it reads their new copies)`);
  });

  it("keys a share stack's remote state reads by the copy stacks' S3 keys", () => {
    const fleets = path.join(dir, "fleets");
    fs.mkdirSync(fleets);
    fs.writeFileSync(path.join(fleets, "golden.yaml"), stringify(fleetDoc()));
    const config = path.join(dir, "s3.yaml");
    fs.writeFileSync(config, stringify({ layout: "split", shareGroups: 1, backend: { type: "s3", bucket: "team-tf-state", region: "eu-west-1", keyPrefix: "ami/" } }));
    synth([fleets], path.join(dir, "s3.out"), { AMI_FLEET_CONFIG: config });
    const tf = JSON.parse(fs.readFileSync(path.join(dir, "s3.out", "stacks", "golden-shares-v1-g0", "cdk.tf.json"), "utf8"));
    expect(tf.terraform.backend.s3).toMatchObject({ key: "ami/golden-shares-v1-g0.tfstate" });
    expect(tf.data.terraform_remote_state["copies_us-west-2"]).toEqual({
      backend: "s3",
      config: { bucket: "team-tf-state", key: "ami/golden-us-west-2.tfstate", region: "eu-west-1" },
    });
  });

  it("refuses two fleets whose stacks would have the same name, naming both files", () => {
    const fleets = path.join(dir, "fleets");
    fs.mkdirSync(fleets);
    // golden's image b-shares-v1 and golden-shares-b's image v1 both make golden-shares-b-shares-v1-g0.
    const golden = fleetDoc() as any;
    golden.source.images.push({ key: "b-shares-v1", amiId: "ami-0aaaabbbbccccdddd" });
    fs.writeFileSync(path.join(fleets, "golden.yaml"), stringify(golden));
    const { pointers: _none, ...other } = { ...fleetDoc(), name: "golden-shares-b" };
    fs.writeFileSync(path.join(fleets, "other.yaml"), stringify(other));
    expect(() => synthWithMain([fleets], path.join(dir, "clash.out"), { AMI_FLEET_CONFIG: splitConfig(1) })).toThrow(
      /other\.yaml: name: makes stack golden-shares-b-shares-v1-g0, which .*golden\.yaml makes too \(layout: split\)\. Rename one of the fleets.*nothing was synthesized/s,
    );
    expect(fs.existsSync(path.join(dir, "clash.out", "stacks"))).toBe(false);
  });
});
