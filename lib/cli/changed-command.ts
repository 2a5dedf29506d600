import * as fs from "fs";
import * as path from "path";
import { compareStacks, fleetOfStack, waitsFor } from "../review/stack-changes";
import { readJsonFile } from "./files";
import { CliIo, EXIT } from "./io";

/**
 * `ami-fleet changed --base <outdir> [outdir] [--format text|json]`: the stacks whose synthesized
 * configuration differs from the base's (e.g. the target branch synthesized into another folder):
 * those to plan, one name a line on stdout; or as JSON, each with its fleet (a layout with a stack
 * per Region has several per fleet), its folder and the stacks it waits for (layout: split: a share
 * stack whose new copies are not applied yet; text lists it on stderr, not stdout). Exit 0 when
 * none changed, 2 when some did, 1 on error.
 */
export function changedCommand(baseOutdir: string, headOutdir: string, io: CliIo, format: "text" | "json" = "text"): number {
  const base = readStacks(baseOutdir, io);
  const head = readStacks(headOutdir, io);
  if (!base || !head) return EXIT.error;
  const compared = compareStacks(base, head);
  // A stack whose configuration is the same but that reads copies this change replaces is planned after them.
  const followers = compared.unchanged.filter((name) => waitsFor(name, base, head).length > 0);
  const changes = { ...compared, changed: [...compared.changed, ...followers].sort(), unchanged: compared.unchanged.filter((name) => !followers.includes(name)) };
  const toPlan = [...changes.changed, ...changes.added].sort();
  const waiting = new Map(toPlan.map((name) => [name, waitsFor(name, base, head)]));
  if (format === "json") {
    const entry = (outdir: string, stacks: Record<string, unknown>) => (name: string) => ({
      stack: name,
      fleet: fleetOfStack(stacks[name]) ?? null,
      dir: path.join(outdir, "stacks", name),
    });
    const report = {
      plan: toPlan.map((name) => ({ ...entry(headOutdir, head)(name), waitsFor: waiting.get(name)! })),
      removed: changes.removed.map(entry(baseOutdir, base)),
      unchanged: changes.unchanged.map(entry(headOutdir, head)),
    };
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const name of toPlan) if (waiting.get(name)!.length === 0) io.stdout.write(`${name}\n`);
  }
  for (const name of toPlan) {
    const first = waiting.get(name)!;
    if (first.length > 0) io.stderr.write(`${name}: plan it once ${first.join(", ")} ${first.length > 1 ? "are" : "is"} applied (it reads their new copies)\n`);
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
