import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "./cli";

/** A moto_server (with emulator/moto_patches.py) on 127.0.0.1 and a free port, for one test file. */
export interface Moto {
  readonly endpoint: string;
  /** Environment that points the AWS SDK (and the Terraform provider) at this emulator. */
  readonly env: NodeJS.ProcessEnv;
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** Every request so far, when calls are recorded: who signed it and the IAM action (emulator/moto_patches.py). */
  calls(): RecordedCall[];
}

/** One request the emulator answered: the access key that signed it (or the role it was issued for) and the IAM action. */
export interface RecordedCall {
  readonly principal: string;
  readonly action: string;
  /** For a role's temporary key: the session name it was assumed with. */
  readonly session?: string;
}

const PYTHON = path.join(PROJECT_ROOT, ".venv", "bin", "python");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the emulator; `patched: false` runs plain moto (to notice when a patch is obsolete).
 * Calls are recorded when `recordCalls` is set, or when AMI_FLEET_CALLS_DIR names a folder: then
 * `stop()` leaves the record there for the IAM policy check (`iam-policies.test.ts`, after the e2e suite).
 */
export async function startMoto(options: { patched?: boolean; recordCalls?: boolean } = {}): Promise<Moto> {
  if (!fs.existsSync(PYTHON)) throw new Error("no .venv: run `bash scripts/ensure-venv.sh` (npm test does)");
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // moto logs every request: to a file, not a pipe, so a parent blocked in spawnSync never
  // stalls the emulator on a full pipe.
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-moto-")), "moto.log");
  const log = fs.openSync(logFile, "w");
  const callsDir = process.env.AMI_FLEET_CALLS_DIR;
  const callLog = options.recordCalls || callsDir ? path.join(path.dirname(logFile), "calls.jsonl") : undefined;
  const child: ChildProcess = spawn(PYTHON, [path.join(PROJECT_ROOT, "emulator", "moto_patches.py"), "-H", "127.0.0.1", "-p", String(port)], {
    env: {
      ...process.env,
      MOTO_EC2_LOAD_DEFAULT_AMIS: "false",
      AMI_FLEET_MOTO_PATCHES: options.patched === false ? "off" : "on",
      ...(callLog ? { AMI_FLEET_CALL_LOG: callLog } : {}),
    },
    stdio: ["ignore", log, log],
  });
  fs.closeSync(log);
  const logTail = () => fs.readFileSync(logFile, "utf8").slice(-4000);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${logTail()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not start in 30 s: ${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    endpoint,
    env: emulatorEnv(endpoint),
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
    },
    calls() {
      if (!callLog || !fs.existsSync(callLog)) return [];
      return fs.readFileSync(callLog, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as RecordedCall);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      if (callsDir && callLog && fs.existsSync(callLog)) {
        fs.mkdirSync(callsDir, { recursive: true });
        fs.copyFileSync(callLog, path.join(callsDir, `${path.basename(path.dirname(logFile))}.jsonl`));
      }
      fs.rmSync(path.dirname(logFile), { recursive: true, force: true });
    },
  };
}

/** Environment that points AWS SDK v3 and the Terraform AWS provider at an endpoint. */
export function emulatorEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_MAX_ATTEMPTS: "2",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
}
