import { DriftReport, FleetReport, Finding, SEVERITIES, Severity } from "../drift/findings";

/** The status word of one fleet: in sync, drift, or how much of it could not be read. */
export function fleetStatus(report: DriftReport, fleet: FleetReport): "in sync" | "drift" | "no drift in what could be read" | "could not be read" {
  if (fleet.findings.length > 0) return "drift";
  if (fleet.coverage.regions > 0 && fleet.coverage.unreadRegions === fleet.coverage.regions) return "could not be read";
  return report.errors.some((e) => e.fleet === fleet.name) ? "no drift in what could be read" : "in sync";
}

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
  const nothingRead = report.fleets.length > 0 && report.fleets.every((f) => f.coverage.unreadRegions === f.coverage.regions);
  if (all.length === 0) {
    if (nothingRead) return `nothing could be read: no fleet was checked${errors}`;
    return report.errors.length > 0
      ? `no drift found in what could be read${errors}`
      : `in sync: ${report.fleets.length} fleet${report.fleets.length === 1 ? "" : "s"}, no drift`;
  }
  return `${all.length} finding${all.length > 1 ? "s" : ""} (${parts.join(", ")}) in ${drifted} of ${report.fleets.length} fleets${errors}`;
}
