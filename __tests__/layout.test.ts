import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { runCli } from "./helpers/cli";
import { synth } from "./helpers/tofu";

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
  const fleets = path.join(dir, "fleets");
  fs.mkdirSync(fleets, { recursive: true });
  fs.writeFileSync(path.join(fleets, "golden.yaml"), stringify(doc));
  const config = path.join(dir, `config-${layout ?? "default"}.yaml`);
  fs.writeFileSync(config, layout ? stringify({ layout }) : "{}\n");
  synth([fleets], path.join(dir, out), { AMI_FLEET_CONFIG: config });
  const stacks: Record<string, any> = {};
  for (const name of fs.readdirSync(path.join(dir, out, "stacks"))) {
    stacks[name] = JSON.parse(fs.readFileSync(path.join(dir, out, "stacks", name, "cdk.tf.json"), "utf8"));
  }
  return stacks;
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
    expect(report.plan).toEqual([{ stack: "golden-ap-southeast-2", fleet: "golden", dir: path.join(dir, "region-added.out", "stacks", "golden-ap-southeast-2") }]);
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
    expect(result.stderr).toContain("Use layout: fleet (one stack per fleet) or layout: fleet-region (one stack per fleet and Region)");
    expect(() => synth([fleets], path.join(dir, "bad.out"), { AMI_FLEET_CONFIG: config })).toThrow(/layout:.*nothing was synthesized/s);
  });
});
