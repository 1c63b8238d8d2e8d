"""Rules about how numbers and area codes are written: 10-digit numbers in requests, code
expecting 10 digits, area codes without a country or as integers, area codes cut from a number
by position and parsed as integers (BW006, BW008, BW009, BW013, BW016).

This module owns their searches, keyed by rule id in `MATCHERS`. They fire only in files that
talk to Bandwidth (except 10-digit numbers inside `<TelephoneNumber>`/`<FullNumber>`), and not
where the code already turns numbers into E.164.

Pure: a `ScannedFile` in, `Hit`s out. Imports only the standard library and its siblings
`scanned_file` and `table`; never `finding` (which builds on this module).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

from orchestrator.v1.scan_rules.scanned_file import PLUS_ONE, Hit, Matcher, ScannedFile
from orchestrator.v1.scan_rules.table import RULES_BY_ID

__all__ = ["MATCHERS"]

# --- BW006: area codes without a country ------------------------------------------------------

_AREA_CODE = re.compile(
    r"[?&](?i:area_?code)="
    r"|[\"'](?i:area_?code)[\"']\s*(?:=>|[:,=])"
    r"|:(?i:area_?code)\s*=>"
    r"|\b(?i:area_?code)\s*:\s*[\"'\d]"
)


def _bw006(doc: ScannedFile) -> Iterator[Hit]:
    if not doc.bw or ("areacode" not in doc.lower and "area_code" not in doc.lower):
        return
    with_country: dict[tuple[int, int], bool] = {}  # window span -> names countryCodeA3
    for m in _AREA_CODE.finditer(doc.text):
        span = doc.window_span(m.start(), 5)
        if span not in with_country:
            with_country[span] = doc.lower.find("countrycodea3", *span) >= 0
        if with_country[span]:
            continue
        yield Hit(m.start(), m.end(), "areaCode filter without countryCodeA3",
                  RULES_BY_ID["BW006"].replacement)  # fmt: skip


# --- how each language makes an integer (BW013, BW016) ----------------------------------------


@dataclass(frozen=True, slots=True)
class _IntForms:
    """How one language's code makes an integer of a value (regex pieces, matched as written)."""

    calls: tuple[str, ...] = ()  # `name(x)`: int(x), parseInt(x), Atoi(x)
    parses: tuple[str, ...] = ()  # `Type.Parse(x)`, `Type.TryParse(x)`
    casts: tuple[str, ...] = ()  # `(type) x`
    after: tuple[str, ...] = ()  # `x.to_i`, `x.toInt()`


# Language -> its integer forms. BW013 (an area code made an integer) and BW016 (an area code
# cut from a number, then made an integer) both read this table; it is joined once, below.
_INT_FORMS: dict[str, _IntForms] = {
    "Python": _IntForms(calls=("int",)),
    "JavaScript": _IntForms(calls=("parseInt", "Number")),
    "Ruby": _IntForms(calls=("Integer",), after=(r"to_i\b",)),
    "PHP": _IntForms(calls=("intval",), casts=("int", "integer")),
    "Go": _IntForms(calls=("Atoi", "ParseInt", "ParseUint")),
    "Java": _IntForms(calls=("parseLong", "parseShort"), casts=("long",)),
    "C#": _IntForms(calls=("ToInt16", "ToInt32", "ToInt64"),
                    parses=("int", "long", "Int16", "Int32", "Int64")),
    "Kotlin": _IntForms(after=(r"toInt\(\)", r"toLong\(\)")),
}  # fmt: skip
_Form = Literal["calls", "parses", "casts", "after"]


def _joined(field: _Form, *, languages: tuple[str, ...] = (), without: str = "") -> str:
    """The `field` pieces of `_INT_FORMS` (of `languages` only, if named) as one alternation,
    in table order, leaving out the piece `without`."""
    pieces = (
        piece
        for language, forms in _INT_FORMS.items()
        if not languages or language in languages
        for piece in getattr(forms, field)
        if piece != without
    )
    return "|".join(pieces)


_CALLS = _joined("calls")
_AFTER = _joined("after")

# --- BW013: an area code made an integer ------------------------------------------------------

_AREA = r"(?:area_?code|\bnpa\b)"  # an area code by name (NPA: the NANP's word for it)
# Function names are matched as written (code is case-sensitive), with no space before the
# parenthesis: prose such as "a number (NPA ...)" is no call. BW013 reads the table's calls,
# C# parses (all but Int16, which BW016 alone has always matched), PHP casts and methods after;
# Java's `Integer.valueOf` and the typed declarations are its own.
_AREA_INT = re.compile(
    rf"\b(?-i:{_CALLS})\(\s*[^()\n]{{0,40}}?{_AREA}"
    rf"|\b(?:Integer|Long)\.(?:parseInt|parseLong|valueOf)\(\s*[^()\n]{{0,40}}?{_AREA}"
    rf"|\b(?:{_joined('parses', without='Int16')})\.(?:Parse|TryParse)\(\s*[^()\n]{{0,40}}?{_AREA}"
    rf"|{_AREA}[\w.\[\]'\":]{{0,30}}\.(?:{_AFTER})"
    rf"|\((?:{_joined('casts', languages=('PHP',))})\)\s*\$\w*{_AREA}"
    rf"|\b(?:int|long|Integer|Long|short)\s+{_AREA}\b"
    rf"|{_AREA}\s*:\s*(?:int|number|Int|Integer|i32|i64)\b"
    rf"|{_AREA}\s+(?:int|int32|int64)\b"
    rf"|[\"']{_AREA}[\"']\s*:\s*\d",
    re.IGNORECASE,
)


def _bw013(doc: ScannedFile) -> Iterator[Hit]:
    low = doc.lower
    if not doc.bw or not ("areacode" in low or "area_code" in low or "npa" in low):
        return
    for m in _AREA_INT.finditer(doc.text):
        yield Hit(m.start(), m.end(), "area code handled as an integer",
                  RULES_BY_ID["BW013"].replacement)  # fmt: skip


# --- BW016: an area code cut from a number by position and parsed as an integer ---------------

# A cut of 3 characters from something: `x[0:3]` (Python, Go), `x[0, 3]` / `x[0..2]` / `x[0...3]`
# (Ruby), `x.substring(0, 3)` / `x.slice(0, 3)` / `x.substr(0, 3)` (JS, Java), `x.Substring(0, 3)`
# (C#), `substr($x, 0, 3)` (PHP). `subj` is what is cut; `how` says how to read the two numbers.
# A subject starts where a run of `[$\w.]` starts (the lookbehind): this finds what finditer found
# without it (its leftmost match starts there anyway, and no match ends inside such a run), but a
# search no longer starts again at every character of a long word or digit run, each scanning to
# the run's end - that was quadratic (a 40 KB minified or base64 word took 55 s, now milliseconds).
_SUBJECT = r"(?P<subj>(?<![$\w.])[$\w.]+(?:\([^()\n]{0,60}\)|\[[^\[\]\n]{0,30}\])*)"
_CUT = re.compile(
    rf"{_SUBJECT}\s*\[\s*(?P<a>-?\d*)\s*(?P<how>:|,|\.\.\.?)\s*(?P<b>-?\d+)\s*\]"
    rf"|{_SUBJECT.replace('subj', 'subj2')}\.(?P<how2>substring|substr|slice|Substring)"
    r"\(\s*(?P<a2>\d+)\s*,\s*(?P<b2>\d+)\s*\)"
    r"|\b(?:mb_)?substr\(\s*(?P<subj3>\$[\w\->\[\]'\"]+)\s*,\s*(?P<a3>\d+)\s*,\s*(?P<b3>\d+)\s*\)"
)
# Calls and casts that make an integer of their argument, in every language the scanner reads.
_INT_CALL = re.compile(rf"\b(?:{_CALLS}|(?:{_joined('parses')})\.(?:Try)?Parse)\(")
_INT_CAST = re.compile(rf"(?P<cast>\((?:{_joined('casts')})\))\s*")
_INT_AFTER = re.compile(rf"\s*\.(?:{_AFTER})")
_PHONE_WORDS = frozenset(
    {"tn", "tns", "did", "dids", "msisdn", "e164", "phone", "telephone", "tel"}
)
_NUMBER_NAMES = (("number",), ("num",), ("full", "number"))
_COUNT_WORDS = frozenset({"count", "len", "length", "size", "total", "index", "idx", "limit"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _is_phone_number(subject: str) -> bool:
    """Whether the last name in `subject` (`tn`, `order.phoneNumber`, `row["did"]`,
    `str(number)`) names a phone number, not a count or anything else."""
    names = re.findall(r"[A-Za-z_]\w*", subject)
    if not names:
        return False
    words = tuple(w.lower() for w in _WORD.findall(names[-1]))
    if _COUNT_WORDS.intersection(words):
        return False
    return bool(_PHONE_WORDS.intersection(words)) or words in _NUMBER_NAMES


def _cut_bounds(m: re.Match[str]) -> tuple[str, int, int]:
    """(what is cut, start, end) of a `_CUT` match, end exclusive."""
    if m.group("subj3") is not None:  # PHP substr($s, start, length)
        start = int(m.group("a3"))
        return m.group("subj3"), start, start + int(m.group("b3"))
    if m.group("subj2") is not None:
        start, second = int(m.group("a2")), int(m.group("b2"))
        by_length = m.group("how2") in ("substr", "Substring")  # JS substr, C# Substring
        return m.group("subj2"), start, (start + second if by_length else second)
    start = int(m.group("a") or 0) if m.group("a") != "-" else 0
    second, how = int(m.group("b")), m.group("how")
    end = {":": second, ",": start + second, "..": second + 1, "...": second}[how]
    return m.group("subj"), start, end


class _IntParses:
    """Where one line makes an integer, read once for every cut on it (a minified line holds
    thousands): the open parentheses before a cut, the integer calls and the casts."""

    def __init__(self, line: str, offset: int) -> None:
        self.offset = offset  # of the line in the file
        self.parens = [m.start() for m in re.finditer(r"[()]", line)]
        self.depths = list(accumulate(1 if line[p] == "(" else -1 for p in self.parens))
        self.call_ends = [m.end() for m in _INT_CALL.finditer(line)]
        # The lowest depth after any call up to this one: a call is still open at a later
        # position if the depth there is not below the depth just after the call.
        self.lowest = list(accumulate((self.depth(c) for c in self.call_ends), min))
        casts = list(_INT_CAST.finditer(line))
        self.cast_ends = [m.end("cast") for m in casts]
        self.blank_ends = [m.end() for m in casts]  # the end of the whitespace after each cast

    def depth(self, at: int) -> int:
        """Open minus closed parentheses in line[:at]."""
        before = bisect.bisect_left(self.parens, at)
        return self.depths[before - 1] if before else 0

    def around(self, start: int) -> bool:
        """Whether the line makes an integer of what starts at file offset `start`: an integer
        call before it is still open, or a cast and nothing but whitespace precede it."""
        at = start - self.offset
        cast = bisect.bisect_right(self.cast_ends, at) - 1
        if cast >= 0 and self.blank_ends[cast] >= at:
            return True
        calls = bisect.bisect_right(self.call_ends, at)
        return calls > 0 and self.lowest[calls - 1] <= self.depth(at)


def _inside_int_call(doc: ScannedFile, parses: dict[int, _IntParses], start: int, end: int) -> bool:
    """Whether the text at [start, end) is the argument of an integer parse on its line (an
    open `int(`, `parseInt(`, `Atoi(` ..., or a cast just before), or is followed by `.to_i`.
    `parses` caches each line's `_IntParses` by the line's offset."""
    line_start, line_end = doc.line_span(start)
    line = parses.get(line_start)
    if line is None:
        line = parses[line_start] = _IntParses(doc.text[line_start:line_end], line_start)
    return line.around(start) or _INT_AFTER.match(doc.text, end) is not None


def _bw016(doc: ScannedFile) -> Iterator[Hit]:
    if not doc.bw:
        return
    parses: dict[int, _IntParses] = {}
    for m in _CUT.finditer(doc.text):
        subject, start, end = _cut_bounds(m)
        if end - start != 3 or start not in (0, 1, 2, -10) or not _is_phone_number(subject):
            continue  # not 3 characters where an area code sits, or not cut from a number
        if _inside_int_call(doc, parses, m.start(), m.end()):
            yield Hit(m.start(), m.end(), "area code cut from a number by position and parsed "
                      "as an integer", RULES_BY_ID["BW016"].replacement)  # fmt: skip


# --- BW008, BW009: 10-digit numbers -----------------------------------------------------------

_NANP = r"1?[2-9]\d{2}[2-9]\d{6}"
_TN_ELEMENT = re.compile(rf"<(?P<tag>TelephoneNumber|FullNumber)>\s*(?P<num>{_NANP})\s*</(?P=tag)>")
_TN_LITERAL = re.compile(
    r"[\"']?\b(?:telephone_?numbers?|phone_?numbers?|full_?number|tns?)\b[\"']?\s*(?:=>|[:=])"
    rf"\s*\[?\s*[\"']?(?P<num>{_NANP})(?!\d)",
    re.IGNORECASE,
)
_TN_PATH = re.compile(rf"/tns/(?P<num>{_NANP})(?!\d)|[?&]tn=(?P<num2>{_NANP})(?!\d)")


def _e164(number: str) -> str:
    return "+1" + number[-10:]


def _bw008(doc: ScannedFile) -> Iterator[Hit]:
    low = doc.lower
    if "telephonenumber" in low or "fullnumber" in low:
        for m in _TN_ELEMENT.finditer(doc.text):
            n = m.group("num")
            yield Hit(m.start("num"), m.end("num"), f"10-digit number {n} in <{m.group('tag')}>",
                      _e164(n))  # fmt: skip
    if not doc.bw:
        return
    for m in _TN_LITERAL.finditer(doc.text):
        n = m.group("num")
        yield Hit(m.start("num"), m.end("num"), f"10-digit number {n} in a payload", _e164(n))
    if "/tns/" in low or "tn=" in low:
        for m in _TN_PATH.finditer(doc.text):
            group = "num" if m.group("num") else "num2"
            n = m.group(group)
            yield Hit(m.start(group), m.end(group), f"10-digit number {n} in a request path",
                      _e164(n).replace("+", "%2B"))  # fmt: skip


_TEN_DIGITS = re.compile(
    r"\\d\{10\}|\[0-9\]\{10\}"
    r"|\blen\([^()\n]{1,60}\)\s*[!=]=\s*10\b"
    r"|\.length(?:\(\))?\s*[!=]==?\s*10\b"
    r"|\bstrlen\([^()\n]{1,60}\)\s*[!=]==?\s*10\b"
    r"|\.(?:Length|size\(\)|count\(\)|Count)\s*[!=]=\s*10\b"
    r"|\[\s*-10\s*:\s*\]|\.slice\(\s*-10\s*\)|\.substr(?:ing)?\(\s*-10\s*\)"
)


def _bw009(doc: ScannedFile) -> Iterator[Hit]:
    if not doc.bw or "10" not in doc.text:
        return
    v2_ready: dict[tuple[int, int], bool] = {}  # window span -> turns numbers into E.164
    for m in _TEN_DIGITS.finditer(doc.text):
        if "+" in doc.text[max(0, m.start() - 5) : m.start()]:
            continue  # an E.164 pattern such as ^\+1\d{10}$
        span = doc.window_span(m.start(), 2)
        if span not in v2_ready:
            near = doc.lower[span[0] : span[1]]
            v2_ready[span] = "e164" in near or "e.164" in near or bool(PLUS_ONE.search(near))
        if v2_ready[span]:
            continue  # code turning 10 digits into E.164 is v2-ready
        yield Hit(m.start(), m.end(), "code expects 10-digit numbers",
                  RULES_BY_ID["BW009"].replacement)  # fmt: skip


MATCHERS: dict[str, Matcher] = {
    "BW006": _bw006, "BW008": _bw008, "BW009": _bw009, "BW013": _bw013, "BW016": _bw016,
}  # fmt: skip
