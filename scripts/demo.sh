#!/usr/bin/env bash
# The main job on a fresh machine: install, validate the fleets, synthesize them with cdktf, and
# list what each stack would create. Fleet paths may be given (default: fleets/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# cdktf-cli 0.21 runs on Node 22 only of the supported releases (on 24 it cannot load node-pty's
# pty.node; README "Node versions"): another Node here means the cached official Node 22 runs it.
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" != 22 ]; then
  node22=$(bash scripts/ensure-node.sh 22)
  echo "demo: running on Node $("$node22/node" --version) from the cache (this machine has Node $(node --version 2>/dev/null || echo none); cdktf-cli 0.21 needs 22)" >&2
  export PATH="$node22:$PATH"
  # A parent `npm run`/`npx` on another Node leaves its prefix, which npx puts first on PATH.
  unset npm_config_prefix npm_config_globalconfig npm_node_execpath NODE
fi
bash scripts/ensure-node-modules.sh
export CHECKPOINT_DISABLE=1
echo "== ami-fleet validate $*"
node bin/ami-fleet.js validate "$@"
echo "== cdktf synth"
if [ "$#" -gt 0 ]; then export AMI_FLEET_PATHS="$(IFS=:; echo "$*")"; fi
out="${CDKTF_OUTDIR:-cdktf.out}"
log=$(mktemp)
npx --no-install cdktf synth --output "$out" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
echo "synthesized: $(ls "$out/stacks" | tr '\n' ' ')"
echo "== what would be created ($out/stacks/*/cdk.tf.json)"
node bin/ami-fleet.js show "$out"
