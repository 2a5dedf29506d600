#!/usr/bin/env bash
# Builds OpenTofu and the Terraform AWS provider from the Go module proxy into a cache outside the
# repo, laid out as a filesystem mirror, and writes the CLI config that points tofu at it.
#
# The provider is built with only the service packages that serve the types in
# scripts/aws-provider-types.txt (what the stacks synthesize; a unit test keeps the list exact):
# scripts/trim-provider deletes the other packages' registrations and the SDK clients nobody then
# calls from the two generated registration files of a copy of the module. Every resource's code
# is the provider's own, unchanged, at the same module version and dependency versions.
#
# Every step runs on every call except the compiles: downloading the modules, copying and trimming
# the provider, checking the binaries and writing the mirror's CLI config are cheap and are always
# redone and checked, so a warm cache cannot hide a broken step. Only `go build` is skipped when the
# binary for these exact versions (and, for the provider, this service list) is already cached.
#
#   AMI_FLEET_CACHE   cache root (default: ~/.cache/ami-fleet)
#   GO_BUILD_P        parallel compile jobs (default: 2; the EC2 SDK package is memory heavy)
#
# Prints the path of the generated toolchain env file on its last line of stdout. Every failure
# names its step and shows the failing tool's own output, and exits non-zero.
set -euo pipefail

TOFU_VERSION="1.10.6"
# The Go proxy reachable here serves no tagged v6 release of terraform-provider-aws (its module path
# has no /v6); it serves this main-branch commit of 2026-06-02, whose CHANGELOG heads 6.48.0.
AWS_PROVIDER_MODULE_VERSION="v1.60.1-0.20260602190131-5f2286d6d836"
AWS_PROVIDER_VERSION="6.48.0"

cache_root="${AMI_FLEET_CACHE:-$HOME/.cache/ami-fleet}"
toolchain="$cache_root/toolchain/tofu-${TOFU_VERSION}_aws-${AWS_PROVIDER_VERSION}-${AWS_PROVIDER_MODULE_VERSION##*-}"
tofu_bin="$toolchain/bin/tofu"
root="$(cd "$(dirname "$0")/.." && pwd)"
provider_types="$root/scripts/aws-provider-types.txt"
cli_config="$toolchain/tofu.tfrc"
jobs="${GO_BUILD_P:-2}"

log() { printf '[e2e-setup] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

# step LABEL cmd...: runs cmd with its output kept in a log; on failure names the step, shows the
# end of the tool's own output and exits. Success never depends on what the tool printed.
step() {
  local label=$1; shift
  local out; out=$(mktemp)
  "$@" >"$out" 2>&1 && { rm -f "$out"; return 0; }
  local status=$?
  log "FAILED: $label (exit $status): $*"
  tail -n 40 "$out" | sed 's/^/[e2e-setup]   /' >&2
  rm -f "$out"
  exit 1
}

command -v go >/dev/null || fail "go is not installed: install Go 1.26+ and run again"
export GOFLAGS="${GOFLAGS:-} -trimpath"
export CGO_ENABLED=0

step "create the cache folders under $toolchain" mkdir -p "$toolchain/bin" "$toolchain/build"

timed() { # timed LABEL cmd...: runs cmd through step, logs wall time and peak RSS (GNU time when present)
  local label=$1; shift
  local started=$SECONDS secs kib="?"
  if [ -x /usr/bin/time ]; then
    local stats; stats=$(mktemp)
    step "$label" /usr/bin/time -f '%e %M' -o "$stats" "$@"
    read -r secs kib <"$stats"; rm -f "$stats"
    kib=$((kib / 1024))
  else
    step "$label" "$@"
    secs=$((SECONDS - started))
  fi
  log "$label: ${secs}s wall, peak RSS ${kib} MiB"
  printf '%s\t%s\t%s\n' "$label" "$secs" "$kib" >>"$toolchain/build-figures.tsv"
}

# prepare_wrapper NAME MODULE VERSION PACKAGE: writes $toolchain/build/NAME, a wrapper module that
# requires MODULE@VERSION and repeats its replace and godebug lines (`go install` refuses modules
# with replace directives, and a wrapper's build uses only its own), and downloads what PACKAGE needs.
prepare_wrapper() {
  local name=$1 module=$2 version=$3 package=$4
  local dir="$toolchain/build/$name" info gomod
  step "clean the wrapper module $dir" rm -rf "$dir"
  step "create the wrapper module $dir" mkdir -p "$dir"
  printf 'module ami-fleet/toolchain-build/%s\n\ngo 1.26.3\n' "$name" >"$dir/go.mod"
  info="$dir/download.json"
  step "download $module@$version from the Go module proxy" \
    sh -c 'cd "$1" && go mod download -json "$2@$3" >"$4"' _ "$dir" "$module" "$version" "$info"
  gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' "$info")
  [ -n "$gomod" ] && [ -f "$gomod" ] || fail "download $module@$version: the Go module proxy gave no go.mod ($(cat "$info"))"
  step "require $module@$version in the wrapper module" \
    sh -c 'cd "$1" && go mod edit -require="$2@$3"' _ "$dir" "$module" "$version"
  awk '/^replace \(/{b=1;next} b&&/^\)/{b=0;next} b{print "replace " $0} /^replace [^(]/{print} /^godebug /{print}' \
    "$gomod" >>"$dir/go.mod"
  step "resolve the dependencies of $package@$version" \
    sh -c 'cd "$1" && GOFLAGS="$GOFLAGS -mod=mod" go get "$2@$3"' _ "$dir" "$package" "$version"
}

# build NAME PACKAGE OUTPUT LDFLAGS: compiles PACKAGE in the wrapper module NAME to OUTPUT.
build() {
  local name=$1 package=$2 output=$3 ldflags=$4
  local dir="$toolchain/build/$name"
  timed "$(basename "$package") $name build" \
    sh -c 'cd "$1" && go build -p "$2" -ldflags="$3" -o "$4.tmp" "$5"' _ "$dir" "$jobs" "-s -w $ldflags" "$output" "$package"
  step "install $output" mv "$output.tmp" "$output"
}

# OpenTofu
prepare_wrapper tofu github.com/opentofu/opentofu "v$TOFU_VERSION" github.com/opentofu/opentofu/cmd/tofu
# The version a tofu binary reports, asked without any user CLI config (a TF_CLI_CONFIG_FILE set in
# the environment may point at a missing or broken file, which tofu reports before its version).
tofu_version() { TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p'; }
if [ -x "$tofu_bin" ] && [ "$(tofu_version "$tofu_bin")" = "$TOFU_VERSION" ]; then
  log "OpenTofu $TOFU_VERSION: cached build at $tofu_bin"
else
  log "building OpenTofu $TOFU_VERSION (once per machine; about 2-3 minutes on 2 cores)"
  build tofu github.com/opentofu/opentofu/cmd/tofu "$tofu_bin" "-X github.com/opentofu/opentofu/version.dev=no"
fi
step "check OpenTofu: $tofu_bin version" env TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "$tofu_bin" version -json
built_version=$(tofu_version "$tofu_bin")
[ "$built_version" = "$TOFU_VERSION" ] || fail "check OpenTofu: $tofu_bin reports version '$built_version', expected $TOFU_VERSION"

# The AWS provider, trimmed to the service packages the stacks use
step "download the AWS provider module $AWS_PROVIDER_MODULE_VERSION from the Go module proxy" \
  sh -c 'cd "$1" && go mod download -json "github.com/hashicorp/terraform-provider-aws@$2" >"$1/aws-download.json"' _ "$toolchain/build" "$AWS_PROVIDER_MODULE_VERSION"
module_dir=$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' "$toolchain/build/aws-download.json")
[ -n "$module_dir" ] && [ -f "$module_dir/go.mod" ] || fail "download the AWS provider module: the Go module proxy gave no source ($(cat "$toolchain/build/aws-download.json"))"
trimmed="$toolchain/build/aws-trimmed"
step "clean the provider copy $trimmed" rm -rf "$trimmed"
step "create the provider copy folder $trimmed" mkdir -p "$trimmed"
step "copy the provider module to $trimmed" cp -R "$module_dir/go.mod" "$module_dir/go.sum" "$module_dir/main.go" "$module_dir/internal" "$module_dir/names" "$module_dir/version" "$trimmed/"
step "make the provider copy writable" chmod -R u+w "$trimmed"
services_file="$toolchain/build/aws-services.txt"
step "trim the provider to the service packages of $provider_types" \
  sh -c 'go run "$1/scripts/trim-provider/main.go" -module "$2" -types "$3" >"$4"' _ "$root" "$trimmed" "$provider_types" "$services_file"
services=$(paste -sd- "$services_file")
[ -n "$services" ] || fail "trim the provider: it kept no service package"
log "AWS provider services: $services"
mirror="$toolchain/aws-$services/mirror"
provider_dir="$mirror/registry.opentofu.org/hashicorp/aws/$AWS_PROVIDER_VERSION/linux_amd64"
provider_bin="$provider_dir/terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5"
step "create the mirror folder $provider_dir" mkdir -p "$provider_dir"
if [ -x "$provider_bin" ] && [ -s "$provider_bin" ]; then
  log "terraform-provider-aws $AWS_PROVIDER_VERSION ($services): cached build at $provider_bin"
else
  log "building terraform-provider-aws $AWS_PROVIDER_VERSION ($AWS_PROVIDER_MODULE_VERSION) with the services $services; a cold build takes about 6 minutes on 2 cores"
  timed "terraform-provider-aws build ($services)" \
    sh -c 'cd "$1" && go build -p "$2" -ldflags="$3" -o "$4.tmp" .' _ "$trimmed" "$jobs" \
    "-s -w -X github.com/hashicorp/terraform-provider-aws/version.ProviderVersion=$AWS_PROVIDER_VERSION" "$provider_bin"
  step "install $provider_bin" mv "$provider_bin.tmp" "$provider_bin"
  log "provider binary: $(du -h "$provider_bin" | cut -f1)"
fi

# The mirror's CLI config, then a check that tofu installs the provider from it (no network).
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
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
cat >"$probe/main.tf" <<TF
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "= $AWS_PROVIDER_VERSION" }
  }
}
TF
step "check that tofu installs hashicorp/aws $AWS_PROVIDER_VERSION from the mirror $mirror" \
  env TF_CLI_CONFIG_FILE="$cli_config" TF_PLUGIN_CACHE_DIR= CHECKPOINT_DISABLE=1 \
  "$tofu_bin" -chdir="$probe" init -input=false -backend=false -no-color
step "check that the provider plugin starts (tofu providers schema)" \
  env TF_CLI_CONFIG_FILE="$cli_config" CHECKPOINT_DISABLE=1 \
  sh -c '"$1" -chdir="$2" providers schema -json >"$2/schema.json"' _ "$tofu_bin" "$probe"
# Every type the stacks synthesize is served (the e2e suite checks the synthesized stacks themselves).
missing=$(grep -v '^ *#' "$provider_types" | sed 's/#.*//' | tr -s ' \t' '\n' | grep . | while read -r type; do
  grep -q "\"$type\":{" "$probe/schema.json" || echo "$type"
done)
[ -z "$missing" ] || fail "check the provider's schema: it lacks $(echo $missing) ($provider_bin). Every type in $provider_types must be registered by a kept service package: check the type's name there and scripts/trim-provider"

cat >"$cache_root/toolchain/current.env" <<ENV
TOFU_BIN=$tofu_bin
TF_CLI_CONFIG_FILE=$cli_config
AWS_PROVIDER_VERSION=$AWS_PROVIDER_VERSION
ENV
log "toolchain ready: OpenTofu $TOFU_VERSION, hashicorp/aws $AWS_PROVIDER_VERSION"
echo "$cache_root/toolchain/current.env"
