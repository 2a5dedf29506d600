#!/usr/bin/env bash
# Builds OpenTofu and the Terraform AWS provider from the Go module proxy into a cache outside the
# repo, laid out as a filesystem mirror, and writes the CLI config that points tofu at it.
# Idempotent: when the binaries for these versions are already in the cache it does nothing.
#
#   AMI_FLEET_CACHE   cache root (default: ~/.cache/ami-fleet)
#   GO_BUILD_P        parallel compile jobs (default: 2; the EC2 SDK package is memory heavy)
#
# Prints the path of the generated CLI config on its last line of stdout.
set -euo pipefail

TOFU_VERSION="1.10.6"
# The Go proxy reachable here serves no tagged v6 release of terraform-provider-aws (its module path
# has no /v6); it serves this main-branch commit of 2026-06-02, whose CHANGELOG heads 6.48.0.
AWS_PROVIDER_MODULE_VERSION="v1.60.1-0.20260602190131-5f2286d6d836"
AWS_PROVIDER_VERSION="6.48.0"

cache_root="${AMI_FLEET_CACHE:-$HOME/.cache/ami-fleet}"
toolchain="$cache_root/toolchain/tofu-${TOFU_VERSION}_aws-${AWS_PROVIDER_VERSION}-${AWS_PROVIDER_MODULE_VERSION##*-}"
mirror="$toolchain/mirror"
provider_dir="$mirror/registry.opentofu.org/hashicorp/aws/$AWS_PROVIDER_VERSION/linux_amd64"
provider_bin="$provider_dir/terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5"
tofu_bin="$toolchain/bin/tofu"
cli_config="$toolchain/tofu.tfrc"
jobs="${GO_BUILD_P:-2}"

log() { printf '[e2e-setup] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "go is not installed: install Go 1.26+ and run again"; exit 1; }
export GOFLAGS="${GOFLAGS:-} -trimpath"
export CGO_ENABLED=0

timed() { # timed LABEL cmd...: runs cmd, logs wall time and peak RSS (with GNU time when present)
  local label=$1; shift
  if [ ! -x /usr/bin/time ]; then
    local started=$SECONDS
    "$@"
    log "$label: $((SECONDS - started))s wall"
    printf '%s\t%s\t%s\n' "$label" "$((SECONDS - started))" "?" >>"$toolchain/build-figures.tsv"
    return
  fi
  local stats; stats=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$stats" "$@"
  read -r secs kib <"$stats"; rm -f "$stats"
  log "$label: ${secs}s wall, peak RSS $((kib / 1024)) MiB"
  printf '%s\t%s\t%s\n' "$label" "$secs" "$((kib / 1024))" >>"$toolchain/build-figures.tsv"
}

# build_from_wrapper MODULE VERSION PACKAGE OUTPUT LDFLAGS: builds PACKAGE of MODULE@VERSION from a
# wrapper module that requires it and repeats its replace and godebug lines (`go install` refuses
# modules with replace directives, and a wrapper's build uses only its own).
build_from_wrapper() {
  local module=$1 version=$2 package=$3 output=$4 ldflags=$5
  local work; work=$(mktemp -d)
  ( cd "$work"
    local gomod
    printf 'module ami-fleet/toolchain-build\n\ngo 1.26.3\n' >go.mod
    gomod=$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    [ -n "$gomod" ] || { log "cannot download $module@$version from the Go module proxy"; exit 1; }
    go mod edit -require="$module@$version"
    awk '/^replace \(/{b=1;next} b&&/^\)/{b=0;next} b{print "replace " $0} /^replace [^(]/{print} /^godebug /{print}' "$gomod" >>go.mod
    GOFLAGS="$GOFLAGS -mod=mod" go get "$package@$version" 2>&1 | grep -v '^go: downloading' | tail -3 >&2
    timed "$(basename "$package") $version build" go build -p "$jobs" -ldflags="-s -w $ldflags" -o "$output.tmp" "$package"
    mv "$output.tmp" "$output" )
  local status=$?
  rm -rf "$work"
  return $status
}

mkdir -p "$toolchain/bin" "$provider_dir"

if [ ! -x "$tofu_bin" ]; then
  log "building OpenTofu $TOFU_VERSION (once per machine)"
  build_from_wrapper github.com/opentofu/opentofu "v$TOFU_VERSION" github.com/opentofu/opentofu/cmd/tofu \
    "$tofu_bin" "-X github.com/opentofu/opentofu/version.dev=no"
fi

if [ ! -x "$provider_bin" ]; then
  log "building terraform-provider-aws $AWS_PROVIDER_VERSION ($AWS_PROVIDER_MODULE_VERSION); a cold build takes about 25 minutes on 2 cores"
  build_from_wrapper github.com/hashicorp/terraform-provider-aws "$AWS_PROVIDER_MODULE_VERSION" \
    github.com/hashicorp/terraform-provider-aws "$provider_bin" \
    "-X github.com/hashicorp/terraform-provider-aws/version.ProviderVersion=$AWS_PROVIDER_VERSION"
  log "provider binary: $(du -h "$provider_bin" | cut -f1)"
fi

cat >"$cli_config" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.opentofu.org/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.opentofu.org/hashicorp/aws"]
  }
}
CFG
cat >"$cache_root/toolchain/current.env" <<ENV
TOFU_BIN=$tofu_bin
TF_CLI_CONFIG_FILE=$cli_config
AWS_PROVIDER_VERSION=$AWS_PROVIDER_VERSION
ENV
echo "$cache_root/toolchain/current.env"
