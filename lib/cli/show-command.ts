import * as fs from "fs";
import * as path from "path";
import { deployOrder, describeStack } from "../review/synth-summary";
import { readJsonFile } from "./files";
import { appCli } from "./app-cli";
import { CliIo, EXIT } from "./io";

/**
 * `ami-fleet show [outdir]`: what each synthesized stack would create (after `cdktf synth`), the
 * stacks in the order they deploy (manifest.json's dependencies: a stack after those it reads).
 */
export function showCommand(outdir: string, io: CliIo): number {
  const stacksDir = path.join(outdir, "stacks");
  if (!fs.existsSync(stacksDir)) {
    io.stderr.write(`${stacksDir}: not found. Run \`npx ${appCli(io.cwd)} synth\` first.\n`);
    return EXIT.error;
  }
  const manifestFile = path.join(outdir, "manifest.json");
  const manifest = fs.existsSync(manifestFile) ? (readJsonFile(manifestFile) as { stacks?: Record<string, { dependencies?: string[] }> }) : {};
  const dependencies = Object.fromEntries(Object.entries(manifest.stacks ?? {}).map(([name, stack]) => [name, stack?.dependencies ?? []]));
  const stacks = deployOrder(fs.readdirSync(stacksDir), dependencies);
  for (const stack of stacks) {
    const tf = readJsonFile(path.join(stacksDir, stack, "cdk.tf.json"));
    io.stdout.write(`${describeStack(stack, tf)}\n`);
  }
  return EXIT.ok;
}
