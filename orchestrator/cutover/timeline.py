"""The run over time: requests per second, 429s and retried answers, orders in flight and
numbers finished, in equal time buckets, with each run's start, end or interruption marked.

Pure: built from what the caller read (audit lines, the orders' sent/finished times, the
numbers' finish times, the runs) and the time "now" it passes in. Reads no file, no clock.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_BUCKETS = 120
_EXIT_WORDS = {
    0: "done",
    1: "finished with failures",
    2: "bad input",
    3: "aborted",
    4: "state file locked",
    130: "interrupted",
}


@dataclass(frozen=True, slots=True)
class Bucket:
    """One slice of time: what happened in it, and where the run stood at its end."""

    start: float
    requests: int = 0
    throttled: int = 0  # answers 429: the API asked us to slow down
    retried: int = 0  # answers 5xx or no answer: the request was sent again
    in_flight: int = 0  # orders sent and not finished at the bucket's end
    finished: int = 0  # numbers finished by the bucket's end (cumulative)


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment worth a vertical line: a run started, resumed, ended or was interrupted."""

    at: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """The run over time; empty `buckets` when nothing has been sent yet."""

    start: float
    width_s: float
    rate_per_s: float
    buckets: list[Bucket] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    @property
    def end(self) -> float:
        """Where the last bucket ends."""
        return self.start + self.width_s * len(self.buckets)


@dataclass(slots=True)
class _Counts:
    requests: int = 0
    throttled: int = 0
    retried: int = 0


def exchange_times(lines: Iterable[Mapping[str, Any]]) -> list[tuple[float, int | None]]:
    """(epoch seconds, HTTP status or None) of every exchange line of an audit log."""
    out: list[tuple[float, int | None]] = []
    for line in lines:
        if line.get("type") != "exchange" or not isinstance(line.get("at"), str):
            continue
        try:
            at = datetime.fromisoformat(line["at"]).timestamp()
        except ValueError:
            continue
        status = line.get("status")
        out.append((at, status if isinstance(status, int) else None))
    return out


def run_marks(runs: Sequence[Mapping[str, Any]], running: bool, last_seen: float) -> list[Mark]:
    """A mark where each run started (a resume after the first) and where it ended, how; a run
    killed before it could record its end is marked where the next began (or last was seen)."""
    marks: list[Mark] = []
    for i, run in enumerate(runs):
        word = "started" if i == 0 else "resumed"
        marks.append(Mark(run["started_at"], f"run {run['id']} {word}"))
        if run["ended_at"] is not None:
            code = run["exit_code"]
            how = _EXIT_WORDS.get(code, f"exit {code}")
            marks.append(Mark(run["ended_at"], f"run {run['id']} ended: {how} ({code})"))
        elif not (running and i == len(runs) - 1):
            at = runs[i + 1]["started_at"] if i + 1 < len(runs) else last_seen
            marks.append(Mark(at, f"run {run['id']} stopped without recording an end (killed?)"))
    return marks


def _done_by(times: list[float], cumulative: list[int], edge: float) -> int:
    """How many had finished by `edge` (`cumulative[i]`: by `times[i]`)."""
    i = bisect.bisect_right(times, edge)
    return cumulative[i - 1] if i else 0


def _span(
    exchanges: Sequence[tuple[float, int | None]],
    runs: Sequence[Mapping[str, Any]],
    spans: Sequence[tuple[float, float | None]],
    now: float,
) -> tuple[float, float] | None:
    """The first and last moment the timeline shows (None: nothing happened yet)."""
    starts = [t for t, _ in exchanges] + [r["started_at"] for r in runs] + [s for s, _ in spans]
    if not starts:
        return None
    ends = [t for t, _ in exchanges] + [r["ended_at"] or now for r in runs]
    ends += [e or now for _, e in spans]
    return min(starts), max(max(ends), min(starts) + 1.0)


def build_timeline(
    exchanges: Sequence[tuple[float, int | None]],
    spans: Sequence[tuple[float, float | None]],
    finished: Sequence[tuple[float, int]],
    runs: Sequence[Mapping[str, Any]],
    *,
    rate_per_s: float,
    now: float,
    running: bool = False,
) -> Timeline:
    """Bucket the exchanges, orders and finished numbers of a state file's runs.

    `finished` is (time, how many numbers finished then), in time order."""
    span = _span(exchanges, runs, spans, now)
    if span is None:
        return Timeline(start=now, width_s=1.0, rate_per_s=rate_per_s)
    first, last = span
    width = max(1.0, (last - first) / MAX_BUCKETS)
    n = max(1, min(MAX_BUCKETS, math.ceil((last - first) / width)))
    counts = [_Counts() for _ in range(n)]
    for at, status in exchanges:
        c = counts[min(n - 1, max(0, int((at - first) / width)))]
        c.requests += 1
        if status == 429:
            c.throttled += 1
        elif status is None or status >= 500:
            c.retried += 1
    sent = sorted(s for s, _ in spans)
    done = sorted(e for _, e in spans if e is not None)
    finish_at = [t for t, _ in finished]
    finished_by = list(itertools.accumulate(n for _, n in finished))
    buckets = []
    for i, c in enumerate(counts):
        edge = first + width * (i + 1)
        flying = bisect.bisect_right(sent, edge) - bisect.bisect_right(done, edge)
        buckets.append(
            Bucket(
                first + width * i,
                c.requests,
                c.throttled,
                c.retried,
                flying,
                _done_by(finish_at, finished_by, edge),
            )
        )
    return Timeline(first, width, rate_per_s, buckets, run_marks(runs, running, last))
