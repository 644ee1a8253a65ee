#!/usr/bin/env bash
# The main job, locally: start the Kore.ai sandbox and `pulumi up` the `local` stack against it, with a
# file backend in ./.pulumi-state and a passphrase secrets provider. Run it again: nothing is retrained.
# Edit a file under utterances/travel/ and run it again: only that language is retrained.
#
#   scripts/demo.sh            # pulumi up --yes on the local stack
#   scripts/demo.sh preview    # any other pulumi command and flags, e.g. preview --diff, refresh, destroy --yes
#   eval "$(scripts/demo.sh env)"   # the demo's settings in this shell, for bare pulumi commands
#   scripts/demo.sh stop       # stop every sandbox the demo started (each keeps running between runs, like a
#                              # platform, and keeps its state in .pulumi-state across a stop or a reboot)
#
# KORE_SANDBOX_PORT=8090 scripts/demo.sh runs the sandbox on another port (default 8089). Another port is
# another sandbox, so it gets a stack of its own, `local-port-8090` (its config, copied from the local
# stack with kore:host pointed at that port, is Pulumi.local-port-8090.yaml, which git ignores), and its own
# state, log and pid files in .pulumi-state: nothing committed changes, and the local stack stays as it is.
#
# Without `pulumi` on PATH it uses the CLI scripts/pulumi-cli.sh built, or builds it when Go is there
# (scripts/find-pulumi.sh).
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
port=$((10#$port))  # 08090 is port 8090, and the same files

mkdir -p .pulumi-state

# Whether `pid` is a sandbox this demo started (not a process that took its number after a reboot).
is_demo_sandbox() {
  local pid=$1 args
  kill -0 "$pid" 2>/dev/null || return 1
  args=$(ps -p "$pid" -o args= 2>/dev/null || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  [[ "$args" == *kore_sandbox* ]]
}

if [ "${1:-}" = "stop" ]; then
  # Every sandbox the demo started, on any port: one pid file each (sandbox.pid for port 8089, else
  # sandbox-<port>.pid). Each saves its state as it stops; wait until it has.
  stopped=0
  for pid_file in .pulumi-state/sandbox.pid .pulumi-state/sandbox-*.pid; do
    [ -f "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    name=${pid_file##*/sandbox}
    name=${name%.pid}
    on_port=${name#-}
    if is_demo_sandbox "$pid" && kill "$pid" 2>/dev/null; then
      waited=0
      while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 300 ]; do  # 30 s: it stops in a fraction of one
        sleep 0.1
        waited=$((waited + 1))
      done
      echo "Stopped the demo's sandbox on port ${on_port:-8089} (pid $pid); its state is kept in .pulumi-state."
      stopped=$((stopped + 1))
    fi
    rm -f "$pid_file"
  done
  if [ "$stopped" -eq 0 ]; then
    echo "No sandbox of this demo is running."
  fi
  exit 0
fi

# One sandbox per port, each with its own stack and files; port 8089 keeps the names it always had.
url="http://127.0.0.1:$port"
if [ "$port" -eq 8089 ]; then
  stack=local suffix=""
else
  stack="local-port-$port" suffix="-$port"
fi
pid_file=".pulumi-state/sandbox$suffix.pid"
log=".pulumi-state/sandbox$suffix.log"
state_file=".pulumi-state/sandbox-state$suffix.json"

# A real pulumi CLI: the one on PATH, else the one scripts/pulumi-cli.sh built (or builds, with Go), else
# it says how to get one (scripts/find-pulumi.sh).
# shellcheck source=scripts/find-pulumi.sh
source scripts/find-pulumi.sh
find_pulumi || exit 1

# The sandbox's demo JWT app. Against a real host use `pulumi config set --secret kore:clientSecret`.
export KORE_CLIENT_ID=cs-3b1f6a52-8c0d-4e57-9a11-6f2d0c9e7b44
export KORE_CLIENT_SECRET=sandbox-demo-secret-not-for-production
export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
# The local stack's secrets are encrypted with this passphrase (Pulumi.local.yaml): the demo's own.
export PULUMI_CONFIG_PASSPHRASE=local-demo
# The official CLI runs the program in Pulumi.yaml's virtualenv by itself; the CLI that
# scripts/pulumi-cli.sh builds for our CI is told so by its `pulumi` wrapper, or by this.
export PULUMI_PYTHON_CMD="$PWD/venv/bin/python"

if [ "${1:-}" = "env" ]; then
  # The demo's settings as shell lines, for pulumi commands of one's own: eval "$(scripts/demo.sh env)".
  echo "# the settings scripts/demo.sh runs pulumi with; in your shell: eval \"\$(scripts/demo.sh env)\""
  for name in PATH PULUMI_BACKEND_URL PULUMI_CONFIG_PASSPHRASE KORE_CLIENT_ID KORE_CLIENT_SECRET PULUMI_PYTHON_CMD; do
    printf 'export %s=%q\n' "$name" "${!name}"
  done
  [ -x venv/bin/python ] || echo "# ./venv does not exist yet: run scripts/demo.sh once first" >&2
  [ "$stack" = local ] || echo "# this port's stack: pulumi stack select $stack"
  exit 0
fi

# The same virtualenv the Pulumi program runs in (Pulumi.yaml: runtime.options.virtualenv).
if [ ! -x venv/bin/python ]; then
  python3 -m venv venv
fi
# The program's requirements, and the sandbox (its own distribution, kore-sandbox/), editable as in
# requirements-dev.txt, so the demo and the tests share one venv without reinstalling each other's copy.
# Installed again only when they changed (a stamp in the venv): pip rebuilds the editable sandbox every
# time, which made each run some 8 s longer.
stamp=venv/.kore-demo-requirements
wanted="$(cat requirements.txt kore-sandbox/pyproject.toml | cksum)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ] ||
  ! venv/bin/python -c "import importlib.util as u, sys; sys.exit(not all(map(u.find_spec, sys.argv[1:])))" \
    kore_sandbox pulumi requests jwt 2>/dev/null; then
  venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e ./kore-sandbox
  printf '%s\n' "$wanted" >"$stamp"
fi

# The sandbox stands for the Kore.ai platform, so it outlives one run: the first run starts it in the
# background and later runs use it (a refresh then reads what earlier runs deployed). It keeps its bots'
# state in $state_file, beside the stack's, so a stop or a reboot loses nothing. `scripts/demo.sh stop`
# stops it.
if venv/bin/python scripts/demo_sandbox.py running "$url"; then
  echo "Using the Kore.ai sandbox already running at $url (stop it with: scripts/demo.sh stop)"
else
  # Emptied here, not by the redirection below: that one happens in the background, and until it has, the
  # wait would read the last run's "listening on" and go on before this sandbox listens.
  : >"$log"
  nohup venv/bin/python -m kore_sandbox --port "$port" --state-file "$state_file" >>"$log" 2>&1 &
  echo $! >"$pid_file"
  until grep -qs "listening on" "$log"; do
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

if [ "$stack" = local ]; then
  pulumi stack select --create local --non-interactive
elif ! pulumi stack select "$stack" --non-interactive >/dev/null 2>&1; then
  # A sandbox on another port is another platform: a stack of its own, with the local stack's config
  # (secrets re-encrypted for it) and kore:host on that port, in a config file git ignores.
  echo "A stack for the sandbox on port $port: $stack (config: Pulumi.$stack.yaml, not committed)"
  rm -f "Pulumi.$stack.yaml"  # left from a stack whose state was deleted: start it afresh
  pulumi stack select --create local --non-interactive >/dev/null  # the stack the config is copied from
  pulumi stack init "$stack" --copy-config-from local --non-interactive
fi
if [ "$stack" != local ] && [ "$(pulumi config get kore:host --stack "$stack" 2>/dev/null || true)" != "$url" ]; then
  pulumi config set kore:host "$url" --stack "$stack"
fi

if [ $# -eq 0 ]; then
  set -- up --yes
fi
status=0
pulumi "$@" --stack "$stack" || status=$?

echo "The sandbox logged $(venv/bin/python scripts/demo_sandbox.py count "$url") API calls during this run."
exit "$status"
