import { Command, CommanderError, Option } from "commander";
import { fleetJsonSchema } from "../spec/schema";
import { DEFAULT_FLEET_DIR } from "../spec/load";
import { CliIo, EXIT } from "./io";
import { validateCommand } from "./validate-command";

/** Runs the ami-fleet CLI; resolves to the exit code. Never throws for bad input. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command("ami-fleet")
    .description("Declare AMI fleets, synthesize them with cdktf, reconcile live AWS state against them.")
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
    .command("schema")
    .description("print the JSON Schema of a fleet file")
    .action(() => {
      io.stdout.write(`${JSON.stringify(fleetJsonSchema(), null, 2)}\n`);
    });

  registerLaterCommands(program, io, (code) => (exitCode = code));

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

/** Commands defined in their own modules (reconcile, review). */
function registerLaterCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  void program;
  void io;
  void setExit;
  void Option;
}
