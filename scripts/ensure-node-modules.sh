#!/usr/bin/env bash
# Installs the npm packages (exact versions from package-lock.json) when missing or stale.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
echo "ensure-node-modules: npm ci" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
