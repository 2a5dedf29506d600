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

timed() { # timed LABEL cmd...: runs cmd, logs wall time and peak RSS
  local label=$1; shift
  local stats; stats=$(mktemp)
  /usr/bin/time -f '%e %M' -o "$stats" "$@"
  read -r secs kib <"$stats"; rm -f "$stats"
  log "$label: ${secs}s wall, peak RSS $((kib / 1024)) MiB"
  printf '%s\t%s\t%s\n' "$label" "$secs" "$((kib / 1024))" >>"$toolchain/build-figures.tsv"
}

mkdir -p "$toolchain/bin" "$provider_dir"

if [ ! -x "$tofu_bin" ]; then
  log "building OpenTofu $TOFU_VERSION (once per machine)"
  work=$(mktemp -d)
  # From 1.7 OpenTofu's go.mod has replace directives, so `go install` refuses: build it from a
  # wrapper module that requires it and repeats those replace lines.
  ( cd "$work"
    printf 'module ami-fleet/tofu-build\n\ngo 1.26\n' >go.mod
    go mod download -json "github.com/opentofu/opentofu@v$TOFU_VERSION" >dl.json
    gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' dl.json)
    go mod edit -require="github.com/opentofu/opentofu@v$TOFU_VERSION"
    awk '/^replace \(/{b=1;next} b&&/^\)/{b=0;next} b{print "replace " $0} /^replace [^(]/{print}' "$gomod" >>go.mod
    cp "$gomod" upstream.mod
    # The wrapper must resolve the same dependency versions as upstream.
    go mod download -json "github.com/opentofu/opentofu@v$TOFU_VERSION" >/dev/null
    GOFLAGS="$GOFLAGS -mod=mod" go get "github.com/opentofu/opentofu/cmd/tofu@v$TOFU_VERSION" 2>&1 | tail -3 >&2
    timed "tofu $TOFU_VERSION build" go build -p "$jobs" -ldflags='-s -w' -o "$tofu_bin.tmp" github.com/opentofu/opentofu/cmd/tofu
    mv "$tofu_bin.tmp" "$tofu_bin" )
  rm -rf "$work"
fi

if [ ! -x "$provider_bin" ]; then
  log "building terraform-provider-aws $AWS_PROVIDER_VERSION ($AWS_PROVIDER_MODULE_VERSION); a cold build takes long"
  work=$(mktemp -d)
  ( cd "$work"
    printf 'module ami-fleet/aws-provider-build\n\ngo 1.26.3\n' >go.mod
    go mod download -json "github.com/hashicorp/terraform-provider-aws@$AWS_PROVIDER_MODULE_VERSION" >dl.json
    gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' dl.json)
    go mod edit -require="github.com/hashicorp/terraform-provider-aws@$AWS_PROVIDER_MODULE_VERSION"
    # Repeat the provider's replace and godebug lines: a wrapper module's build uses its own.
    awk '/^replace \(/{b=1;next} b&&/^\)/{b=0;next} b{print "replace " $0} /^replace [^(]/{print} /^godebug /{print}' "$gomod" >>go.mod
    GOFLAGS="$GOFLAGS -mod=mod" go get "github.com/hashicorp/terraform-provider-aws@$AWS_PROVIDER_MODULE_VERSION" 2>&1 | tail -3 >&2
    timed "aws provider $AWS_PROVIDER_VERSION build" go build -p "$jobs" \
      -ldflags="-s -w -X github.com/hashicorp/terraform-provider-aws/version.ProviderVersion=$AWS_PROVIDER_VERSION" \
      -o "$provider_bin.tmp" github.com/hashicorp/terraform-provider-aws
    mv "$provider_bin.tmp" "$provider_bin" )
  rm -rf "$work"
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
