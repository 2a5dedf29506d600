#!/usr/bin/env bash
# Start-up of `ami-fleet validate` on a one-Region fleet: the compiled CLI (bin/ami-fleet.js, what
# users run) against the same CLI transpiled by ts-node at start (how it ran before dist/), and
# `node -e 0` as the floor. Median of N runs (default 5) of wall time, CPU (user+sys) and peak RSS,
# measured by GNU time in one run of this script.
#   npm run bench:startup [-- 7]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
runs="${1:-5}"
bash scripts/ensure-node-modules.sh >/dev/null 2>&1
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/one.yaml" <<'YAML'
name: one
source:
  region: us-east-1
  images:
    - key: v1
      amiId: ami-0123456789abcdef0
regions: [eu-west-1]
YAML
# The same entry as bin/ami-fleet.js, through ts-node (resolved from the project: node -e runs here).
ts_node_cli='require("ts-node").register({ transpileOnly: true, project: "tsconfig.json" });
const { run } = require("./lib/cli/main.ts");
const { processIo } = require("./lib/cli/io.ts");
run(process.argv.slice(1), processIo()).then((code) => (process.exitCode = code));'

measure() { # label, command...
  local label="$1"; shift
  : >"$work/times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null 2>&1 || { echo "$label: the command failed: $*" >&2; exit 1; }
    cat "$work/t" >>"$work/times"
  done
  node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" ").map(Number));
    const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
    const wall = median(rows.map((r) => r[0])), cpu = median(rows.map((r) => r[1] + r[2])), rss = median(rows.map((r) => r[3])) / 1024;
    console.log(`${process.argv[2].padEnd(28)} wall ${wall.toFixed(2)} s, CPU ${cpu.toFixed(2)} s, peak RSS ${rss.toFixed(0)} MiB (median of ${rows.length})`);
  ' "$work/times" "$label"
}

measure "node -e 0" node -e 0
measure "compiled (bin/ami-fleet.js)" node bin/ami-fleet.js validate "$work/one.yaml"
measure "ts-node at start" node -e "$ts_node_cli" validate "$work/one.yaml"
