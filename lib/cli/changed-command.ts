import * as fs from "fs";
import * as path from "path";
import { compareStacks } from "../review/stack-changes";
import { readJsonFile } from "./files";
import { CliIo, EXIT } from "./io";

/**
 * `ami-fleet changed --base <outdir> [outdir]`: the stacks whose synthesized configuration differs
 * from the base's (e.g. the target branch synthesized into another folder), one name a line on
 * stdout: those to plan. Exit 0 when none changed, 2 when some did, 1 on error.
 */
export function changedCommand(baseOutdir: string, headOutdir: string, io: CliIo): number {
  const base = readStacks(baseOutdir, io);
  const head = readStacks(headOutdir, io);
  if (!base || !head) return EXIT.error;
  const changes = compareStacks(base, head);
  for (const name of [...changes.changed, ...changes.added]) io.stdout.write(`${name}\n`);
  for (const name of changes.removed) io.stderr.write(`${name}: removed (plan its destruction from ${path.join(baseOutdir, "stacks", name)})\n`);
  io.stderr.write(
    `${changes.changed.length} changed, ${changes.added.length} added, ${changes.removed.length} removed, ${changes.unchanged.length} unchanged (no plan needed; reconcile checks their drift)\n`,
  );
  return changes.changed.length + changes.added.length + changes.removed.length > 0 ? EXIT.changes : EXIT.ok;
}

function readStacks(outdir: string, io: CliIo): Record<string, unknown> | undefined {
  const stacksDir = path.join(outdir, "stacks");
  if (!fs.existsSync(stacksDir)) {
    io.stderr.write(`${stacksDir}: not found. Synthesize into ${outdir} first (npx cdktf synth --output ${outdir}).\n`);
    return undefined;
  }
  const stacks: Record<string, unknown> = {};
  for (const name of fs.readdirSync(stacksDir).sort()) stacks[name] = readJsonFile(path.join(stacksDir, name, "cdk.tf.json"));
  return stacks;
}
