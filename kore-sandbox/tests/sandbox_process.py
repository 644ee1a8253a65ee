"""`python -m kore_sandbox` as a user starts it, for the tests of the command line."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading

from kore_sandbox.testing import HANG_SECONDS


class SandboxProcess:
    """`python -m kore_sandbox --port 0 --quiet ARGS`, its banner read up to its last line ("Ctrl-C to
    stop"). Its output (stderr too) is read by a thread, so a silent process fails the test after
    HANG_SECONDS instead of hanging it."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kore_sandbox", "--port", "0", "--quiet", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.banner: list[str] = []
        while not self.banner or "Ctrl-C to stop" not in self.banner[-1]:
            line = self._lines.get(timeout=HANG_SECONDS)
            if line is None:
                break  # it exited: the test reads why from the banner
            self.banner.append(line)
        self.url = self.banner[0].rsplit(" ", 1)[1] if self.banner else ""

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> str:
        """Send `sig`, wait for the exit (status 0 expected), and return what it printed after the banner."""
        self.process.send_signal(sig)
        assert self.process.wait(timeout=HANG_SECONDS) == 0
        rest: list[str] = []
        while (line := self._lines.get(timeout=HANG_SECONDS)) is not None:
            rest.append(line)
        return "\n".join(rest)

    def kill(self) -> None:
        """However the test ended: no process left behind."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
