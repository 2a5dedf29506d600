#!/usr/bin/env bash
# Installs the npm packages (exact versions from package-lock.json) when missing or stale.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
echo "ensure-node-modules: installing the npm packages of package-lock.json" >&2
# Not `npm ci`: npm 10+ writes lockfiles without other platforms' optional bindings (here
# @unrs/resolver-binding-*, through jest) and then refuses them as out of sync. `npm install
# --no-save` installs the locked versions and leaves package.json and the lockfile untouched.
npm install --no-save --no-audit --no-fund --loglevel=error >&2
