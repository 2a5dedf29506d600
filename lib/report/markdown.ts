import { DriftReport } from "../drift/findings";
import { fleetStatus, summaryLine } from "./drift-summary";
import { oneLine } from "../fleet/errors";

const ICON = { critical: "🚨", high: "🔴", medium: "🟠", low: "⚪" } as const;

/** Renders a drift report as a pull-request comment: a summary line, a table per fleet, remedies. */
export function renderDriftMarkdown(report: DriftReport): string {
  const out: string[] = [];
  out.push(`### ami-fleet drift: ${report.inSync ? "✅ " : ""}${summaryLine(report)}`, "");
  for (const fleet of report.fleets) {
    if (fleet.findings.length === 0) {
      out.push(`**${fleet.name}**: ${fleetStatus(report, fleet)}`, "");
      continue;
    }
    out.push(`**${fleet.name}**: ${fleet.findings.length} finding${fleet.findings.length > 1 ? "s" : ""}`, "");
    out.push("| Severity | Kind | Region | Image | AMI | Details | Fix |", "|---|---|---|---|---|---|---|");
    for (const f of fleet.findings) {
      out.push(
        `| ${ICON[f.severity]} ${f.severity} | \`${f.kind}\` | ${f.region}${f.account !== undefined ? ` (account ${f.account})` : ""} | ${cell(f.image ?? "")} | ${f.amiId ? `\`${f.amiId}\`` : ""} | ${cell(f.message)} | ${code(f.remedy)} |`,
      );
    }
    out.push("");
  }
  if (report.errors.length > 0) {
    out.push("**Could not be read** (reported as errors, never as drift):", "");
    for (const e of report.errors) out.push(`- ${e.fleet} / ${e.region}${e.account !== undefined ? ` (account ${e.account})` : ""}: ${cell(e.message)}`);
    out.push("");
  }
  return `${out.join("\n")}\n`;
}

function cell(text: string): string {
  return oneLine(text).replace(/\|/g, "\\|");
}

function code(text: string): string {
  return `\`${oneLine(text).replace(/`/g, "'").replace(/\|/g, "\\|")}\``;
}
