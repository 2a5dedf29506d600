#!/usr/bin/env bash
# Installs the npm packages (exact versions from package-lock.json) when missing or stale, then
# compiles the CLI to dist/ (every run: tsc is incremental, so an up-to-date dist costs a check).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-node-modules: installing the npm packages of package-lock.json" >&2
  # Not `npm ci`: npm 10+ writes lockfiles without other platforms' optional bindings (here
  # @unrs/resolver-binding-*, through jest) and then refuses them as out of sync. `npm install
  # --no-save` installs the locked versions and leaves package.json and the lockfile untouched.
  npm install --no-save --no-audit --no-fund --loglevel=error >&2
fi
echo "ensure-node-modules: compiling the CLI (tsc -p tsconfig.build.json -> dist/)" >&2
npx --no-install tsc -p tsconfig.build.json
