# Sourced by the scripts that must run on a supported Node (22 or 24, README "Node versions").
#
#   node_major                   the major version of the `node` on PATH (empty when there is none)
#   use_cached_node MAJOR WHO    put the cached official Node MAJOR (scripts/ensure-node.sh) first on
#                                PATH, saying so on stderr as WHO
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true; }

use_cached_node() {
  local bin
  bin=$(bash "$(dirname "${BASH_SOURCE[0]}")/ensure-node.sh" "$1") || return 1
  echo "$2: running on Node $("$bin/node" --version) from the cache (this machine's Node is $(node --version 2>/dev/null || echo missing))" >&2
  export PATH="$bin:$PATH"
  # A parent `npm run`/`npx` on another Node leaves its prefix, which npx puts first on PATH.
  unset npm_config_prefix npm_config_globalconfig npm_node_execpath NODE
}
