"""The per-line facts the scan rules share (windows, URL tokens, integer parses) against the
character-by-character definitions they replaced, on random lines.

Rules with many hits on one long line (a minified bundle) read each line's facts once; these
answers must be the ones a fresh backward scan from each hit gives. The references below are
those scans, as they were written before (git e630edc).
"""

from __future__ import annotations

import random
import re

from orchestrator.v1.scan_rules.number_format import _CUT, _INT_AFTER, _INT_CALL, _inside_int_call
from orchestrator.v1.scan_rules.scanned_file import ScannedFile

PIECES = (
    "int(", "parseInt(", "Number(", "Atoi(", "Int32.Parse(", "long.TryParse(", "(int)",
    "(integer)", "(long)", "(", ")", " ", "\t", "\n", "\r\n", "\u00a0", "'", '"', "`", "<", ">",
    "tn", "did", "x", "$", ".", "0", "[", "]", ",", "tn[0:3]", "num[0,3]", "did[0..2]",
    "x.tn.substring(0, 3)", "substr($tn, 0, 3)", ".to_i", ".toInt()", "str(tn)[1:4]",
    "/api/v1/addresses", "accounts/1/addresses", "?type=e911", "api/v2", "\u0130",
)  # fmt: skip
_OLD_CAST = re.compile(r"\((?:int|integer|long)\)\s*$")
_OLD_STOPS = frozenset(" \t\r\n'\"`<>()")


def random_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 60))) for _ in range(count)]


def old_inside_int_call(text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    if _OLD_CAST.search(before) or _INT_AFTER.match(text, end):
        return True
    for call in reversed(list(_INT_CALL.finditer(before))):
        inside = before[call.end() :]
        if inside.count("(") >= inside.count(")"):
            return True
    return False


def old_window(lower: str, offset: int, lines: int) -> str:
    start = offset
    for _ in range(lines + 1):
        start = lower.rfind("\n", 0, start)
        if start < 0:
            start = 0
            break
    end = offset
    for _ in range(lines + 1):
        end = lower.find("\n", end + 1)
        if end < 0:
            end = len(lower)
            break
    return lower[start:end]


def old_token(lower: str, start: int, end: int) -> str:
    left = start
    while left > 0 and lower[left - 1] not in _OLD_STOPS:
        left -= 1
    right = end
    while right < len(lower) and lower[right] not in _OLD_STOPS:
        right += 1
    return lower[left:right]


def test_integer_parse_around_each_cut_is_what_a_backward_scan_finds():
    """For every cut in 20,000 random texts, the cached per-line answer equals the old scan."""
    answers = []
    for text in random_texts(1, 20_000):
        doc, parses = ScannedFile("a.js", text), {}
        for m in _CUT.finditer(text):
            expected = old_inside_int_call(text, m.start(), m.end())
            assert _inside_int_call(doc, parses, m.start(), m.end()) == expected, (text, m)
            answers.append(expected)
    assert answers.count(True) > 10_000 and answers.count(False) > 10_000


def test_windows_and_tokens_are_what_a_backward_scan_finds():
    """At random offsets of 2,000 random texts, windows and URL tokens equal the old scans."""
    rng = random.Random(2)
    for text in random_texts(2, 2000):
        doc = ScannedFile("a.js", text)
        for _ in range(10):
            start = rng.randrange(len(text) + 1)
            end = rng.randrange(start, min(start + 20, len(text)) + 1)
            lines = rng.randrange(7)
            assert doc.window(start, lines) == old_window(doc.lower, start, lines), (text, start)
            assert doc.token(start, end) == old_token(doc.lower, start, end), (text, start, end)
