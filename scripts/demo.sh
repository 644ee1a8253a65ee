#!/usr/bin/env bash
# The main job, locally: start the Kore.ai sandbox and `pulumi up` the `local` stack against it, with a
# file backend in ./.pulumi-state and a passphrase secrets provider. Run it again: nothing is retrained.
# Edit a file under utterances/travel/ and run it again: only that language is retrained.
#
#   scripts/demo.sh            # pulumi up --yes on the local stack
#   scripts/demo.sh preview    # any other pulumi command and flags, e.g. preview --diff, refresh, destroy --yes
#   scripts/demo.sh stop       # stop the sandbox (it keeps running between runs, like a platform)
#
# KORE_SANDBOX_PORT=8090 scripts/demo.sh runs the sandbox on another port (default 8089) and points the
# local stack's kore:host at it (`pulumi config set kore:host`, in Pulumi.local.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${KORE_SANDBOX_PORT:-8089}"
case "$port" in
  '' | *[!0-9]*) echo "KORE_SANDBOX_PORT=$port is not a port number; use e.g. KORE_SANDBOX_PORT=8090" >&2; exit 2 ;;
esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  echo "KORE_SANDBOX_PORT=$port is out of range; use a port from 1 to 65535, e.g. KORE_SANDBOX_PORT=8090" >&2
  exit 2
fi

url="http://127.0.0.1:$port"
mkdir -p .pulumi-state
pid_file=.pulumi-state/sandbox.pid
if [ "${1:-}" = "stop" ]; then
  if [ -f "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null; then
    echo "Stopped the demo's sandbox."
  else
    echo "No sandbox of this demo is running."
  fi
  rm -f "$pid_file"
  exit 0
fi

# A real pulumi CLI: the one on PATH, else the one scripts/pulumi-cli.sh built (or builds, with Go), else
# it says how to get one (scripts/find-pulumi.sh).
# shellcheck source=scripts/find-pulumi.sh
source scripts/find-pulumi.sh
find_pulumi || exit 1

# The same virtualenv the Pulumi program runs in (Pulumi.yaml: runtime.options.virtualenv).
if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
# The program's requirements, and the sandbox (its own distribution, kore-sandbox/), editable as in
# requirements-dev.txt, so the demo and the tests share one venv without reinstalling each other's copy.
venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e ./kore-sandbox
# The official CLI runs the program in Pulumi.yaml's virtualenv by itself; the CLI that
# scripts/pulumi-cli.sh builds for our CI needs to be told (README, "How it is tested").
export PULUMI_PYTHON_CMD="$PWD/venv/bin/python"

# The sandbox stands for the Kore.ai platform, so it outlives one run: the first run starts it in the
# background and later runs use it (a refresh then reads what earlier runs deployed). `scripts/demo.sh stop`
# stops it.
if venv/bin/python scripts/demo_sandbox.py running "$url"; then
  echo "Using the Kore.ai sandbox already running at $url (stop it with: scripts/demo.sh stop)"
else
  log=.pulumi-state/sandbox.log
  nohup venv/bin/python -m kore_sandbox --port "$port" >"$log" 2>&1 &
  echo $! >"$pid_file"
  until grep -q "listening on" "$log"; do
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      cat "$log" >&2
      rm -f "$pid_file"
      if grep -qi "address already in use" "$log"; then
        echo "Port $port is busy (another program is listening there). Stop it, or pick another port: KORE_SANDBOX_PORT=8090 scripts/demo.sh" >&2
      fi
      echo "the sandbox did not start" >&2
      exit 1
    fi
    sleep 0.1
  done
  cat "$log"
  echo "Started the Kore.ai sandbox at $url; it keeps running for the next runs (log: $log; stop it with: scripts/demo.sh stop)"
fi
venv/bin/python scripts/demo_sandbox.py clear "$url"

# The sandbox's demo JWT app. Against a real host use `pulumi config set --secret kore:clientSecret`.
export KORE_CLIENT_ID=cs-3b1f6a52-8c0d-4e57-9a11-6f2d0c9e7b44
export KORE_CLIENT_SECRET=sandbox-demo-secret-not-for-production
export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
# The local stack's secrets are encrypted with this passphrase (Pulumi.local.yaml): the demo's own.
export PULUMI_CONFIG_PASSPHRASE=local-demo
pulumi stack select --create local --non-interactive

host="http://127.0.0.1:$port"
if [ "$(pulumi config get kore:host --stack local 2>/dev/null || true)" != "$host" ]; then
  echo "Pointing the local stack at the sandbox: pulumi config set kore:host $host (Pulumi.local.yaml)"
  pulumi config set kore:host "$host" --stack local
fi

if [ $# -eq 0 ]; then
  set -- up --yes
fi
status=0
pulumi "$@" --stack local || status=$?

echo "The sandbox logged $(venv/bin/python scripts/demo_sandbox.py count "$url") API calls during this run."
exit "$status"
