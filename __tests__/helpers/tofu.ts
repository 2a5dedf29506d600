import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { App } from "cdktf";
import { FleetSpecError } from "../../lib/fleet/errors";
import { loadFleets } from "../../lib/fleet/load";
import { loadProjectConfig } from "../../lib/project/config";
import { addFleetStacks, checkStackNames } from "../../stacks/fleet-app";
import { PROJECT_ROOT, spawnAsync } from "./cli";
import { asRole, tofuRole } from "./iam";

/** The OpenTofu binary and CLI config that scripts/e2e-setup.sh built and wrote. */
export interface Toolchain {
  readonly tofu: string;
  readonly cliConfig: string;
  readonly providerVersion: string;
}

export function loadToolchain(): Toolchain {
  const cache = process.env.AMI_FLEET_CACHE ?? path.join(os.homedir(), ".cache", "ami-fleet");
  const file = path.join(cache, "toolchain", "current.env");
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run \`npm run e2e:setup\` first`);
  const vars = Object.fromEntries(
    fs.readFileSync(file, "utf8").trim().split("\n").map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
  return { tofu: vars.TOFU_BIN, cliConfig: vars.TF_CLI_CONFIG_FILE, providerVersion: vars.AWS_PROVIDER_VERSION };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment every tofu run gets: the toolchain's CLI config (provider mirror), no prompts, no checkpoint. */
export function tofuEnv(toolchain: Toolchain): NodeJS.ProcessEnv {
  return { TF_CLI_CONFIG_FILE: toolchain.cliConfig, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
}

/** tofuEnv plus `tofu` on PATH, for scripts and tools (cdktf, the README's blocks) that call it by name. */
export function tofuOnPath(toolchain: Toolchain): NodeJS.ProcessEnv {
  return { ...tofuEnv(toolchain), PATH: `${path.dirname(toolchain.tofu)}${path.delimiter}${process.env.PATH}` };
}

/**
 * Runs `tofu -chdir=<dir> <args>` against the emulator, no color, no input, signed as the role
 * that runs it (helpers/iam.ts: apply and destroy as the apply role, the rest as the plan role).
 */
export function tofu(toolchain: Toolchain, dir: string, args: string[], env: NodeJS.ProcessEnv): RunResult {
  const result = spawnSync(toolchain.tofu, [`-chdir=${dir}`, ...args], {
    env: asRole(tofuRole(args), { ...process.env, ...env, ...tofuEnv(toolchain) }),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** tofu() as a child the event loop does not wait on: several stacks plan at once. Throws unless the exit code is one of `ok`. */
export async function tofuAsync(toolchain: Toolchain, dir: string, args: string[], env: NodeJS.ProcessEnv, ok = [0]): Promise<RunResult> {
  const result = await spawnAsync(toolchain.tofu, [`-chdir=${dir}`, ...args], asRole(tofuRole(args), { ...process.env, ...env, ...tofuEnv(toolchain) }));
  if (!ok.includes(result.code ?? -1)) {
    throw new Error(`tofu ${args.join(" ")} exited ${result.code}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  }
  return result;
}

/** Like tofu(), but throws with the output when the exit code is not one of `ok`. */
export function tofuOk(toolchain: Toolchain, dir: string, args: string[], env: NodeJS.ProcessEnv, ok = [0]): RunResult {
  const result = tofu(toolchain, dir, args, env);
  if (!ok.includes(result.code ?? -1)) {
    throw new Error(`tofu ${args.join(" ")} exited ${result.code}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  }
  return result;
}

/**
 * `cdktf synth` of the fleets at `fleetPaths` into `outdir`: what main.ts does (`npx cdktf synth`
 * runs it), in this process with its environment (`AMI_FLEET_CONFIG`, state in `outdir`'s folder
 * unless `AMI_FLEET_STATE_DIR` says otherwise). A child `ts-node main.ts` costs seconds of start-up
 * a synth; main.ts itself runs through the real `cdktf synth` / `deploy` in the e2e suites.
 */
export function synth(fleetPaths: string[], outdir: string, extraEnv: NodeJS.ProcessEnv = {}): RunResult {
  const env: NodeJS.ProcessEnv = { AMI_FLEET_STATE_DIR: path.dirname(outdir), CHECKPOINT_DISABLE: "1", ...extraEnv };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    const loaded = loadProjectConfig(PROJECT_ROOT);
    if ("problems" in loaded) throw new FleetSpecError(loaded.problems);
    const fleets = loadFleets(fleetPaths);
    checkStackNames(fleets, loaded.config);
    const app = new App({ outdir });
    addFleetStacks(app, fleets, loaded.config);
    app.synth();
  } catch (error) {
    throw new Error(`synth failed: ${error instanceof FleetSpecError ? error.report() : (error as Error).message}`);
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  writeEmulatorOverrides(outdir);
  return { code: 0, stdout: "", stderr: "" };
}

/**
 * main.ts itself, as `cdktf synth` runs it (a child process), for what a user sees of it: the
 * messages of a fleet or config that cannot be synthesized. Throws with its standard error.
 */
export function synthWithMain(fleetPaths: string[], outdir: string, extraEnv: NodeJS.ProcessEnv = {}): RunResult {
  const result = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "main.ts"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, AMI_FLEET_PATHS: fleetPaths.join(path.delimiter), CDKTF_OUTDIR: outdir, AMI_FLEET_STATE_DIR: path.dirname(outdir), CHECKPOINT_DISABLE: "1", ...extraEnv },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`synth failed: ${result.stderr}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Test-only provider setting as a Terraform override file beside each stack of `outdir`: the
 * provider retries a failed call 25 times by default (AWS_MAX_ATTEMPTS does not change that), so an
 * emulator error would cost minutes instead of failing fast. Three attempts, not one: the
 * emulator's server sometimes closes a kept-alive connection as the provider reuses it ("use of
 * closed network connection"), which one retry absorbs and which is not an error of the stacks.
 */
export function writeEmulatorOverrides(outdir: string): void {
  for (const stack of fs.readdirSync(path.join(outdir, "stacks"))) {
    // Every AWS provider block of the stack, the recipient's (alias) too: an override matches by alias.
    const tf = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
    const providers = ([] as { alias?: string }[]).concat(tf.provider?.aws ?? [{}]);
    fs.writeFileSync(
      path.join(outdir, "stacks", stack, "emulator_override.tf.json"),
      JSON.stringify({ provider: { aws: providers.map((p) => ({ ...(p.alias ? { alias: p.alias } : {}), max_retries: 3 })) } }, null, 2),
    );
  }
}

/**
 * Writes `doc` as `<dir>/fleets/golden.yaml` and a project config with `layout` (none: the default),
 * synthesizes it into `<dir>/<out>`, and returns each stack's cdk.tf.json by name.
 */
export function synthLayout(dir: string, layout: string | undefined, doc: object, out: string): Record<string, any> {
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
