#!/usr/bin/env bash
# Creates .venv with moto (the AWS emulator the tests run against) when it is missing or stale.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.requirements"
if [ -x "$venv/bin/moto_server" ] && cmp -s "$root/requirements-emulator.txt" "$stamp"; then
  exit 0
fi
python="${PYTHON:-python3}"
command -v "$python" >/dev/null || { echo "ensure-venv: python3 is needed for the emulator (moto)" >&2; exit 1; }
echo "ensure-venv: installing moto into .venv" >&2
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements-emulator.txt"
cp "$root/requirements-emulator.txt" "$stamp"
