"""`python -m kore_sandbox`: run the Kore.ai sandbox until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import time
from types import FrameType

from .persistence import StateFileError
from .readings import DEFAULT_READINGS, READINGS, check_reading
from .server import Sandbox, is_loopback_host

# argparse prints an ArgumentTypeError's message after the option's name:
# "argument --training-seconds: 'abc' is not a number of seconds (e.g. 5 or 0.5)".


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None


def _seconds(text: str) -> float:
    value = _number(text, "a number of seconds (e.g. 5 or 0.5)")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0 (e.g. 5 or 0.5)")
    return value


def _rate(text: str) -> float:
    value = _number(text, "a probability from 0 to 1 (e.g. 0.1)")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability from 0 to 1 (e.g. 0.1)")
    return value


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port: use 1 to 65535 (e.g. 8090), or 0 for any free port"
        )
    return port


def _reading(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE (e.g. publish-words=hyphenated)")
    try:
        return name.strip(), check_reading(name.strip(), value.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _readings_help() -> str:
    """The --help epilog: every reading, its values (the default first) and what it decides."""
    lines = ["readings (--reading NAME=VALUE; the first value is the default; GET /_sandbox/readings and"]
    lines.append("kore-sandbox/README.md describe each value):")
    for reading in READINGS:
        lines.append(f"  {reading.name:<26}{' | '.join(reading.values)}")
        lines.append(f"  {'':<26}{reading.question}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kore_sandbox",
        description="Local emulator of the documented Kore.ai public API (ML training, utterance import and "
        "export, bot definition import, bot variables, publish).",
        epilog=_readings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the epilog's table as it is
    )
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8089, help="port (0 = any free port; default 8089)")
    p.add_argument("--training-seconds", type=_seconds, default=5.0, help="training duration (5)")
    p.add_argument("--queue-seconds", type=_seconds, default=1.0, help="time queued before training (1)")
    p.add_argument("--fail-rate", type=_rate, default=0.0, help="probability a training fails (0)")
    p.add_argument("--import-seconds", type=_seconds, default=1.0, help="ML import duration (1)")
    p.add_argument("--publish-seconds", type=_seconds, default=2.0, help="publish duration (2)")
    p.add_argument(
        "--definition-import-seconds",
        type=_seconds,
        default=1.0,
        help="bot definition import duration (1)",
    )
    p.add_argument("--export-seconds", type=_seconds, default=1.0, help="ML export duration (1)")
    p.add_argument(
        "--reading",
        type=_reading,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="play another answer to an open question (repeatable; the readings are listed below)",
    )
    p.add_argument(
        "--state-file",
        metavar="PATH",
        help="keep what the bots hold (trainings, utterances, variables, imports, publishes, files) in PATH "
        "across restarts: loaded at start if it exists, saved after every change (default: in memory only)",
    )
    p.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not is_loopback_host(args.host):
        parser.error(
            f"refusing --host {args.host}: the sandbox uses fixed, published credentials and must only "
            "listen on a loopback address (127.0.0.1, ::1 or localhost)"
        )
    try:
        sandbox = Sandbox(
            args.host,
            args.port,
            args.training_seconds,
            args.queue_seconds,
            fail_rate=args.fail_rate,
            log_requests=not args.quiet,
            import_seconds=args.import_seconds,
            publish_seconds=args.publish_seconds,
            definition_import_seconds=args.definition_import_seconds,
            export_seconds=args.export_seconds,
            readings=dict(args.reading),
            state_file=args.state_file,
        ).start()
    except StateFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        hint = (
            "; another program is listening there: stop it, or pick another port with --port (e.g. "
            "--port 8090, or --port 0 for any free one)"
            if err.errno == errno.EADDRINUSE
            else ""
        )
        reason = err.strerror or err
        print(f"error: cannot listen on {args.host}:{args.port}: {reason}{hint}", file=sys.stderr)
        return 1

    # A signal handler runs in the main thread between any two bytecodes, so it must not take a lock:
    # `threading.Event.set()` would, and it deadlocks if the signal lands while `Event.wait()` holds that
    # very lock (seen under load: SIGTERM left the sandbox running forever). It sets a flag instead.
    stopping: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    lines = [f"Kore.ai sandbox listening on {sandbox.url}", sandbox.state_line]
    kind_names = {"bot": "bot-level", "admin": "Admin Console"}
    for app in sandbox.apps:
        jti = "  [Enforce JTI]" if app.enforce_jti else ""
        kinds = " + ".join(kind_names[k] for k in sorted(app.kinds, key=list(kind_names).index))
        lines.append(
            f"app {app.name}: client id {app.client_id}  client secret {app.client_secret}{jti}  "
            f"(export KORE_CLIENT_ID={app.client_id} KORE_CLIENT_SECRET={app.client_secret})  [{kinds}]"
        )
    for bot in sandbox.bots:
        lines.append(f"bot {bot.name}: {bot.bot_id}  (languages: {', '.join(bot.languages)})")
    export = sandbox.ml_export
    fallback = (
        "  (127.0.0.2 cannot be bound here: another port of the API address)"
        if export.download_fallback
        else ""
    )
    lines.append(f"ML export downloads served at {export.download_base_url}{fallback}")
    changed = [
        f"{name}={value}" for name, value in sandbox.readings.items() if value != DEFAULT_READINGS[name]
    ]
    lines.append(f"readings: {', '.join(changed) if changed else 'the defaults'} (GET /_sandbox/readings)")
    lines.append(
        f"training {args.training_seconds:g} s after {args.queue_seconds:g} s queued, "
        f"fail rate {args.fail_rate:g}; ML imports {args.import_seconds:g} s, publishes "
        f"{args.publish_seconds:g} s, definition imports {args.definition_import_seconds:g} s, ML exports "
        f"{args.export_seconds:g} s; admin API at {sandbox.url}/_sandbox/info; Ctrl-C to stop"
    )
    print("\n".join(lines), flush=True)
    try:
        while not stopping:
            time.sleep(0.1)
    finally:
        sandbox.stop()
    print("Kore.ai sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
