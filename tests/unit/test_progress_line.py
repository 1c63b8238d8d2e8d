"""The plain progress line and its period (`orchestrator.cli.progress`, `.verbosity`): what a
run without a terminal prints, and how tests shorten the 10 s period."""

from __future__ import annotations

import pytest

from orchestrator.cli.progress import PlainProgress, run_progress_line
from orchestrator.cli.verbosity import Ticker, Verbosity, progress_every_s
from orchestrator.cutover.engine import Progress
from orchestrator.errors import InputError
from orchestrator.state.store import StepCounts


def _snap(succeeded: int, failed: int, total: int, elapsed_s: float) -> Progress:
    pending = total - succeeded - failed
    step = StepCounts(step=1, name="import-1", kind="import", total=total,
                      succeeded=succeeded, failed=failed, pending=pending)  # fmt: skip
    return Progress(steps=[step], in_flight=1, requests=40, elapsed_s=elapsed_s,
                    request_rate_per_s=4.0)  # fmt: skip


def test_the_line_gives_counts_rate_and_eta() -> None:
    """300 of 1,000 numbers in 60 s: 140 s left at that pace."""
    line = run_progress_line(_snap(290, 10, 1000, 60.0))
    assert line == (
        "progress: 300/1000 numbers done (10 failed), 1 order in flight, 40 requests "
        "(4.0/s, 0 rate-limited), 1m00s elapsed, ETA 2m20s"
    )


def test_nothing_done_yet_has_no_eta() -> None:
    """A server that never answers: the line still comes, its ETA unknown."""
    assert run_progress_line(_snap(0, 0, 50, 188.0)).endswith("3m08s elapsed, ETA unknown")


def test_lines_come_once_per_period() -> None:
    """A line at most every period, the first one period after the start."""
    now = [0.0]
    written: list[str] = []
    lines = PlainProgress(written.append, 10.0, clock=lambda: now[0])
    for t in (0.0, 5.0, 10.0, 12.0, 19.9, 20.5):
        now[0] = t
        lines.update(_snap(1, 0, 5, t or 1.0))
    assert len(written) == 2


def test_ticker_is_due_every_period() -> None:
    now = [100.0]
    ticker = Ticker(2.0, clock=lambda: now[0])
    due = []
    for t in (100.5, 102.0, 103.0, 104.1):
        now[0] = t
        due.append(ticker.due())
    assert due == [False, True, False, True]


@pytest.mark.parametrize(("raw", "expected"), [(None, 10.0), ("0.2", 0.2), ("30", 30.0)])
def test_the_period_comes_from_the_environment(raw: str | None, expected: float) -> None:
    environ = {} if raw is None else {"BWMIGRATE_PROGRESS_EVERY_S": raw}
    assert progress_every_s(environ) == expected


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "inf", "nan"])
def test_a_bad_period_is_an_input_error(raw: str) -> None:
    with pytest.raises(InputError, match="BWMIGRATE_PROGRESS_EVERY_S"):
        progress_every_s({"BWMIGRATE_PROGRESS_EVERY_S": raw})


def test_verbosity_flags() -> None:
    assert Verbosity.from_flags(False, False) is Verbosity.NORMAL
    assert Verbosity.from_flags(True, False).plain_lines(is_terminal=False) is False
    assert Verbosity.from_flags(False, True).plain_lines(is_terminal=True) is True
    assert Verbosity.NORMAL.plain_lines(is_terminal=False) is True
    with pytest.raises(InputError):
        Verbosity.from_flags(True, True)
