# Sourced by scripts/demo.sh and scripts/new-project.sh: `find_pulumi` puts a real `pulumi` CLI on PATH.
#
#   source scripts/find-pulumi.sh
#   find_pulumi || exit 1
#
# In this order: a `pulumi` already on PATH (the official CLI, or any other); else the CLI that
# scripts/pulumi-cli.sh built and cached (`scripts/pulumi-cli.sh --cached`, a fraction of a second); else,
# when Go is on PATH, that script builds it (it says first that this takes minutes); else it prints both
# ways to get one (the official installer, and scripts/pulumi-cli.sh with Go 1.24+) and returns 1.
# Messages go to stderr. It changes nothing but PATH (exported).

find_pulumi() {
  local scripts cli
  scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  if command -v pulumi >/dev/null 2>&1; then
    return 0
  fi
  if cli="$("$scripts/pulumi-cli.sh" --cached 2>/dev/null)"; then
    echo "pulumi is not on PATH: using the Pulumi CLI that scripts/pulumi-cli.sh built ($cli)." >&2
    PATH="$cli:$PATH"
    export PATH
    return 0
  fi
  if command -v go >/dev/null 2>&1; then
    echo "pulumi is not on PATH and scripts/pulumi-cli.sh has built none yet: building it now from Pulumi's" \
      "Go modules. This takes minutes the first time (4-5 min on two cores, about 4 GB of Go caches);" \
      "later runs reuse it at once. Ctrl-C and install the official CLI instead if you prefer (below)." >&2
    if cli="$("$scripts/pulumi-cli.sh")"; then
      PATH="$cli:$PATH"
      export PATH
      return 0
    fi
    echo "scripts/pulumi-cli.sh could not build the Pulumi CLI (its messages are above)." >&2
  fi
  cat >&2 <<'MSG'
The pulumi CLI is not on PATH, and none is built here. Get one either way, then run this again:
  - the official CLI: curl -fsSL https://get.pulumi.com | sh   (or: brew install pulumi/tap/pulumi;
    https://www.pulumi.com/docs/iac/download-install/), or
  - build it from Pulumi's Go modules with Go 1.24 or newer on PATH (https://go.dev/dl/):
    scripts/pulumi-cli.sh   (minutes the first time; scripts/demo.sh and scripts/new-project.sh then
    find it by themselves)
MSG
  return 1
}
