import * as fs from "fs";
import * as path from "path";
import { describeStack } from "../review/synth-summary";
import { readJsonFile } from "./files";
import { CliIo, EXIT } from "./io";

/** `ami-fleet show [outdir]`: what each synthesized stack would create (after `cdktf synth`). */
export function showCommand(outdir: string, io: CliIo): number {
  const stacksDir = path.join(outdir, "stacks");
  if (!fs.existsSync(stacksDir)) {
    io.stderr.write(`${stacksDir}: not found. Run \`npx cdktf synth\` first.\n`);
    return EXIT.error;
  }
  const stacks = fs.readdirSync(stacksDir).sort();
  for (const stack of stacks) {
    const tf = readJsonFile(path.join(stacksDir, stack, "cdk.tf.json"));
    io.stdout.write(`${describeStack(stack, tf)}\n`);
  }
  return EXIT.ok;
}
