import { DriftReport, Finding, SEVERITIES, Severity } from "../drift/findings";

/** Counts shared by the text and Markdown renderers. */
export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** `in sync` or `4 findings (1 critical, 3 high) in 2 of 3 fleets; 1 error`. */
export function summaryLine(report: DriftReport): string {
  const all = report.fleets.flatMap((f) => f.findings);
  const drifted = report.fleets.filter((f) => f.findings.length > 0).length;
  const counts = countBySeverity(all);
  const parts = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  const errors = report.errors.length > 0 ? `; ${report.errors.length} error${report.errors.length > 1 ? "s" : ""} (Regions or calls that could not be read)` : "";
  if (all.length === 0) {
    return report.errors.length > 0
      ? `no drift found in what could be read${errors}`
      : `in sync: ${report.fleets.length} fleet${report.fleets.length === 1 ? "" : "s"}, no drift`;
  }
  return `${all.length} finding${all.length > 1 ? "s" : ""} (${parts.join(", ")}) in ${drifted} of ${report.fleets.length} fleets${errors}`;
}
