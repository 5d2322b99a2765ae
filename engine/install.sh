#!/usr/bin/env bash
# Builds the pinned Pulumi CLI and the Python language host once, into a versioned cache outside the clone, and
# links them with the SDK's two Python launchers into a virtualenv's bin directory:
#   pulumi                          the CLI and engine (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi, pinned in go.mod)
#   pulumi-language-python          the language host (./cmd/pulumi-language-python, built against the pinned SDK)
#   pulumi-language-python-exec     the SDK's program runner         } copied from the pinned
#   pulumi-resource-pulumi-python   the SDK's dynamic-provider shim  } github.com/pulumi/pulumi/sdk/v3 module
# Usage: engine/install.sh VENV_BIN_DIR. Without `go` it says so in one line and exits 0 (the stack runner still
# works). The cache is $PULUMI_MISTRAL_ENGINE_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/pulumi-mistral/engine; its
# entry is named after the pinned version and a hash of this module, so a change to the pin rebuilds.
set -euo pipefail

[ -n "${1:-}" ] || { echo "usage: engine/install.sh VENV_BIN_DIR" >&2; exit 2; }
mkdir -p "$1"
bin_dir=$(cd "$1" && pwd)
cd "$(dirname "$0")"

if ! command -v go >/dev/null 2>&1; then
    echo "go not found: the Pulumi CLI is not built; the demo and tests use the stack runner instead"
    exit 0
fi

version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2; exit }' go.mod)
[ -n "$version" ] || { echo "engine/go.mod does not require github.com/pulumi/pulumi/pkg/v3" >&2; exit 1; }
# How the binaries are built; part of the cache key, with everything else they are built from.
recipe="go build -trimpath -ldflags '-s -w -X <version>'"
key=$( (cat go.mod go.sum cmd/pulumi-language-python/*.go; echo "$recipe") | sha256sum | cut -c1-12)
cache_root=${PULUMI_MISTRAL_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-mistral/engine}
cache="$cache_root/$version-$key"
tools=(pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python)

built() {
    local t
    for t in "${tools[@]}"; do [ -x "$cache/$t" ] || return 1; done
}

# go build -v names each package as it compiles it: count them against the whole dependency graph.
build_with_progress() {
    local label=$1 out=$2 pkg=$3 ldflags=$4 log=$5
    local total count=0 start=$SECONDS last=$SECONDS line
    total=$(go list -deps "$pkg" | wc -l)
    echo "  building $label ($total packages; the first build takes several minutes)"
    set +e
    go build -v -trimpath -ldflags "$ldflags" -o "$out" "$pkg" 2>&1 | tee -a "$log" | while IFS= read -r line; do
        case $line in *" "*|"") continue ;; esac   # package paths have no spaces; errors do
        count=$((count + 1))
        if [ $((SECONDS - last)) -ge 20 ]; then
            last=$SECONDS
            printf '    %s: %d/%d packages compiled, %ds\n' "$label" "$count" "$total" $((SECONDS - start))
        fi
    done
    local status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -ne 0 ] || [ ! -x "$out" ]; then
        echo "building $label failed; the last lines of $log:" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    echo "  built $label in $((SECONDS - start)) s"
}

if built; then
    echo "Pulumi CLI $version: using the build cached in $cache"
else
    echo "Pulumi CLI $version: building from the Go module proxy into $cache"
    tmp="$cache.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    log="$tmp/build.log"
    go mod download -x github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3 >>"$log" 2>&1 \
        || { echo "downloading the Pulumi modules failed:" >&2; tail -n 20 "$log" >&2; exit 1; }
    build_with_progress "pulumi $version" "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
        "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" "$log"
    build_with_progress "pulumi-language-python" "$tmp/pulumi-language-python" ./cmd/pulumi-language-python \
        "-s -w -X main.version=$version" "$log"
    sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$tmp/pulumi-language-python-exec"
    install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$tmp/pulumi-resource-pulumi-python"
    rm -f "$log"
    rm -rf "$cache"
    mv "$tmp" "$cache"
    trap - EXIT
fi

for t in "${tools[@]}"; do
    ln -sfn "$cache/$t" "$bin_dir/$t"
done
echo "Pulumi CLI linked into $bin_dir: $("$bin_dir/pulumi" version)"
