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

    @property
    def e164_aware(self) -> bool:
        """The file already handles E.164 (or asks for LEGACY numbers)."""
        if self._e164 is None:
            low = self.lower
            self._e164 = any(m in low for m in _E164_MARKERS) or bool(PLUS_ONE.search(self.text))
        return self._e164

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 1-based column) of a character offset."""
        if self._starts is None:
            self._starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def line_text(self, line: int) -> str:
        assert self._starts is not None
        start = self._starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)]

    def window(self, offset: int, lines: int) -> str:
        """The lower-cased text `lines` lines around `offset`."""
        start = offset
        for _ in range(lines + 1):
            start = self.lower.rfind("\n", 0, start)
            if start < 0:
                start = 0
                break
        end = offset
        for _ in range(lines + 1):
            end = self.lower.find("\n", end + 1)
            if end < 0:
                end = len(self.lower)
                break
        return self.lower[start:end]

    def token(self, start: int, end: int) -> str:
        """The lower-cased URL-ish token holding [start, end) (up to a quote or whitespace)."""
        left = start
        while left > 0 and self.lower[left - 1] not in _TOKEN_STOPS:
            left -= 1
        right = end
        while right < len(self.lower) and self.lower[right] not in _TOKEN_STOPS:
            right += 1
        return self.lower[left:right]


_TOKEN_STOPS = frozenset(" \t\r\n'\"`<>()")
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
