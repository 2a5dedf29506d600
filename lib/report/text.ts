import { createColors } from "picocolors";
import { DriftReport, Finding, Severity } from "../drift/findings";
import { fleetStatus, summaryLine } from "./drift-summary";
import { oneLine } from "../fleet/errors";

/** Renders a drift report for a terminal: by fleet and Region, severity coloured, one summary line. */
export function renderDriftText(report: DriftReport, options: { color: boolean }): string {
  const c = createColors(options.color);
  const paint: Record<Severity, (s: string) => string> = {
    critical: (s) => c.bold(c.red(s)),
    high: c.red,
    medium: c.yellow,
    low: c.dim,
  };
  const lines: string[] = [];
  for (const fleet of report.fleets) {
    const word = fleetStatus(report, fleet);
    const status = word === "drift" ? "" : word === "in sync" ? c.green(`  ${word}`) : c.yellow(`  ${word}`);
    lines.push(c.bold(fleet.name) + status);
    const byRegion = new Map<string, Finding[]>();
    // A recipient's findings under their own heading: the Region in that account.
    const headingOf = (f: Finding) => (f.account !== undefined ? `${f.region} (account ${f.account})` : f.region);
    for (const f of fleet.findings) byRegion.set(headingOf(f), [...(byRegion.get(headingOf(f)) ?? []), f]);
    for (const [region, findings] of byRegion) {
      lines.push(`  ${region}`);
      for (const f of findings) {
        const label = paint[f.severity](f.severity.toUpperCase().padEnd(8));
        const where = [f.image && `image ${f.image}`, f.amiId].filter(Boolean).join(" ");
        // Names, tags and messages come from AWS: never let them move the cursor or forge a line.
        lines.push(`    ${label} ${f.kind.padEnd(19)} ${oneLine(where)}`);
        lines.push(`             ${oneLine(f.message)}`);
        lines.push(c.dim(`             fix: ${oneLine(f.remedy)}`));
      }
    }
  }
  if (report.errors.length > 0) {
    lines.push(c.bold(c.red("errors (not drift: these parts could not be read)")));
    for (const e of report.errors) lines.push(`  ${e.fleet} ${e.region}${e.account !== undefined ? ` (account ${e.account})` : ""}: ${oneLine(e.message)}`);
  }
  const calls = (report.stats as { totalCalls?: number }).totalCalls;
  lines.push("");
  lines.push(c.bold(summaryLine(report)) + (calls !== undefined ? c.dim(` (${calls} API calls)`) : ""));
  return `${lines.join("\n")}\n`;
}
