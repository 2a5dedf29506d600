#!/usr/bin/env bash
# Regenerates __tests__/fixtures/plans/*.json: the plans the real OpenTofu and AWS provider make in
# the e2e loop (initial, drift, change, replace, rotate-key, pointer-move), which the review tests read.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-node-modules.sh
bash scripts/ensure-venv.sh
bash scripts/e2e-setup.sh >/dev/null
AMI_FLEET_WRITE_FIXTURES=1 npx --no-install jest --config jest.e2e.config.js
ls -la __tests__/fixtures/plans
