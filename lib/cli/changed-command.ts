import * as fs from "fs";
import * as path from "path";
import { compareStacks, fleetOfStack } from "../review/stack-changes";
import { readJsonFile } from "./files";
import { CliIo, EXIT } from "./io";

/**
 * `ami-fleet changed --base <outdir> [outdir] [--format text|json]`: the stacks whose synthesized
 * configuration differs from the base's (e.g. the target branch synthesized into another folder):
 * those to plan, one name a line on stdout; or as JSON, each with its fleet (a layout with a stack
 * per Region has several per fleet) and its folder. Exit 0 when none changed, 2 when some did, 1 on
 * error.
 */
export function changedCommand(baseOutdir: string, headOutdir: string, io: CliIo, format: "text" | "json" = "text"): number {
  const base = readStacks(baseOutdir, io);
  const head = readStacks(headOutdir, io);
  if (!base || !head) return EXIT.error;
  const changes = compareStacks(base, head);
  const toPlan = [...changes.changed, ...changes.added].sort();
  if (format === "json") {
    const entry = (outdir: string, stacks: Record<string, unknown>) => (name: string) => ({
      stack: name,
      fleet: fleetOfStack(stacks[name]) ?? null,
      dir: path.join(outdir, "stacks", name),
    });
    const report = {
      plan: toPlan.map(entry(headOutdir, head)),
      removed: changes.removed.map(entry(baseOutdir, base)),
      unchanged: changes.unchanged.map(entry(headOutdir, head)),
    };
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const name of toPlan) io.stdout.write(`${name}\n`);
  }
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
