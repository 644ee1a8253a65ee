#!/usr/bin/env bash
# The test command (README: "Run the tests"): unit, sandbox, provider, plugin-protocol, program (mocks),
# lint and type tests; the CLI end-to-end tests run too where `pulumi` is on PATH and skip elsewhere.
#
# The suite mostly waits (on sandbox jobs, plugin processes and the CLI) rather than computes, so it runs
# in TEST_WORKERS pytest-xdist workers (default 2) with work stealing, which keeps both workers busy to
# the end. Every test takes its ports from the OS and its files from its own temp dirs, so the workers
# never meet. TEST_WORKERS=0 runs everything in one process (easier to read, and what `-x` and `--pdb`
# want); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${TEST_WORKERS:-2}"
if ! [[ "$workers" =~ ^[0-9]+$ ]]; then
  echo "test.sh: TEST_WORKERS must be a whole number (0 runs the tests in one process), not '$workers'" >&2
  exit 2
fi
parallel=()
if ((workers > 0)); then
  parallel=(-n "$workers" --dist worksteal)
fi
exec venv/bin/python -m pytest "${parallel[@]}" "$@"
