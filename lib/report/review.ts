import { createColors } from "picocolors";
import { PlanReview } from "../review/plan-review";
import { oneLine } from "../fleet/errors";

const SYMBOL = { create: "+", replace: "±", destroy: "-", update: "~" } as const;

interface Matrix {
  /** `fleet/image`, and the account for a recipient's copies. */
  label: string;
  cells: Map<string, string>;
}

function matrices(review: PlanReview): { regions: string[]; rows: Matrix[] } {
  const regions = [...new Set(review.copies.map((c) => c.region))].sort();
  const rows = new Map<string, Matrix>();
  for (const copy of review.copies) {
    const key = `${copy.fleet}\0${copy.image}\0${copy.account ?? ""}`;
    const label = `${copy.fleet}/${copy.image}${copy.account !== undefined ? ` in ${copy.account}` : ""}`;
    if (!rows.has(key)) rows.set(key, { label, cells: new Map() });
    rows.get(key)!.cells.set(copy.region, SYMBOL[copy.action]);
  }
  return { regions, rows: [...rows.values()] };
}

/**
 * The launch permissions a change grants and revokes: from the fleet change when the review has it
 * (every stack's, planned or waiting for another's apply), else from the plans.
 */
function permissionsOf(review: PlanReview): readonly { action: "grant" | "revoke"; principal: string; image: string; region: string }[] {
  return review.fleetChange?.sharing ?? review.permissions;
}

function byPrincipal(review: PlanReview): { principal: string; action: string; where: string[] }[] {
  const groups = new Map<string, { principal: string; action: string; where: string[] }>();
  for (const p of permissionsOf(review)) {
    const key = `${p.action}\0${p.principal}`;
    if (!groups.has(key)) groups.set(key, { principal: p.principal, action: p.action, where: [] });
    groups.get(key)!.where.push(`${p.image}@${p.region}`);
  }
  return [...groups.values()];
}

function counts(review: PlanReview): string {
  const n = (action: string) => review.copies.filter((c) => c.action === action).length;
  const permissions = permissionsOf(review);
  const grants = permissions.filter((p) => p.action === "grant").length;
  const revokes = permissions.length - grants;
  const pointers = review.pointers.length > 0 ? `; pointers: ${review.pointers.length} changed` : "";
  const snapshotGrants = review.snapshotPermissions.filter((p) => p.action === "grant").length;
  const snapshots = review.snapshotPermissions.length > 0 ? `; snapshot permissions: ${snapshotGrants} granted, ${review.snapshotPermissions.length - snapshotGrants} revoked` : "";
  return `copies: ${n("create")} to create, ${n("replace")} to replace, ${n("destroy")} to destroy; launch permissions: ${grants} granted, ${revokes} revoked${snapshots}; KMS grants: ${review.grants.length}${pointers}`;
}

function pointerMove(p: PlanReview["pointers"][number]): string {
  if (p.action === "create") return `-> ${p.to ?? "(unknown)"}`;
  if (p.action === "destroy") return `${p.from ?? "(unknown)"} -> deleted`;
  return p.from === p.to ? `${p.from ?? "(unknown)"} (unchanged)` : `${p.from ?? "(unknown)"} -> ${p.to ?? "(unknown)"}`;
}

function costLines(review: PlanReview): string[] {
  const c = review.cost;
  const lines = [
    `snapshot storage: ${c.storageUsdPerMonth >= 0 ? "+" : ""}$${c.storageUsdPerMonth.toFixed(2)}/month (at most; snapshots bill used blocks) at $${c.prices.snapshotGbMonth}/GB-month` +
      (c.storageByRegion.length ? ` [${c.storageByRegion.map((r) => `${r.region} ${r.gb >= 0 ? "+" : ""}${r.gb} GB`).join(", ")}]` : ""),
    `cross-Region transfer: ${c.transferGb} GB once, $${c.transferUsd.toFixed(2)} at $${c.prices.transferGb}/GB`,
  ];
  if (c.unknownSizes.length > 0) {
    lines.push(
      c.liveErrors?.length
        ? `sizes unknown for ${c.unknownSizes.join(", ")}: --live ${c.liveErrors.map((e) => oneLine(e)).join("; ")}`
        : `sizes unknown for ${c.unknownSizes.join(", ")} (run review with --live to read them)`,
    );
  }
  return lines;
}

/** Plain text for a terminal, danger first. */
export function renderReviewText(review: PlanReview, options: { color: boolean }): string {
  const c = createColors(options.color);
  const out: string[] = [];
  const blocking = review.dangers.filter((d) => !d.allowed);
  if (review.dangers.length > 0) {
    out.push(c.bold(c.red(`DANGER (${blocking.length} needing approval, ${review.dangers.length - blocking.length} allowed)`)));
    for (const d of review.dangers) out.push(`  ${d.allowed ? c.dim("allowed") : c.red("BLOCKS ")} ${d.category.padEnd(20)} ${oneLine(d.address)}\n           ${oneLine(d.message)}`);
    out.push("");
  }
  out.push(c.bold(counts(review)));
  const { regions, rows } = matrices(review);
  if (rows.length > 0) {
    const width = Math.max(...rows.map((r) => r.label.length), 12);
    out.push("", `${"".padEnd(width)}  ${regions.map((r) => r.padEnd(15)).join("")}`);
    for (const row of rows) out.push(`${row.label.padEnd(width)}  ${regions.map((r) => (row.cells.get(r) ?? "").padEnd(15)).join("")}`);
    out.push(c.dim("(+ create, ± replace, - destroy, ~ update in place)"));
  }
  const replaced = review.copies.filter((x) => x.action === "replace");
  if (replaced.length > 0) {
    out.push("", "replacements:");
    for (const r of replaced) out.push(`  ${r.address}: forced by ${r.reasons.join(", ") || "(unknown)"}`);
  }
  const principals = byPrincipal(review);
  if (principals.length > 0) {
    out.push("", "launch permissions:");
    for (const p of principals) out.push(`  ${p.action === "grant" ? "+" : "-"} ${p.principal}: ${p.where.join(", ")}`);
  }
  const recipients = review.fleetChange?.recipients ?? [];
  if (recipients.length > 0) {
    out.push("", "recipients (accounts with copies of their own):");
    for (const r of recipients) out.push(`  ${r.action === "add" ? "+" : "-"} account ${r.account} (fleet ${r.fleet}): ${r.regions.join(", ")}`);
  }
  if (review.snapshotPermissions.length > 0) {
    out.push("", "snapshot permissions (recipients' read access to the copies they copy):");
    for (const p of review.snapshotPermissions) out.push(`  ${p.action === "grant" ? "+" : "-"} account ${p.account}: ${p.snapshotId} of ${p.image}@${p.region}`);
  }
  if (review.grants.length > 0) {
    out.push("", "KMS grants:");
    for (const g of review.grants) out.push(`  ${g.action === "grant" ? "+" : "-"} account ${g.account} on the key in ${g.region}`);
  }
  if (review.pointers.length > 0) {
    out.push("", "pointers:");
    for (const p of review.pointers) out.push(`  ${SYMBOL[p.action]} ${oneLine(p.parameter)} in ${p.region}${p.account !== undefined ? ` of account ${p.account}` : ""}: ${pointerMove(p)}`);
  }
  if (review.notes.length > 0) out.push("", "notes:", ...review.notes.map((n) => `  ${oneLine(n)}`));
  out.push("", "estimate:", ...costLines(review).map((l) => `  ${l}`));
  out.push("", c.bold(review.blocked ? "review: dangerous changes need approval (exit 2)" : "review: nothing dangerous (exit 0)"));
  return `${out.join("\n")}\n`;
}

/** Markdown for a pull-request comment. */
export function renderReviewMarkdown(review: PlanReview): string {
  const out: string[] = [];
  out.push(`### ami-fleet plan review: ${review.blocked ? "⚠️ needs approval" : "✅ nothing dangerous"}`, "", counts(review), "");
  if (review.dangers.length > 0) {
    out.push("**Danger**", "", "| | Category | Resource | What happens |", "|---|---|---|---|");
    for (const d of review.dangers) out.push(`| ${d.allowed ? "allowed" : "⛔"} | ${d.category} | \`${d.address}\` | ${d.message.replace(/\|/g, "\\|")} |`);
    out.push("");
  }
  const { regions, rows } = matrices(review);
  if (rows.length > 0) {
    out.push("**Copies** (+ create, ± replace, - destroy, ~ update)", "", `| Fleet / image | ${regions.join(" | ")} |`, `|---|${regions.map(() => ":-:").join("|")}|`);
    for (const row of rows) out.push(`| ${row.label.replace("/", " / ")} | ${regions.map((r) => row.cells.get(r) ?? "").join(" | ")} |`);
    out.push("");
  }
  const replaced = review.copies.filter((x) => x.action === "replace");
  if (replaced.length > 0) {
    out.push("**Replacements**", "");
    for (const r of replaced) out.push(`- \`${r.address}\`: forced by ${r.reasons.map((x) => `\`${x}\``).join(", ") || "(unknown)"}`);
    out.push("");
  }
  const principals = byPrincipal(review);
  if (principals.length > 0) {
    out.push("**Launch permissions**", "", "| | Principal | Copies |", "|---|---|---|");
    for (const p of principals) out.push(`| ${p.action === "grant" ? "grant" : "revoke"} | ${p.principal} | ${p.where.join(", ")} |`);
    out.push("");
  }
  const recipients = review.fleetChange?.recipients ?? [];
  if (recipients.length > 0) {
    out.push("**Recipients** (accounts with copies of their own)", "");
    for (const r of recipients) out.push(`- ${r.action} account ${r.account} (fleet ${r.fleet}): ${r.regions.join(", ")}`);
    out.push("");
  }
  if (review.snapshotPermissions.length > 0) {
    out.push("**Snapshot permissions** (recipients' read access to the copies they copy)", "");
    for (const p of review.snapshotPermissions) out.push(`- ${p.action} account ${p.account}: \`${p.snapshotId}\` of ${p.image}@${p.region}`);
    out.push("");
  }
  if (review.grants.length > 0) {
    out.push("**KMS grants**", "");
    for (const g of review.grants) out.push(`- ${g.action} account ${g.account} on the key in ${g.region}`);
    out.push("");
  }
  if (review.pointers.length > 0) {
    out.push("**Pointers**", "", "| | Parameter | Region | AMI |", "|---|---|---|---|");
    for (const p of review.pointers) out.push(`| ${SYMBOL[p.action]} | \`${p.parameter}\` | ${p.region}${p.account !== undefined ? ` (${p.account})` : ""} | ${pointerMove(p).replace(/\|/g, "\\|")} |`);
    out.push("");
  }
  if (review.notes.length > 0) out.push("**Notes**", "", ...review.notes.map((n) => `- ${n}`), "");
  out.push("**Estimate**", "", ...costLines(review).map((l) => `- ${l}`), "");
  return `${out.join("\n")}\n`;
}
