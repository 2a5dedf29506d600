#!/usr/bin/env bash
# The main job on a fresh machine: install, validate the fleets, synthesize them with cdktf, and
# list what each stack would create. Fleet paths may be given (default: fleets/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/node-env.sh
case "$(node_major)" in 22 | 24) ;; *) use_cached_node 22 "demo (Node 22 or 24 is supported)" ;; esac
bash scripts/ensure-node-modules.sh
export CHECKPOINT_DISABLE=1
echo "== ami-fleet validate $*"
node bin/ami-fleet.js validate "$@"
echo "== cdktf synth"
if [ "$#" -gt 0 ]; then export AMI_FLEET_PATHS="$(IFS=:; echo "$*")"; fi
out="${CDKTF_OUTDIR:-cdktf.out}"
log=$(mktemp)
bash scripts/cdktf.sh synth --output "$out" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
# cdktf's own output is noise on success; which Node ran it is not.
sed -n '/^cdktf (cdktf-cli 0.21 needs Node 22): running on Node/p' "$log" >&2
rm -f "$log"
echo "synthesized: $(ls "$out/stacks" | tr '\n' ' ')"
echo "== what would be created ($out/stacks/*/cdk.tf.json)"
node bin/ami-fleet.js show "$out"
