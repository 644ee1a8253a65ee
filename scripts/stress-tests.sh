#!/usr/bin/env bash
# Run the whole test suite (scripts/test.sh, as CI runs it; TEST_WORKERS applies) several times while other
# processes keep every core busy. A test that depends on timing (a wall-clock duration, two threads racing,
# a too-short socket timeout) fails here long before it fails in CI. Exits non-zero if any run failed.
#
#   scripts/stress-tests.sh                  10 loaded runs of the whole suite
#   scripts/stress-tests.sh -n 3             3 runs
#   scripts/stress-tests.sh -n 5 -- -k sandbox -x    extra arguments after `--` go to pytest
#
# Options (or environment variables):
#   -n, --runs N        STRESS_RUNS         how many runs (default 10)
#   -j, --burners N     STRESS_BURNERS      busy-loop processes (default: one per core, `nproc`)
#   -t, --run-timeout S STRESS_RUN_TIMEOUT  seconds one run may take before it counts as hung (default 1800)
#   -l, --logs DIR      STRESS_LOG_DIR      where each run's output and junit xml go (default: a temp dir)
#
# The load is started before and stopped after each run. Every burner runs under `timeout`, and a trap
# stops the burners and the running suite on exit, Ctrl-C or TERM, so no busy loop outlives the script.
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

runs="${STRESS_RUNS:-10}"
burners="${STRESS_BURNERS:-$(nproc)}"
run_timeout="${STRESS_RUN_TIMEOUT:-1800}"
log_dir="${STRESS_LOG_DIR:-}"
pytest_args=()

while (($#)); do
    case "$1" in
        -n | --runs | -j | --burners | -t | --run-timeout | -l | --logs)
            if (($# < 2)); then
                echo "stress-tests: $1 needs a value (see --help)" >&2
                exit 2
            fi ;;&
        -n | --runs) runs="$2"; shift 2 ;;
        -j | --burners) burners="$2"; shift 2 ;;
        -t | --run-timeout) run_timeout="$2"; shift 2 ;;
        -l | --logs) log_dir="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        --) shift; pytest_args=("$@"); break ;;
        *) echo "stress-tests: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for value in "$runs" "$burners" "$run_timeout"; do
    if ! [[ "$value" =~ ^[0-9]+$ ]]; then
        echo "stress-tests: '$value' is not a whole number (see --help)" >&2
        exit 2
    fi
done

cd "$(dirname "$0")/.."
if [[ ! -x venv/bin/python ]]; then
    echo "stress-tests: venv/bin/python is missing; create it first:" >&2
    echo "  python3 -m venv venv && venv/bin/pip install -r requirements-dev.txt" >&2
    exit 2
fi
made_log_dir=""
if [[ -z "$log_dir" ]]; then
    log_dir="$(mktemp -d "${TMPDIR:-/tmp}/stress-tests.XXXXXX")"
    made_log_dir=1
fi
mkdir -p "$log_dir"

# -- the load --------------------------------------------------------------------------------------------
burner_pids=()
suite_pid=""

start_load() {
    local i
    for ((i = 0; i < burners; i++)); do
        # Bounded even if this script is killed with SIGKILL and no trap runs: the run's own time cap.
        timeout "$run_timeout" sh -c 'while :; do :; done' &
        burner_pids+=("$!")
    done
}

stop_load() {
    local pid
    for pid in "${burner_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${burner_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    burner_pids=()
}

stop_suite() {
    # SIGINT, which `timeout` passes on: pytest stops as after Ctrl-C and runs its teardowns (the tests'
    # sandboxes and plugin processes). If it does not end within 30 s, it is killed.
    local waited=0
    kill -INT "$suite_pid" 2>/dev/null || true
    while kill -0 "$suite_pid" 2>/dev/null && ((waited < 300)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -KILL "$suite_pid" 2>/dev/null || true
    wait "$suite_pid" 2>/dev/null || true
    suite_pid=""
}

cleanup() {
    if [[ -n "$suite_pid" ]]; then
        stop_suite
    fi
    stop_load
    if [[ -n "$made_log_dir" ]]; then
        rmdir "$log_dir" 2>/dev/null || true # only if empty: every run passed
    fi
}
trap cleanup EXIT
trap 'echo; echo "stress-tests: interrupted" >&2; exit 130' INT TERM

# -- one run ---------------------------------------------------------------------------------------------
# Prints the node id of every failed or erroring test in a junit xml file, one per line.
failed_ids() {
    venv/bin/python - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    sys.exit(0)  # no report: the caller says so
for case in root.iter("testcase"):
    if case.find("failure") is None and case.find("error") is None:
        continue
    parts = case.get("classname", "").split(".") if case.get("classname") else []
    # classname is the module path plus any test classes: tests.test_x[.TestClass]
    for cut in range(len(parts), 0, -1):
        if Path(*parts[:cut]).with_suffix(".py").is_file():
            node = "::".join([str(Path(*parts[:cut]).with_suffix(".py")), *parts[cut:], case.get("name", "")])
            break
    else:
        node = ".".join([*parts, case.get("name", "")])  # e.g. a collection error
    print(node)
EOF
}

declare -A failures_by_test=()
runs_done=0
runs_failed=0

for ((run = 1; run <= runs; run++)); do
    log="$log_dir/run-$run.log"
    xml="$log_dir/run-$run.xml"
    started=$SECONDS
    start_load
    status=0
    timeout --signal=INT --kill-after=60 "$run_timeout" \
        scripts/test.sh -p no:cacheprovider -q -rfE --junitxml="$xml" "${pytest_args[@]}" \
        >"$log" 2>&1 &
    suite_pid=$!
    wait "$suite_pid" || status=$?
    suite_pid=""
    stop_load
    runs_done=$run
    elapsed=$((SECONDS - started))
    if ((status == 0)); then
        echo "run $run/$runs: passed in ${elapsed}s ($(tail -n 1 "$log"))"
        rm -f "$log" "$xml"
        continue
    fi
    runs_failed=$((runs_failed + 1))
    mapfile -t ids < <(failed_ids "$xml")
    if ((status == 124 || status == 137)); then
        ids+=("(the run hung: stopped after ${run_timeout}s)")
    elif ((${#ids[@]} == 0)); then
        ids+=("(pytest exited with status $status and reported no failing test)")
    fi
    echo "run $run/$runs: FAILED in ${elapsed}s, log: $log"
    for id in "${ids[@]}"; do
        echo "    $id"
        failures_by_test["$id"]=$((${failures_by_test["$id"]:-0} + 1))
    done
done

# -- summary ---------------------------------------------------------------------------------------------
echo
echo "stress-tests: runs done: $runs_done, runs failed: $runs_failed (load: $burners busy loops on $(nproc) cores)"
if ((runs_failed > 0)); then
    echo "failing tests (runs failed in):"
    for id in "${!failures_by_test[@]}"; do
        printf '  %3d  %s\n' "${failures_by_test[$id]}" "$id"
    done | sort -k1,1nr -k2
    echo "logs of the failed runs: $log_dir"
    exit 1
fi
