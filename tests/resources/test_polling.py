"""The one polling loop (kore_resources/polling.py), on a fake clock: no sleeping, no network."""

import itertools

import pytest

from kore_resources.errors import HostUnreachableError, KoreApiError
from kore_resources.resources.polling import Verdict, wait_for
from kore_sandbox.testing import VirtualClock

pytestmark = pytest.mark.unit


class Script:
    """Answers reads from a list (a value, or an exception to raise), recording when each read happened."""

    def __init__(self, clock: VirtualClock, answers: list, read_seconds: float = 0.0) -> None:
        self.clock, self.answers, self.read_seconds = clock, list(answers), read_seconds
        self.read_at: list[float] = []

    def __call__(self):
        self.read_at.append(self.clock.now)
        self.clock.advance(self.read_seconds)  # the answer takes this long to come back
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def judge(status, _elapsed):
    return {"done": Verdict.FINISHED, "failed": Verdict.FAILED}.get(status, Verdict.WAITING)


def run(clock, script, deadline=100.0, logs=None, **kwargs):
    return wait_for(
        script,
        judge,
        clock=clock,
        since=0.0,
        deadline=deadline,
        timed_out=lambda last: TimeoutError(f"last: {last}"),
        progress=lambda status: f"status {status}",
        log=(logs if logs is not None else []).append,
        describe="bot b (en): training t",
        **kwargs,
    )


def test_returns_the_first_decisive_verdict_and_its_status():
    clock = VirtualClock(start=0.0)
    assert run(clock, Script(clock, ["running", "running", "failed"])) == (Verdict.FAILED, "failed")


def test_reads_are_scheduled_from_when_the_previous_one_was_sent():
    clock = VirtualClock(start=0.0)
    script = Script(clock, ["running"] * 3 + ["done"], read_seconds=0.4)
    run(clock, script)
    assert script.read_at == [1.0, 2.0, 3.0, 4.0]  # a slow answer does not push the next read back


def test_first_read_can_be_immediate():
    clock = VirtualClock(start=0.0)
    script = Script(clock, ["done"])
    run(clock, script, first=0.0)
    assert script.read_at == [0.0]


def test_transient_errors_are_ridden_out():
    clock = VirtualClock(start=0.0)
    flaky = KoreApiError("HTTP 503", status=503, transient=True)
    logs: list[str] = []
    assert run(clock, Script(clock, [flaky, "running", flaky, "done"]), logs=logs)[0] is Verdict.FINISHED
    assert sum("failed" in line for line in logs) == 2


def test_a_permanent_error_stops_at_once():
    clock = VirtualClock(start=0.0)
    with pytest.raises(KoreApiError, match="401"):
        run(clock, Script(clock, [KoreApiError("HTTP 401", status=401)]))


def test_the_deadline_raises_with_the_last_status():
    clock = VirtualClock(start=0.0)
    with pytest.raises(TimeoutError, match="last: running"):
        run(clock, Script(clock, ["running"] * 100), deadline=10.0)
    assert clock.now == 10.0


def test_with_no_status_ever_read_the_deadline_raises_the_cause():
    clock = VirtualClock(start=0.0)
    refused = KoreApiError("Could not connect", transient=True)
    with pytest.raises(KoreApiError, match="Could not connect"):
        run(clock, Script(clock, [refused] * 100), deadline=5.0)


def test_progress_is_logged_on_change_and_every_30_seconds():
    clock = VirtualClock(start=0.0)
    logs: list[str] = []
    run(clock, Script(clock, ["queued"] + ["running"] * 60 + ["done"]), deadline=1000.0, logs=logs)
    assert logs[0].startswith("status queued") and logs[1].startswith("status running")
    elapsed = [float(line.rsplit(", ", 1)[1].removesuffix("s elapsed")) for line in logs[1:]]
    assert len(logs) < 30  # of 62 reads
    assert all(later - earlier >= 30 for earlier, later in itertools.pairwise(elapsed))


def test_a_host_that_stops_answering_is_the_news_at_the_deadline_not_a_slow_job():
    clock = VirtualClock(start=0.0)
    gone = HostUnreachableError(
        "h stopped answering (connection refused; 6 attempts)", transient=True, refused=True
    )
    logs: list[str] = []
    with pytest.raises(HostUnreachableError) as info:
        run(clock, Script(clock, ["running", "running"] + [gone] * 200), deadline=300.0, logs=logs)
    message = str(info.value)
    assert message.startswith("bot b (en): training t: the status could not be read for the last")
    assert "stopped answering" in message and "nothing was recorded" in message
    # one line when the outage starts, then one every 30 s: not a line per failed read
    assert 2 <= sum("reading the status failed" in line for line in logs) <= 300 / 30 + 1


def test_a_refused_connection_is_reported_as_an_outage_even_when_its_retry_succeeded():
    clock = VirtualClock(start=0.0)
    refused = 0
    answers: list = [KoreApiError("HTTP 503", status=503, transient=True), "running", "refused", "done"]

    def read():
        nonlocal refused
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if answer == "refused":
            refused += 1  # the client's first attempt was refused; its retry got this answer
            return "running"
        return answer

    outages: list[float] = []
    verdict, _ = run(clock, read, refusals=lambda: refused, on_outage=lambda: outages.append(clock.now))
    assert verdict is Verdict.FINISHED and len(outages) == 1
