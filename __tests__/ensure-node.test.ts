/**
 * scripts/ensure-node.sh: the supported Node releases from the cache (README "Node versions"). The
 * download itself runs in every test command (scripts/test.sh fetches both); these are its refusals.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "./helpers/cli";

const SCRIPT = path.join(PROJECT_ROOT, "scripts", "ensure-node.sh");
const ensure = (major: string, cache: string) => spawnSync("bash", [SCRIPT, major], { env: { ...process.env, AMI_FLEET_CACHE: cache }, encoding: "utf8" });

it("refuses a release it does not support, naming the supported ones", () => {
  const result = ensure("20", fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-node-")));
  expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 1, stdout: "", stderr: "ensure-node: Node 20 is not a supported release (22 or 24)\n" });
});

it("checks the cached binary's version on every call: a wrong one fails with the fix, a right one gives its bin folder", () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-node-"));
  const bin = path.join(cache, "node", `node-linux-${process.arch}-22.23.5`, "bin");
  fs.mkdirSync(bin, { recursive: true });
  const fake = (version: string) => fs.writeFileSync(path.join(bin, "node"), `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
  fake("v22.1.0");
  const wrong = ensure("22", cache);
  expect(wrong.status).toBe(1);
  expect(wrong.stderr).toBe(`ensure-node: ${bin}/node is v22.1.0, expected v22.23.5 (delete ${path.dirname(bin)} and run again)\n`);
  fake("v22.23.5");
  expect(ensure("22", cache)).toMatchObject({ status: 0, stdout: `${bin}\n`, stderr: "" });
  fs.rmSync(cache, { recursive: true, force: true });
});
