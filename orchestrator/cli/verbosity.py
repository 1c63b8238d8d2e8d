"""How much a long command says while it works, and how often: `--quiet`, the default and
`--verbose` (`Verbosity`), and the plain progress line's period (`progress_every_s`: 10 s, or
`BWMIGRATE_PROGRESS_EVERY_S`, which tests set low so they never wait 10 s).

Without a terminal (nohup, CI, a log file) a long command prints a plain progress line every
period, so it is never silent; on a terminal it draws bars (run) or a line per batch. Light on
purpose (no rich, no engine): every command module may import it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from enum import IntEnum

from orchestrator.errors import InputError

__all__ = [
    "DEFAULT_PROGRESS_EVERY_S",
    "PROGRESS_EVERY_VARIABLE",
    "Ticker",
    "Verbosity",
    "progress_every_s",
]

PROGRESS_EVERY_VARIABLE = "BWMIGRATE_PROGRESS_EVERY_S"
DEFAULT_PROGRESS_EVERY_S = 10.0


class Verbosity(IntEnum):
    """How much a long command says while it works (`--quiet`, default, `--verbose`)."""

    QUIET = 0
    NORMAL = 1
    VERBOSE = 2

    @classmethod
    def from_flags(cls, quiet: bool, verbose: bool) -> Verbosity:
        """The verbosity `--quiet` and `--verbose` ask for (both: a usage error)."""
        if quiet and verbose:
            raise InputError("choose one of --quiet and --verbose")
        return cls.QUIET if quiet else cls.VERBOSE if verbose else cls.NORMAL

    def plain_lines(self, is_terminal: bool) -> bool:
        """True when progress is plain lines: not on a terminal, or `--verbose`; never quiet."""
        return self is Verbosity.VERBOSE or (self is Verbosity.NORMAL and not is_terminal)


def progress_every_s(environ: Mapping[str, str]) -> float:
    """How often a plain progress line is printed: `BWMIGRATE_PROGRESS_EVERY_S` (seconds, > 0),
    else 10 s."""
    raw = environ.get(PROGRESS_EVERY_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_PROGRESS_EVERY_S
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise InputError(f"{PROGRESS_EVERY_VARIABLE}={raw!r}: give a number of seconds above 0")
    return value


class Ticker:
    """True at most once every `interval_s` (the first time `interval_s` after it was made)."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._next = clock() + interval_s

    def due(self) -> bool:
        """True when a line is due now (and the next one `interval_s` later)."""
        now = self._clock()
        if now < self._next:
            return False
        self._next = now + self._interval_s
        return True
