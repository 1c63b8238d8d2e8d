"""One scanned file: its text with the lazily computed facts the rules share, and a rule's hit.

This module owns `ScannedFile` (the lower-cased text, whether the file talks to Bandwidth,
uses a v1 base URL or only v2, already handles E.164; positions, lines, windows and URL tokens
around an offset), `Hit` (what a rule found: a span, a message, the v2 replacement, the safe
fix if any) and `Matcher`, the type of a rule's search. The patterns rules share with these
facts (`V1_BASE`, `PLUS_ONE`) live here.

Pure: text in, facts out. Imports only the standard library; never another module of this
package.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["PLUS_ONE", "V1_BASE", "Hit", "Matcher", "ScannedFile"]


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule found in [start, end): its message, the v2 replacement, the safe fix if any."""

    start: int
    end: int
    message: str
    replacement: str
    fix: str | None = None  # the text replacing [start:end]


class ScannedFile:
    """One file's text with the lazily computed facts rules share."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.lower = text.lower()
        low = self.lower
        self.bw = any(m in low for m in _BANDWIDTH_MARKERS)
        self.v1 = "bandwidth.com" in low and V1_BASE.search(text) is not None
        self.v2_only = "api/v2" in low and not self.v1
        self._starts: list[int] | None = None
        self._e164: bool | None = None
        self._newlines: list[int] | None = None  # offsets of "\n" in `lower`
        self._stops: dict[int, list[int]] = {}  # segment of `lower` -> its token stops

    @property
    def e164_aware(self) -> bool:
        """The file already handles E.164 (or asks for LEGACY numbers)."""
        if self._e164 is None:
            low = self.lower
            self._e164 = any(m in low for m in _E164_MARKERS) or bool(PLUS_ONE.search(self.text))
        return self._e164

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 1-based column) of a character offset."""
        line = bisect.bisect_right(self._line_starts(), offset)
        return line, offset - self._line_starts()[line - 1] + 1

    def line_text(self, line: int) -> str:
        start, end = self.line_span(self._line_starts()[line - 1])
        return self.text[start:end]

    def line_span(self, offset: int) -> tuple[int, int]:
        """[start, end) of the line of `text` holding `offset` (a "\n" ends its own line)."""
        starts = self._line_starts()
        line = bisect.bisect_right(starts, offset)
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return starts[line - 1], end

    def window(self, offset: int, lines: int) -> str:
        """The lower-cased text `lines` lines around `offset`."""
        start, end = self.window_span(offset, lines)
        return self.lower[start:end]

    def window_span(self, offset: int, lines: int) -> tuple[int, int]:
        """[start, end) of `window(offset, lines)` in `lower`: equal spans, equal windows, so a
        rule with many hits on one line looks at that line's window once."""
        newlines = self._lower_newlines()
        before = bisect.bisect_left(newlines, offset) - (lines + 1)  # the newline it starts at
        after = bisect.bisect_left(newlines, offset + 1) + lines  # the newline it ends at
        start = newlines[before] if before >= 0 else 0
        end = newlines[after] if after < len(newlines) else len(self.lower)
        return start, end

    def token(self, start: int, end: int) -> str:
        """The lower-cased URL-ish token holding [start, end) (up to a quote or whitespace)."""
        left, right = self.token_span(start, end)
        return self.lower[left:right]

    def token_span(self, start: int, end: int) -> tuple[int, int]:
        """[start, end) of `token(start, end)` in `lower`: hits in one long token (a minified
        line) share its span, found from each line's stops, listed once."""
        newlines = self._lower_newlines()
        segment = bisect.bisect_left(newlines, start)  # tokens never cross a newline
        stops = self._segment_stops(segment)
        before = bisect.bisect_left(stops, start)
        left = stops[before - 1] + 1 if before else (newlines[segment - 1] + 1 if segment else 0)
        segment = bisect.bisect_left(newlines, end)
        stops = self._segment_stops(segment)
        after = bisect.bisect_left(stops, end)
        if after < len(stops):
            right = stops[after]
        else:
            right = newlines[segment] if segment < len(newlines) else len(self.lower)
        return left, right

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        return self._starts

    def _lower_newlines(self) -> list[int]:
        # `lower` may be longer than `text` (str.lower() of "İ" is two characters): it has its own
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.lower)]
        return self._newlines

    def _segment_stops(self, segment: int) -> list[int]:
        """Offsets of the token stops in the `segment`-th run of `lower` between newlines."""
        stops = self._stops.get(segment)
        if stops is None:
            newlines = self._lower_newlines()
            start = newlines[segment - 1] + 1 if segment else 0
            end = newlines[segment] if segment < len(newlines) else len(self.lower)
            stops = [m.start() for m in _TOKEN_STOP.finditer(self.lower, start, end)]
            self._stops[segment] = stops
        return stops


_TOKEN_STOP = re.compile(r"[ \t\r\n'\"`<>()]")  # a token ends before and after these
_BANDWIDTH_MARKERS = (
    "bandwidth", "telephonenumber", "sippeer", "sip_peer", "inservicenumber", "importtnorder",
    "externaltns", "tnoption",
)  # fmt: skip
_E164_MARKERS = (
    "e164", "e.164", "libphonenumber", "import phonenumbers", "phonenumbers.", "phonelib",
    "numberformat>legacy",
)  # fmt: skip
PLUS_ONE = re.compile(r"[\"'`]\\?\+1|\\\+1")


V1_BASE = re.compile(
    r"(?P<scheme>https?://)?(?P<test>test\.)?(?:dashboard|api)\.bandwidth\.com"
    r"(?P<path>/api/v1(?![\w.])(?!/(?:oauth2|credentials)\b)|/v1\.0(?![\w.])|/api(?![\w.])(?!/v\d))",
    re.IGNORECASE,
)


Matcher = Callable[[ScannedFile], Iterator[Hit]]
