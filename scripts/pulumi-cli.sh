#!/usr/bin/env bash
# A real Pulumi CLI for the tests and the demo where none is installed, built from Pulumi's own Go modules.
#
#   PATH="$(scripts/pulumi-cli.sh):$PATH"     # prints the directory holding the CLI; progress goes to stderr
#   scripts/pulumi-cli.sh --cached            # prints it only if it is built already (exit 1 if not): no Go,
#                                             # no build, a fraction of a second (scripts/demo.sh asks this)
#
# Users install the official CLI (https://www.pulumi.com/docs/iac/download-install/); this script is for
# machines that can reach the Go module proxy but not Pulumi's downloads (our CI). It builds, with `go build`:
#   - `pulumi` from github.com/pulumi/pulumi/pkg/v3 (cmd/pulumi), version-stamped;
#   - `pulumi-language-python`, the Python language host, from github.com/pulumi/pulumi/sdk/v3;
# and puts beside them the two scripts the CLI runs Python through, shipped inside the sdk/v3 module:
# `pulumi-language-python-exec` (runs the program) and `pulumi-resource-pulumi-python` (runs dynamic
# providers: `python -u -m pulumi.dynamic`). The CLI finds these "bundled" plugins next to its binary.
# The result is cached outside the clone, keyed by the versions, so the second run takes a moment.
# It downloads nothing but Go modules (GOTOOLCHAIN=local: not even a Go toolchain).
#
# Why the language host is older than the CLI: since sdk v3.69 the language host is a module of its own
# (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) that is published without version
# tags, so it is reachable only as a pseudo-version, and the module proxy here refuses every version of it.
# sdk/v3 v3.68.0 is the last release that still contains the language host as a package, so it is built from
# there. The CLI (the engine: plans, state, secrets, plugins) and both scripts are v3.274.1. One difference
# follows (README, "How it is tested"): this language host does not receive Pulumi.yaml's
# `runtime.options.virtualenv` from a v3 CLI of today, so it runs the program with `PULUMI_PYTHON_CMD` (or
# the first `python3` on PATH). So the cached `pulumi` is a small wrapper around the engine binary
# (`pulumi-engine`): unless PULUMI_PYTHON_CMD is set, it points it at the virtualenv that the project's
# Pulumi.yaml names, as the official CLI would use, and says what to do when that virtualenv is missing.
set -euo pipefail

PULUMI_VERSION=3.274.1        # >= the pulumi Python SDK in requirements.txt (3.272)
LANGUAGE_HOST_SDK_VERSION=3.68.0
CLIPBOARD_REPLACE="github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e"  # as in pkg/go.mod

cache_root="${KORE_PULUMI_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kore-resources/pulumi-cli}"
bin="$cache_root/v$PULUMI_VERSION-python-host-v$LANGUAGE_HOST_SDK_VERSION"
tools=(pulumi pulumi-engine pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python)

# The cached `pulumi`: the engine, run with the Python of the virtualenv Pulumi.yaml names (see above).
write_wrapper() {  # write_wrapper <file>
  cat >"$1" <<'WRAPPER'
#!/usr/bin/env bash
# kore-resources' build of the Pulumi CLI (scripts/pulumi-cli.sh): the engine is pulumi-engine beside this
# file. Its Python language host (v3.68.0) does not read Pulumi.yaml's runtime.options.virtualenv, so unless
# PULUMI_PYTHON_CMD is set, this points it at the Python of the virtualenv the project's Pulumi.yaml names.
engine="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/pulumi-engine"
if [ -z "${PULUMI_PYTHON_CMD:-}" ]; then
  dir=$PWD
  args=("$@")
  for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
      -C | --cwd) dir="${args[i + 1]:-$dir}" ;;
      --cwd=*) dir="${args[i]#--cwd=}" ;;
    esac
  done
  dir=$(cd "$dir" 2>/dev/null && pwd) || dir=$PWD
  while [ "$dir" != / ] && [ ! -f "$dir/Pulumi.yaml" ]; do dir=$(dirname "$dir"); done
  if [ -f "$dir/Pulumi.yaml" ]; then
    venv=$(sed -n 's/^[[:space:]][[:space:]]*virtualenv:[[:space:]]*["'\'']\{0,1\}\([^"'\''#[:space:]]*\).*/\1/p' \
      "$dir/Pulumi.yaml" | head -n 1)
    if [ -n "$venv" ]; then
      case "$venv" in /*) ;; *) venv="$dir/$venv" ;; esac
      if [ -x "$venv/bin/python" ]; then
        export PULUMI_PYTHON_CMD="$venv/bin/python"
      else
        echo "pulumi (built by kore-resources' scripts/pulumi-cli.sh): $dir/Pulumi.yaml names the virtualenv" \
          "$venv, which has no bin/python, so the program would run without its requirements. Create it" \
          "(python3 -m venv $venv && $venv/bin/pip install -r $dir/requirements.txt; in a kore-resources" \
          "checkout, scripts/demo.sh does), or set PULUMI_PYTHON_CMD to a Python that has them." >&2
      fi
    fi
  fi
fi
exec "$engine" "$@"
WRAPPER
  chmod 0755 "$1"
}

# A cache built before the wrapper holds the engine as `pulumi`: wrap it in place (no rebuild). The engine
# is linked under its new name first and the wrapper renamed over `pulumi`, so a CLI run meanwhile works.
wrap_cached() {
  [ -x "$bin/pulumi" ] && [ ! -e "$bin/pulumi-engine" ] || return 0
  head -c 4 "$bin/pulumi" | grep -q 'ELF' || return 0
  ln "$bin/pulumi" "$bin/pulumi-engine" 2>/dev/null || cp -p "$bin/pulumi" "$bin/pulumi-engine"
  write_wrapper "$bin/pulumi.wrapper" && mv -f "$bin/pulumi.wrapper" "$bin/pulumi"
}

say() { printf 'pulumi-cli: %s\n' "$*" >&2; }
fail() { printf 'pulumi-cli: error: %s\n' "$*" >&2; exit 1; }

installed() {
  local tool
  for tool in "${tools[@]}"; do
    [ -x "$bin/$tool" ] || return 1
  done
  [ "$("$bin/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]
}

wrap_cached

case "${1:-}" in
  '') ;;
  --cached)
    if installed; then
      printf '%s\n' "$bin"
      exit 0
    fi
    say "no Pulumi CLI v$PULUMI_VERSION is cached in $bin (scripts/pulumi-cli.sh builds it, with Go 1.24+)"
    exit 1
    ;;
  -h | --help)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) fail "unknown argument '$1'; usage: scripts/pulumi-cli.sh [--cached]" ;;
esac

if installed; then
  say "using the cached Pulumi CLI v$PULUMI_VERSION in $bin"
  printf '%s\n' "$bin"
  exit 0
fi

command -v go >/dev/null 2>&1 ||
  fail "go is not on PATH. Building the Pulumi CLI needs Go 1.24 or newer (https://go.dev/dl/); or install the official CLI instead: https://www.pulumi.com/docs/iac/download-install/"
# `go env GOVERSION` says go1.24.3 (or go1.25rc1); an older Go fails later with a less helpful message.
go_version=$(go env GOVERSION 2>/dev/null || true)
if ! [[ "$go_version" =~ ^go1\.([0-9]+) ]] || [ "${BASH_REMATCH[1]}" -lt 24 ]; then
  fail "$(command -v go) is ${go_version:-of an unknown version}; building the Pulumi CLI needs Go 1.24 or newer (https://go.dev/dl/); or install the official CLI instead: https://www.pulumi.com/docs/iac/download-install/"
fi

export GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"
work=$(mktemp -d -t kore-pulumi-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cli" "$work/host" "$work/bin"
stamp() { printf -- '-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v%s' "$1"; }

# One small module per binary: `go install pkg@version` refuses pkg/v3 (its go.mod has replace directives),
# and only the main module's replace directives apply, so the clipboard one is repeated here.
cat >"$work/cli/go.mod" <<EOF
module kore-resources.local/pulumi-cli

go 1.24

require (
	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION
)

replace github.com/atotto/clipboard => $CLIPBOARD_REPLACE
EOF
cat >"$work/host/go.mod" <<EOF
module kore-resources.local/pulumi-language-python

go 1.24

require github.com/pulumi/pulumi/sdk/v3 v$LANGUAGE_HOST_SDK_VERSION
EOF

build() {  # build <module dir> <output> <version stamp> <package>
  local dir=$1 out=$2 version=$3 package=$4 log="$work/$(basename "$2").log"
  say "building $(basename "$out") v$version from $package (Go modules; the first build downloads them)"
  if ! (cd "$dir" && go build -trimpath -ldflags "$(stamp "$version")" -o "$out" "$package") >"$log" 2>&1; then
    cat "$log" >&2
    fail "could not build $(basename "$out") from $package v$version (output above). A module the Go proxy does not serve shows as 'reading https://proxy.golang.org/...: 403' or '404'."
  fi
}

started=$SECONDS
build "$work/cli" "$work/bin/pulumi-engine" "$PULUMI_VERSION" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
write_wrapper "$work/bin/pulumi"
build "$work/host" "$work/bin/pulumi-language-python" "$LANGUAGE_HOST_SDK_VERSION" \
  github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python

sdk_dir=$(cd "$work/cli" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3) ||
  fail "could not locate the github.com/pulumi/pulumi/sdk/v3 v$PULUMI_VERSION module"
for script in python/cmd/pulumi-language-python-exec python/dist/pulumi-resource-pulumi-python; do
  [ -f "$sdk_dir/$script" ] || fail "$script is missing from $sdk_dir"
  install -m 0755 "$sdk_dir/$script" "$work/bin/"
done

version=$("$work/bin/pulumi" version) || fail "the built pulumi does not run"
[ "$version" = "v$PULUMI_VERSION" ] || fail "the built pulumi reports $version, expected v$PULUMI_VERSION"

# Move into place in one step, so a build interrupted half-way never looks installed.
mkdir -p "$cache_root"
rm -rf "$bin.partial" && mv "$work/bin" "$bin.partial" && rm -rf "$bin" && mv "$bin.partial" "$bin"
say "built the Pulumi CLI $version in $((SECONDS - started))s: $bin ($(du -sh "$bin" | cut -f1))"
printf '%s\n' "$bin"
