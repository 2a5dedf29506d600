#!/usr/bin/env bash
# The main job on a fresh machine: install, validate the fleets, synthesize them with cdktf, and
# list what each stack would create. Fleet paths may be given (default: fleets/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
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
