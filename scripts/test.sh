#!/usr/bin/env bash
# The test command (README: "Run the tests"): unit, sandbox, provider, plugin-protocol, program (mocks),
# lint and type tests; the CLI end-to-end tests run too where `pulumi` is on PATH and skip elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
exec venv/bin/python -m pytest "$@"
