#!/usr/bin/env bash
# The main job, locally: start the Kore.ai sandbox and `pulumi up` the `local` stack against it, with a
# file backend in ./.pulumi-state and a passphrase secrets provider. Run it again: nothing is retrained.
# Edit a file under utterances/travel/ and run it again: only that language is retrained.
#
#   scripts/demo.sh            # pulumi up --yes on the local stack
#   scripts/demo.sh preview    # any other pulumi command and flags, e.g. preview, refresh, destroy --yes
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pulumi >/dev/null 2>&1; then
  cat >&2 <<'MSG'
The pulumi CLI is not on PATH. Install it, then run this script again:
  curl -fsSL https://get.pulumi.com | sh        # or: brew install pulumi/tap/pulumi
  (see https://www.pulumi.com/docs/iac/download-install/)
MSG
  exit 1
fi

# The same virtualenv the Pulumi program runs in (Pulumi.yaml: runtime.options.virtualenv).
if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

port="${KORE_SANDBOX_PORT:-8089}"   # Pulumi.local.yaml points kore:host at this port
log=$(mktemp -t kore-sandbox.XXXXXX.log)
venv/bin/python -m kore_resources.sandbox --port "$port" >"$log" 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  grep -q "listening on" "$log" && break
  kill -0 "$sandbox_pid" 2>/dev/null || { cat "$log" >&2; echo "the sandbox did not start" >&2; exit 1; }
  sleep 0.2
done
cat "$log"

# The sandbox's demo JWT app. Against a real host use `pulumi config set --secret kore:clientSecret`.
export KORE_CLIENT_ID=cs-3b1f6a52-8c0d-4e57-9a11-6f2d0c9e7b44
export KORE_CLIENT_SECRET=sandbox-demo-secret-not-for-production
mkdir -p .pulumi-state
export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local-demo}"
pulumi stack select --create local --non-interactive

if [ $# -eq 0 ]; then
  set -- up --yes
fi
pulumi "$@" --stack local
