#!/usr/bin/env bash
# Runs every test suite on a fresh machine: installs the npm packages and the emulator (moto in
# .venv), type-checks the whole project (tsc --noEmit), runs the unit and emulator tests (jest) on
# Node 22 and on Node 24, then the OpenTofu end-to-end loop on Node 22. Both Node releases come
# from the cache (scripts/ensure-node.sh), whatever Node the machine has. OpenTofu and the AWS
# provider are built into ~/.cache/ami-fleet on first use, in the background while the installs,
# the type-check and the unit suites run.
# Ends with the line `N passed, M failed` (totals of every suite run).
#
#   AMI_FLEET_SKIP_E2E=1   skip the end-to-end loop
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
setup_log=$(mktemp)
setup_pid=
if [ "${AMI_FLEET_SKIP_E2E:-}" != "1" ]; then
  # On a new machine the toolchain build is most of the run: it needs only Go, so it starts first and
  # overlaps the installs and the suites that need no toolchain.
  echo "building the end-to-end toolchain in the background (scripts/e2e-setup.sh)" >&2
  # In its own process group, so that an early exit stops the compile too.
  setsid bash scripts/e2e-setup.sh >/dev/null 2>"$setup_log" &
  setup_pid=$!
  trap 'kill -- "-$setup_pid" 2>/dev/null' EXIT
fi
# The supported releases: 22 (maintenance LTS, what cdktf-cli 0.21 runs on) and 24 (active LTS).
node22=$(bash scripts/ensure-node.sh 22) || exit 1
node24=$(bash scripts/ensure-node.sh 24) || exit 1
export PATH="$node22:$PATH"
echo "Node $(node --version) for the installs, the type-check, the unit suites and the end-to-end loop; the unit suites again on $("$node24/node" --version)" >&2
bash scripts/ensure-node-modules.sh || exit 1
bash scripts/ensure-venv.sh || exit 1
export CHECKPOINT_DISABLE=1

results=$(mktemp -d)
status=0
# The whole project, tests included, type-checks under the strict tsconfig (jest and the CLI only
# transpile): a type error fails the run and counts as one failed test.
echo "type-checking the project (tsc --noEmit)" >&2
if npx --no-install tsc --noEmit -p tsconfig.json; then
  echo '{"numPassedTests":1,"numFailedTests":0,"numRuntimeErrorTestSuites":0}' >"$results/typecheck.json"
else
  echo '{"numPassedTests":0,"numFailedTests":1,"numRuntimeErrorTestSuites":0}' >"$results/typecheck.json"
  status=1
fi
# suite NAME CMD...: runs a jest suite whose --json goes to $results/NAME.json; a suite that fails
# without writing it (a crash, a kill) counts as one failed test, never as nothing.
suite() {
  local name=$1; shift
  local code=0
  "$@" --json --outputFile="$results/$name.json" || code=$?
  [ -s "$results/$name.json" ] || echo '{"numPassedTests":0,"numFailedTests":1,"numRuntimeErrorTestSuites":0}' >"$results/$name.json"
  return $code
}
suite unit-node22 npx --no-install jest --ci || status=1
# The same suites on Node 24. Before the end-to-end loop, not beside it: on a new machine both
# Node runs fit beside the toolchain build, and beside the loop they slowed it more than they saved
# (cold run 24:46 against 22:19, 2026-12-02).
PATH="$node24:$PATH" suite unit-node24 npx --no-install jest --ci || status=1
if [ -n "$setup_pid" ]; then
  setup_status=0
  wait "$setup_pid" || setup_status=$?
  cat "$setup_log" >&2
  if [ "$setup_status" != 0 ]; then
    echo "e2e setup failed (its last lines above name the step): the end-to-end suite cannot run" >&2
    echo '{"numPassedTests":0,"numFailedTests":1,"numRuntimeErrorTestSuites":0}' >"$results/e2e-setup.json"
    status=1
  fi
  # Every emulator of the e2e suite logs who signed each call; then the roles' policies (docs/iam)
  # are checked against what was called.
  calls=$(mktemp -d)
  AMI_FLEET_CALLS_DIR="$calls" suite e2e npx --no-install jest --ci --config jest.e2e.config.js || status=1
  AMI_FLEET_CALLS_DIR="$calls" suite iam npx --no-install jest --ci --config jest.iam.config.js || status=1
  rm -rf "$calls"
fi
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
  }
  console.log(`${passed} passed, ${failed} failed`);
' "$results"
rm -rf "$results" "$setup_log"
exit $status
