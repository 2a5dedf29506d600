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
