#!/usr/bin/env bash
# `cdktf <args>` (this project's cdktf-cli 0.21) on a Node it runs on. cdktf-cli 0.21 starts only on
# Node 22 of the supported releases: on 24 its node-pty has no pty.node binary (README "Node
# versions"). On any Node but 22 this runs it, and the app it synthesizes, on the cached official
# Node 22 (scripts/ensure-node.sh), and says so.
set -euo pipefail
source "$(dirname "$0")/node-env.sh"
[ "$(node_major)" = 22 ] || use_cached_node 22 "cdktf (cdktf-cli 0.21 needs Node 22)"
exec npx --no-install cdktf "$@"
