import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { showCommand } from "./show-command";
import { DANGER_CATEGORIES, DEFAULT_PRICES } from "../review/plan-review";
import { fleetJsonSchema } from "../fleet/schema";
import { DEFAULT_FLEET_DIR } from "../fleet/load";
import { CliIo, EXIT } from "./io";
import { validateCommand } from "./validate-command";
import { packageVersion } from "./version";

/** Runs the ami-fleet CLI; resolves to the exit code. Never throws for bad input. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command("ami-fleet")
    .description("Declare AMI fleets, synthesize them with cdktf, reconcile live AWS state against them.")
    .version(packageVersion(), "-V, --version", "print the installed ami-fleet version")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError("(run ami-fleet --help for usage)");

  program
    .command("validate")
    .description(`check fleet files (default: ${DEFAULT_FLEET_DIR}/); exit 0 valid, 1 invalid`)
    .argument("[paths...]", "fleet files or directories", [DEFAULT_FLEET_DIR])
    .action((paths: string[]) => {
      exitCode = validateCommand(paths, io);
    });

  program
    .command("init")
    .description("write a cdktf app for your fleets (package.json, tsconfig, cdktf.json, main.ts, an example fleet, the CI workflows); writes nothing over existing files")
    .argument("[dir]", "the app's folder", ".")
    .addOption(new Option("--cli <cli>", "the CLI that drives the app (default: cdktn on Node 24 and later, where cdktf-cli cannot start; else cdktf)").choices(["cdktf", "cdktn"]))
    .option("--package <spec>", "how package.json names ami-fleet (default: ^<this version>; e.g. file:vendor/ami-fleet-0.2.0.tgz)")
    .option("--no-example", "leave out the example fleet")
    .action(async (dir: string, options: { cli?: "cdktf" | "cdktn"; package?: string; example: boolean }) => {
      const { initCommand } = await import("./init-command");
      exitCode = initCommand(dir, options, io);
    });

  program
    .command("schema")
    .description("print the JSON Schema of a fleet file")
    .action(() => {
      io.stdout.write(`${JSON.stringify(fleetJsonSchema(), null, 2)}\n`);
    });

  program
    .command("show")
    .description("list what each synthesized stack would create (run `npx cdktf synth` first)")
    .argument("[outdir]", "cdktf output directory", "cdktf.out")
    .action((outdir: string) => {
      exitCode = showCommand(outdir, io);
    });

  program
    .command("changed")
    .description("list the stacks whose synthesized configuration differs from a base synth; exit 0 none, 2 some, 1 error")
    .requiredOption("--base <outdir>", "the base's cdktf output (e.g. the target branch synthesized with --output)")
    .argument("[outdir]", "this change's cdktf output directory", "cdktf.out")
    .addOption(new Option("--format <format>", "text (a stack name a line; one that waits for new copies is named on stderr) or json (each stack with its fleet, folder and the stacks it waits for)").choices(["text", "json"]).default("text"))
    .action(async (outdir: string, options: { base: string; format: "text" | "json" }) => {
      const { changedCommand } = await import("./changed-command");
      exitCode = changedCommand(options.base, outdir, io, options.format);
    });

  const setExit = (code: number) => (exitCode = code);
  registerReconcile(program, io, setExit);
  registerReview(program, io, setExit);

  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    io.stderr.write(`ami-fleet: ${(error as Error).message}\n`);
    return EXIT.error;
  }
  return exitCode;
}

function registerReconcile(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command("reconcile")
    .description("report drift between live AWS and the fleets; exit 0 in sync, 2 drift, 1 error")
    .argument("[paths...]", "fleet files or directories", [DEFAULT_FLEET_DIR])
    .addOption(new Option("--format <format>", "output format (default: text; json for scripts)").choices(["text", "json", "markdown"]))
    .option("--out <file>", "write the report to a file instead of stdout")
    .option("--stats", "print the number of API calls and the wall time on stderr")
    .option("--state-file <file>", "diff against a saved live state instead of AWS")
    .option("--save-state <file>", "save the live state read, to reproduce this report offline")
    .option("--concurrency <n>", "API calls in flight at once per Region (EC2 throttles per Region)", positiveInt, 8)
    .option("--scan-regions <regions>", "also read these Regions (comma-separated, or all: every Region enabled for the account) for orphan copies", appendList, [])
    .option("--pending-timeout <minutes>", "report copies pending longer than this", positiveInt, 120)
    .option("--timeout <seconds>", "seconds one AWS request may take before it fails (per attempt)", positiveInt, 30)
    .action(async (paths: string[], options) => {
      // The AWS SDK loads only for the commands that call AWS: validate starts without it.
      const { reconcileCommand } = await import("./reconcile-command");
      setExit(await reconcileCommand(paths, options, io));
    });
}

function registerReview(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command("review")
    .description("summarize a saved plan (tofu show -json) for a pull request; exit 0 safe, 2 dangerous, 1 error")
    .option("--plan <file>", "plan JSON from `tofu show -json plan.out` (- reads standard input); repeat it for each stack of one change", appendValue, [])
    .addOption(new Option("--format <format>", "output format (default: text; json for scripts)").choices(["text", "json", "markdown"]))
    .option("--out <file>", "write the review to a file instead of stdout")
    .option("--allow <categories>", `accept these dangers (comma-separated, repeatable: ${DANGER_CATEGORIES.join(", ")})`, appendList, [])
    .option("--fleets <paths...>", "the change's fleet files, whose Organization and acknowledgements judge what a plan grants (default: fleets/ when present; a granting plan without them is an error)")
    .option("--base-fleets <paths...>", "the fleet files before the change (the target branch's): judge sharing, recipients, pointers and deleted or replaced copies from the fleet change, in every stack, against their trust anchors")
    .option("--changed <file>", "with --base-fleets: the JSON of `ami-fleet changed --format json`, whose waiting stacks are judged from the fleet change, not planned")
    .option("--reconcile <file>", "with --base-fleets: the JSON of `ami-fleet reconcile` of the deployed fleets, whose drift explains a refreshed plan's repairs")
    .option("--live", "read source image sizes with DescribeImages when the plan lacks them")
    .option("--live-region <region>", "Region of source images whose Region the plan does not name, for --live (default: AWS_REGION)")
    .option("--timeout <seconds>", "seconds one AWS request (--live) may take before it fails", positiveInt, 30)
    .option("--price-storage <usd>", "snapshot storage price per GB-month", nonNegative, DEFAULT_PRICES.snapshotGbMonth)
    .option("--price-transfer <usd>", "inter-Region transfer price per GB", nonNegative, DEFAULT_PRICES.transferGb)
    .action(async (options) => {
      const { reviewCommand } = await import("./review-command");
      setExit(await reviewCommand(options, io));
    });
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number of at least 0");
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

/** A repeatable option's values. */
function appendValue(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A comma-separated list; a repeated option adds to it. */
function appendList(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}
