#!/usr/bin/env bash
# Record what a release writes into a stack's state, as a test fixture (README, "Versions and
# compatibility"; tests/plugin/test_compatibility.py and tests/cli/test_cli_e2e.py replay it):
#
#   scripts/record-state-fixture.sh v0.2.0      # writes tests/fixtures/state/v0.2.0/
#
# It clones HEAD (only what is committed counts: the release as users get it) into a temp folder, runs the
# README's demo there with the real `pulumi` on PATH (the sandbox on port 8089, a file backend, the demo's
# passphrase), and copies into the fixture folder:
#   deployment.json    `pulumi stack export` of the local stack: every resource's pickled provider
#                      (`__provider`, naming the module path of its class), wire inputs and outputs;
#                      secret values stay encrypted under the demo's passphrase (`local-demo`)
#   Pulumi.local.yaml  the stack config it ran with (its encryptionsalt decrypts those values)
#   utterances/, definitions/   the files the recorded hashes were made from
# The demo's credentials are the sandbox's public demo app; nothing else secret is recorded.
set -euo pipefail

release="${1:-}"
if ! [[ "$release" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "usage: scripts/record-state-fixture.sh vX.Y.Z (the release whose state to record)" >&2
  exit 2
fi
command -v pulumi >/dev/null 2>&1 || {
  echo "record-state-fixture: the pulumi CLI is not on PATH (or: PATH=\"\$(scripts/pulumi-cli.sh):\$PATH\")" >&2
  exit 1
}
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="$repo/tests/fixtures/state/$release"
if [ -e "$target" ]; then
  echo "record-state-fixture: $target exists; a release's fixture is recorded once (remove it to redo)" >&2
  exit 1
fi
if [ -n "$(git -C "$repo" status --porcelain)" ]; then
  echo "record-state-fixture: note: uncommitted changes are not part of the recording (it clones HEAD)" >&2
fi

work="$(mktemp -d -t kore-state-fixture.XXXXXX)"
clone="$work/kore-resources"
cleanup() {
  if [ -x "$clone/scripts/demo.sh" ]; then
    "$clone/scripts/demo.sh" stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "record-state-fixture: cloning $(git -C "$repo" rev-parse --short HEAD) into $clone"
git clone --quiet "$repo" "$clone"
echo "record-state-fixture: running the demo (scripts/demo.sh) with $(pulumi version)"
"$clone/scripts/demo.sh"
PULUMI_BACKEND_URL="file://$clone/.pulumi-state" PULUMI_CONFIG_PASSPHRASE=local-demo \
  PULUMI_SKIP_UPDATE_CHECK=true pulumi stack export --stack local --cwd "$clone" --file "$work/deployment.json"

mkdir -p "$target"
cp "$work/deployment.json" "$clone/Pulumi.local.yaml" "$target/"
cp -R "$clone/utterances" "$clone/definitions" "$target/"
echo "record-state-fixture: wrote $target; add the release to PROVIDER_PATHS and ADDED_OUTPUTS in" \
  "tests/plugin/test_compatibility.py and to the upgrade test in tests/cli/test_cli_e2e.py"
