#!/usr/bin/env bash
# The test command (README, "How it is tested"): lint, format and types as steps of their own, then every
# test tier: unit (no sockets, seconds), sandbox (real HTTP on 127.0.0.1), plugin (the real plugin
# process), cli (the real pulumi CLI; skipped where there is none, except with CI=true).
#
#   scripts/test.sh                # everything, as CI runs it
#   scripts/test.sh --fast         # the unit tier only, in one process: the quick loop while editing
#   scripts/test.sh -m plugin -x   # extra arguments go to pytest (the steps before it still run)
#
# The tests mostly wait (on sandbox jobs, plugin processes and the CLI) rather than compute, so they run in
# TEST_WORKERS pytest-xdist workers (default: twice the cores) with work stealing. On 2 cores, 4 workers
# ran the suite in 6.5 min against 11.7 min with 2, the CPU still idle a third of the time. Every test
# takes its ports from the OS and its files from its own temp dirs, so the workers never meet.
# TEST_WORKERS=0 runs them in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
py=venv/bin/python

step() {
  local name="$1"
  shift
  echo "== $name: $*"
  "$@"
}

if [ "${1:-}" = "--fast" ]; then
  shift
  exec "$py" -m pytest -m unit -p no:xdist "$@"
fi

workers="${TEST_WORKERS:-$((2 * $(nproc)))}"
if ! [[ "$workers" =~ ^[0-9]+$ ]]; then
  echo "test.sh: TEST_WORKERS must be a whole number (0 runs the tests in one process), not '$workers'" >&2
  exit 2
fi
parallel=()
if ((workers > 0)); then
  parallel=(-n "$workers" --dist worksteal)
fi

step lint "$py" -m ruff check .
step format "$py" -m ruff format --check .
step types "$py" -m mypy
step "types (scripts)" "$py" -m mypy scripts
step tests "$py" -m pytest "${parallel[@]}" "$@"
