import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { PROJECT_ROOT, spawnAsync } from "./helpers/cli";
import { Ec2 } from "./helpers/live";
import { Moto, startMoto } from "./helpers/moto";
import { loadToolchain, Toolchain, tofuOnPath, writeEmulatorOverrides } from "./helpers/tofu";

/**
 * The README's "Plan and apply" block, run as written in a project folder (its fleets/, cdktf.json and
 * ami-fleet installed), against the emulator with the real OpenTofu and provider: every command runs
 * in the project folder, and `review` there judges the plan's launch permission against fleets/ (a
 * review where the fleet files are not would exit 1, review.test).
 */
jest.setTimeout(600_000);

const A1 = "444455556666";

let toolchain: Toolchain;
let moto: Moto;
let project: string;

beforeAll(async () => {
  toolchain = loadToolchain();
  moto = await startMoto();
  project = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-readme-plan-"));
});
afterAll(async () => {
  await moto?.stop();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

/** The first `sh` block after a README heading, line by line. */
function readmeBlock(heading: string): string[] {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error(`no sh block after ${heading}`);
  return block[1].trimEnd().split("\n");
}

it("the README's plan-and-apply block, in a project folder: validate, synth, plan, review against fleets/, apply, reconcile in sync", async () => {
  const source = await new Ec2(moto.env).registerSource("us-east-1", "readme-golden-base");
  fs.mkdirSync(path.join(project, "fleets"));
  fs.writeFileSync(
    path.join(project, "fleets", "golden-base.yaml"),
    stringify({
      name: "golden-base",
      source: { region: "us-east-1", images: [{ key: "v1", amiId: source }] },
      regions: ["eu-west-1"],
      share: { accounts: [A1] },
      encryption: { acknowledgeUnencryptedSharing: true },
    }),
  );
  // The project as a team has it: cdktf.json whose app synthesizes the fleets (ami-fleet's main.ts, compiled), and the CLIs.
  fs.writeFileSync(path.join(project, "main.js"), `require(${JSON.stringify(path.join(PROJECT_ROOT, "dist", "lib", "index.js"))}).synthFleetApp();\n`);
  fs.writeFileSync(path.join(project, "cdktf.json"), JSON.stringify({ language: "typescript", app: "node main.js", terraformProviders: [], terraformModules: [] }));
  fs.mkdirSync(path.join(project, "node_modules", ".bin"), { recursive: true });
  fs.symlinkSync(path.join(PROJECT_ROOT, "bin", "ami-fleet.js"), path.join(project, "node_modules", ".bin", "ami-fleet"));
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules", ".bin", "cdktf"), path.join(project, "node_modules", ".bin", "cdktf"));

  const block = readmeBlock("## Plan and apply");
  expect(block).toContain("npx ami-fleet review --plan plan.json         # in the project folder: it judges against fleets/");
  const synthAt = block.findIndex((line) => line.startsWith("npx cdktf synth"));
  const env = { ...process.env, ...moto.env, ...tofuOnPath(toolchain), CHECKPOINT_DISABLE: "1", NO_COLOR: "1", CI: "true" };
  const run = async (lines: string[]) => {
    const result = await spawnAsync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", lines.join("\n")], env, project);
    if (result.code !== 0) throw new Error(`the README's block exited ${result.code}:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
    return result;
  };
  // Up to the synth, then the emulator's endpoint settings beside each stack (as every e2e test does), then the rest as written.
  await run(block.slice(0, synthAt + 1));
  writeEmulatorOverrides(path.join(project, "cdktf.out"));
  const rest = await run(block.slice(synthAt + 1));
  // The review judged the launch permission against fleets/golden-base.yaml: shared unencrypted, which that file acknowledges.
  expect(rest.stdout).toMatch(/allowed unencrypted-shared +aws_ami_copy\.copy_v1_eu-west-1\n.*; fleet golden-base acknowledges this/);
  expect(rest.stdout).toContain("review: nothing dangerous (exit 0)");
  expect(rest.stdout).toMatch(/Apply complete! Resources: 2 added, 0 changed, 0 destroyed/);
  expect(rest.stdout).toMatch(/in sync/);
});
