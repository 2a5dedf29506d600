import { spawn } from "child_process";
import * as path from "path";
import type { DriftReport } from "../../lib/drift/findings";

export const PROJECT_ROOT = path.join(__dirname, "..", "..");
const BIN = path.join(PROJECT_ROOT, "bin", "ami-fleet.js");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `ami-fleet` CLI as a child process, as a user would, with no stdin unless `input` is given. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `ami-fleet reconcile <file> --format json [args]` as a child process; `report` is undefined when stdout is not JSON. */
export async function reconcileJson(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult & { report: DriftReport }> {
  const result = await runCli(["reconcile", file, "--format", "json", ...args], { env });
  let report: DriftReport | undefined;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    report = undefined;
  }
  return { ...result, report: report! };
}

/**
 * `env` without the npm settings of the npm/npx that started jest: its prefix (the folder of the
 * Node it ran on) would come first on a child npx's PATH, whatever Node the child's PATH names.
 */
export function withoutNpmSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^npm_/i.test(key) && key !== "NODE"));
}

/** Runs a command to its end with no standard input, collecting its output. */
export function spawnAsync(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a command to its end (no prompts, no colour, no checkpoint) and throws with its output unless it exits 0. */
export async function runOk(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const result = await spawnAsync(command, args, { ...process.env, CHECKPOINT_DISABLE: "1", NO_COLOR: "1", ...env }, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.code}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
  return result;
}

/** `npm pack` of this checkout into `dir` (it runs `prepare`, the build of dist/): the tarball's path, as a registry would serve it. */
export async function packProject(dir: string): Promise<string> {
  const packed = JSON.parse((await runOk("npm", ["pack", "--json", "--pack-destination", dir], PROJECT_ROOT)).stdout) as { filename: string }[];
  return path.join(dir, packed[0].filename);
}
