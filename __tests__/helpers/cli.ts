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
