"""Compare a recording of what a Kore.ai host answered with what the sandbox answers to the same calls.

A recording is what the acceptance suite (tests/acceptance) writes through its recording proxy, against a
tenant or the sandbox (README, "Testing against your own tenant"): per exchange the method, the path with
ids replaced, the status and the shape of the answer (keys and value types), nothing else.

This script runs the same lifecycle against a fresh sandbox while recording it (the suite's lifecycle
test, with KORE_ACCEPTANCE_RECORDING and no tenant variables; it needs the pulumi CLI on PATH and takes
about a minute), or takes such a recording (--sandbox-recording), and compares the two endpoint by
endpoint: endpoints called on one side only, statuses answered on one side only, and for each status both
answered, the paths into the answers found on one side only or with other types (over all of that
endpoint's answers with that status).

  venv/bin/python scripts/compare-recording.py .pulumi-state/acceptance/recording.json
  venv/bin/python scripts/compare-recording.py RECORDING --sandbox-recording SANDBOX_RECORDING
  venv/bin/python scripts/compare-recording.py --check RECORDING   # every string the file holds

Exit status: 0 no difference (or --check found only shapes), 1 differences (each listed), 2 a recording
could not be read, or the sandbox's run failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from kore_sandbox.recording import Difference, Recording, RecordingError, compare, words_of

ROOT = Path(__file__).resolve().parent.parent
#: The suite's lifecycle test: against the sandbox when no tenant variable is set.
LIFECYCLE_TEST = "tests/acceptance/test_acceptance.py::test_the_whole_lifecycle_against_the_target"


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="compare-recording.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("recording", type=Path, help="the recording to compare (e.g. a tenant's)")
    parser.add_argument(
        "--sandbox-recording",
        type=Path,
        metavar="FILE",
        help="a recording of the same lifecycle against the sandbox, instead of running it now",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only read RECORDING and list every string in it besides type names (to see it holds no secret)",
    )
    return parser.parse_args(argv)


def read(path: Path) -> Recording:
    """The recording at `path` (RecordingError naming the file and what is wrong with it)."""
    try:
        return Recording.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecordingError(f"{path}: cannot be read: {exc.strerror}") from None
    except RecordingError as exc:
        raise RecordingError(f"{path}: {exc}") from None


class SandboxRunError(Exception):
    """The sandbox's side could not be recorded."""


def record_sandbox_run(recording: Path) -> str | None:
    """Run the suite's lifecycle against a fresh sandbox, recorded to `recording`; what failed, or None."""
    if shutil.which("pulumi") is None:
        return (
            "the pulumi CLI is not on PATH: the sandbox's side is recorded by running the acceptance suite's "
            "lifecycle through it (scripts/pulumi-cli.sh builds one), or give --sandbox-recording"
        )
    env = {name: value for name, value in os.environ.items() if not name.startswith("KORE_ACCEPTANCE_")}
    env["KORE_ACCEPTANCE_RECORDING"] = str(recording)
    print("compare-recording: running the acceptance lifecycle against a fresh sandbox ...", file=sys.stderr)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", LIFECYCLE_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return f"the sandbox's run failed (pytest exit {result.returncode}):\n{result.stdout}{result.stderr}"
    return None


def sandbox_recording(given: Path | None) -> Recording:
    """The given recording of the sandbox, or one of a fresh run (SandboxRunError saying what failed)."""
    if given is not None:
        return read(given)
    with tempfile.TemporaryDirectory(prefix="kore-compare-") as scratch:
        fresh = Path(scratch) / "sandbox-recording.json"
        failure = record_sandbox_run(fresh)
        if failure is not None:
            raise SandboxRunError(failure)
        return read(fresh)


def report(differences: list[Difference], recorded: Recording, sandbox: Recording, name: str) -> str:
    """What the comparison found, one difference a line."""
    endpoints = {e.endpoint for e in recorded.exchanges} | {e.endpoint for e in sandbox.exchanges}
    head = (
        f"Compared {name} ({recorded.target}, {len(recorded.exchanges)} exchanges) with the sandbox's "
        f"answers ({len(sandbox.exchanges)} exchanges, {len(endpoints)} endpoints):"
    )
    if not differences:
        return f"{head} no differences"
    lines = [f"{head} {len(differences)} difference{'s' if len(differences) != 1 else ''}"]
    return "\n".join([*lines, *(f"  - {difference.describe()}" for difference in differences)])


def main(argv: list[str]) -> int:
    args = arguments(argv)
    try:
        recorded = read(args.recording)
        if args.check:
            print(f"{args.recording} holds shapes only. Besides type names, these are all the strings in it:")
            print("\n".join(f"  {word}" for word in words_of(recorded)))
            return 0
        sandbox = sandbox_recording(args.sandbox_recording)
    except (RecordingError, SandboxRunError) as exc:
        print(f"compare-recording: {exc}", file=sys.stderr)
        return 2
    differences = compare(recorded, sandbox)
    print(report(differences, recorded, sandbox, str(args.recording)))
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
