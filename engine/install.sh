#!/usr/bin/env bash
# Builds the pinned Pulumi CLI and this project's Python language host once, into versioned caches outside the
# clone, and links them with the SDK's two Python launchers into a virtualenv's bin directory:
#   pulumi                          the CLI and engine (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi, pinned in go.mod)
#   pulumi-resource-pulumi-python   the SDK's dynamic-provider shim  } copied from the pinned
#   pulumi-language-python-exec     the SDK's program runner         } github.com/pulumi/pulumi/sdk/v3 module
#   pulumi-language-python          the language host (./cmd/pulumi-language-python, built against the pinned SDK)
#   pulumi-language-yaml            the Pulumi YAML language host (github.com/pulumi/pulumi-yaml, its own module,
#                                   at the version below)
# Usage: engine/install.sh VENV_BIN_DIR. Without `go` it says so in one line and exits 0 (the stack runner still
# works). The cache is $PULUMI_MISTRAL_ENGINE_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/pulumi-mistral/engine. Each
# entry is named after what it is built from (the pin, and a hash of the module and, for the host, its source),
# so a change rebuilds only what it touches: editing the host takes seconds, not the CLI's minutes. The tools are
# then gathered in one directory named after both builds, and linked from there.
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
cache_root=${PULUMI_MISTRAL_ENGINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-mistral/engine}
# How the binaries are built; part of every key, with everything else they are built from.
recipe="go build -trimpath -ldflags '-s -w -X <version>'"
module_key=$( (cat go.mod go.sum; echo "$recipe") | sha256sum | cut -c1-12)
host_key=$( (cat go.mod go.sum cmd/pulumi-language-python/*.go; echo "$recipe") | sha256sum | cut -c1-12)
cli_cache="$cache_root/cli-$version-$module_key"
host_cache="$cache_root/python-host-$version-$host_key"
# pulumi-yaml has no replace directives, so `go install` builds it as its own module, with its own requirements
# (it talks to the CLI over gRPC, so its older pulumi SDK is fine).
yaml_version=v1.25.0
yaml_cache="$cache_root/yaml-$yaml_version"

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

# cached DIR TOOL...: every tool is in DIR already.
cached() {
    local dir=$1 t
    shift
    for t in "$@"; do [ -x "$dir/$t" ] || return 1; done
}

# build_into DIR FUNCTION: run FUNCTION TMP LOG to fill a fresh directory, then move it to DIR in one step, so an
# interrupted build never leaves a half-filled cache entry.
build_into() {
    local dir=$1 fill=$2 tmp log
    tmp="$dir.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    log="$tmp/build.log"
    go mod download -x github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3 >>"$log" 2>&1 \
        || { echo "downloading the Pulumi modules failed:" >&2; tail -n 20 "$log" >&2; exit 1; }
    "$fill" "$tmp" "$log"
    rm -f "$log"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    trap - EXIT
}

fill_cli() {
    local tmp=$1 log=$2 sdk
    build_with_progress "pulumi $version" "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
        "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" "$log"
    sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$tmp/pulumi-resource-pulumi-python"
}

# The host runs the exec script it finds next to its own (resolved) executable.
fill_host() {
    local sdk
    build_with_progress "pulumi-language-python" "$1/pulumi-language-python" ./cmd/pulumi-language-python \
        "-s -w -X main.version=$version" "$2"
    sdk=$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$1/pulumi-language-python-exec"
}

fill_yaml() {
    local start=$SECONDS
    echo "  building pulumi-language-yaml $yaml_version (about a minute the first time)"
    GOBIN="$1" GOFLAGS=-trimpath go install -ldflags "-s -w" \
        "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$yaml_version" >>"$2" 2>&1 \
        || { echo "building pulumi-language-yaml failed; the last lines of $2:" >&2; tail -n 20 "$2" >&2; return 1; }
    echo "  built pulumi-language-yaml in $((SECONDS - start)) s"
}

cli_tools=(pulumi pulumi-resource-pulumi-python)
host_tools=(pulumi-language-python pulumi-language-python-exec)
yaml_tools=(pulumi-language-yaml)
if cached "$cli_cache" "${cli_tools[@]}"; then
    echo "Pulumi CLI $version: using the build cached in $cli_cache"
else
    echo "Pulumi CLI $version: building from the Go module proxy into $cli_cache"
    build_into "$cli_cache" fill_cli
fi
if cached "$host_cache" "${host_tools[@]}"; then
    echo "Python language host: using the build cached in $host_cache"
else
    echo "Python language host: building into $host_cache"
    build_into "$host_cache" fill_host
fi

if cached "$yaml_cache" "${yaml_tools[@]}"; then
    echo "YAML language host $yaml_version: using the build cached in $yaml_cache"
else
    echo "YAML language host $yaml_version: building from the Go module proxy into $yaml_cache"
    build_into "$yaml_cache" fill_yaml
fi

# The CLI looks for its language hosts next to its own resolved path, so every tool must really be in one
# directory: hard links (copies across file systems) of the three builds, in an entry named after them.
engine="$cache_root/$version-${module_key}-${host_key}-yaml-$yaml_version"
all_tools=("${cli_tools[@]}" "${host_tools[@]}" "${yaml_tools[@]}")
if ! cached "$engine" "${all_tools[@]}"; then
    tmp="$engine.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    for t in "${cli_tools[@]}"; do ln "$cli_cache/$t" "$tmp/$t" 2>/dev/null || cp -p "$cli_cache/$t" "$tmp/$t"; done
    for t in "${host_tools[@]}"; do ln "$host_cache/$t" "$tmp/$t" 2>/dev/null || cp -p "$host_cache/$t" "$tmp/$t"; done
    for t in "${yaml_tools[@]}"; do ln "$yaml_cache/$t" "$tmp/$t" 2>/dev/null || cp -p "$yaml_cache/$t" "$tmp/$t"; done
    rm -rf "$engine"
    mv "$tmp" "$engine"
fi
for t in "${all_tools[@]}"; do
    ln -sfn "$engine/$t" "$bin_dir/$t"
done
echo "Pulumi CLI linked into $bin_dir: $("$bin_dir/pulumi" version)"
