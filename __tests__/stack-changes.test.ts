import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { canonical, compareStacks } from "../lib/review/stack-changes";
import { runCli } from "./helpers/cli";
import { synth } from "./helpers/tofu";

/** `ami-fleet changed`: plan only the stacks a change touches. Real synth outputs, the real CLI. */
jest.setTimeout(120_000);

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-changed-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeFleets(folder: string, fleets: Record<string, string[]>): string {
  fs.mkdirSync(folder, { recursive: true });
  for (const [name, accounts] of Object.entries(fleets)) {
    fs.writeFileSync(
      path.join(folder, `${name}.yaml`),
      stringify({ name, source: { region: "us-east-1", images: [{ key: "v1", amiId: "ami-0123456789abcdef0" }] }, regions: ["eu-west-1"], share: { accounts } }),
    );
  }
  return folder;
}

describe("ami-fleet changed", () => {
  it("lists only the stacks whose configuration changed; the same fleets synthesized elsewhere are unchanged", async () => {
    // One fleets folder, as a checkout of the base and of the change both have `fleets/` (file
    // names are part of the configuration: precondition messages name the fleet file).
    const fleets = path.join(dir, "fleets");
    const base = path.join(dir, "base.out");
    synth([writeFleets(fleets, { alpha: ["444455556666"], beta: ["444455556666"] })], base);
    const same = path.join(dir, "same.out");
    synth([fleets], same);
    const unchanged = await runCli(["changed", "--base", base, same]);
    expect({ code: unchanged.code, stdout: unchanged.stdout }).toEqual({ code: 0, stdout: "" });
    expect(unchanged.stderr).toContain("0 changed, 0 added, 0 removed, 2 unchanged");

    const head = path.join(dir, "head.out");
    fs.rmSync(path.join(fleets, "beta.yaml"));
    synth([writeFleets(fleets, { alpha: ["444455556666", "777788889999"], gamma: ["444455556666"] })], head);
    const changed = await runCli(["changed", "--base", base, head]);
    expect({ code: changed.code, stdout: changed.stdout }).toEqual({ code: 2, stdout: "alpha\ngamma\n" });
    expect(changed.stderr).toContain(`beta: removed (plan its destruction from ${path.join(base, "stacks", "beta")})`);
  });

  it("a stack that reads another's copies is planned after it when those copies are new or replaced (a recipient, a split share stack)", async () => {
    const fleets = path.join(dir, "fleets");
    fs.mkdirSync(fleets, { recursive: true });
    const write = (images: object[]) =>
      fs.writeFileSync(
        path.join(fleets, "golden.yaml"),
        stringify({ name: "golden", source: { region: "us-east-1", images }, regions: ["eu-west-1"], recipients: [{ account: "222233334444" }] }),
      );
    const v1 = { key: "v1", amiId: "ami-0123456789abcdef0" };
    write([v1]);
    const base = path.join(dir, "base.out");
    synth([fleets], base);
    const json = async (head: string) => JSON.parse((await runCli(["changed", "--base", base, head, "--format", "json"])).stdout);
    // A new version of the source of v1: the owner's copy is replaced (a new id); the recipient's
    // configuration is the same, but its copy, permissions and pointer must follow the new copy.
    write([{ ...v1, amiId: "ami-0f1e2d3c4b5a69788" }]);
    const replaced = path.join(dir, "replaced.out");
    synth([fleets], replaced);
    expect((await json(replaced)).plan).toEqual([
      expect.objectContaining({ stack: "golden", waitsFor: [] }),
      expect.objectContaining({ stack: "golden-recipient-222233334444", waitsFor: ["golden"] }),
    ]);
    const text = await runCli(["changed", "--base", base, replaced]);
    expect({ code: text.code, stdout: text.stdout }).toEqual({ code: 2, stdout: "golden\n" });
    expect(text.stderr).toContain("golden-recipient-222233334444: plan it once golden is applied");
    // A new image: the recipient's stack changes and waits for the new copies.
    write([v1, { key: "v2", amiId: "ami-0f1e2d3c4b5a69788" }]);
    const added = path.join(dir, "added.out");
    synth([fleets], added);
    expect((await json(added)).plan.map((p: any) => [p.stack, p.waitsFor])).toEqual([["golden", []], ["golden-recipient-222233334444", ["golden"]]]);
    // A tag on the copies changes them in place (the ids stay): the recipient's stack changes too (its copies carry the fleet's tags), planned now.
    write([v1]);
    const doc = { name: "golden", source: { region: "us-east-1", images: [v1] }, regions: ["eu-west-1"], recipients: [{ account: "222233334444" }], tags: { team: "x" } };
    fs.writeFileSync(path.join(fleets, "golden.yaml"), stringify(doc));
    const tagged = path.join(dir, "tagged.out");
    synth([fleets], tagged);
    expect((await json(tagged)).plan.map((p: any) => [p.stack, p.waitsFor])).toEqual([["golden", []], ["golden-recipient-222233334444", []]]);
  });

  it("a source resolved at plan time (lookup, ssmParameter) may be replaced by any plan of its copy stack: the stacks that read those copies follow it", async () => {
    const fleets = path.join(dir, "fleets");
    fs.mkdirSync(fleets, { recursive: true });
    const write = (tags: Record<string, string>) =>
      fs.writeFileSync(
        path.join(fleets, "golden.yaml"),
        stringify({
          name: "golden",
          source: { region: "us-east-1", images: [{ key: "current", lookup: { owners: ["self"], name: "golden-*", mostRecent: true } }, { key: "pinned", amiId: "ami-0123456789abcdef0" }] },
          regions: ["eu-west-1"],
          share: { accounts: ["444455556666"] },
          tags,
        }),
      );
    const config = path.join(dir, "split.yaml");
    fs.writeFileSync(config, stringify({ layout: "split", shareGroups: 1 }));
    write({ team: "a" });
    const base = path.join(dir, "base.out");
    synth([fleets], base, { AMI_FLEET_CONFIG: config });
    // The text of the lookup's copy is the same expression before and after; the plan of the copy
    // stack (planned for its new tag) resolves the lookup again and replaces the copy when it finds a
    // newer AMI. The share stack of that image reads the new id only after that apply; the pinned
    // image's share stack reads ids no plan of this change can replace.
    write({ team: "b" });
    const head = path.join(dir, "head.out");
    synth([fleets], head, { AMI_FLEET_CONFIG: config });
    const report = JSON.parse((await runCli(["changed", "--base", base, head, "--format", "json"])).stdout);
    expect(report.plan.map((p: any) => [p.stack, p.waitsFor])).toEqual([
      ["golden-eu-west-1", []],
      ["golden-shares-current-g0", ["golden-eu-west-1"]],
    ]);
    expect(report.unchanged.map((p: any) => p.stack)).toEqual(["golden-shares-pinned-g0"]);
    // No plan of the copy stack, no new lookup: nothing follows.
    const same = JSON.parse((await runCli(["changed", "--base", head, head, "--format", "json"])).stdout);
    expect(same.plan).toEqual([]);
  });

  it("is an error, saying what to do, without a base output", async () => {
    const result = await runCli(["changed", "--base", path.join(dir, "nowhere"), path.join(dir, "nowhere")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("not found. Synthesize into");
  });

  it("compares what Terraform sees: key order, cdktf metadata and the local state path do not count", () => {
    const a = { "//": { metadata: { version: "1" } }, terraform: { backend: { local: { path: "../../a.tfstate" } } }, resource: { x: { y: { a: 1, b: 2 } } } };
    const b = { resource: { x: { y: { b: 2, a: 1 } } }, terraform: { backend: { local: { path: "../../../b.tfstate" } } } };
    expect(canonical(a)).toBe(canonical(b));
    expect(compareStacks({ s: a }, { s: { ...b, resource: { x: { y: { a: 1, b: 3 } } } } }).changed).toEqual(["s"]);
    expect(compareStacks({ s: a }, { s: { ...b, terraform: { backend: { s3: { bucket: "x" } } } } }).changed).toEqual(["s"]);
  });
});
