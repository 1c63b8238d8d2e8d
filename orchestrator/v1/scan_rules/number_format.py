"""Rules about how numbers and area codes are written: 10-digit numbers in requests, code
expecting 10 digits, area codes without a country or as integers (BW006, BW008, BW009, BW013).

This module owns their searches, keyed by rule id in `MATCHERS`. They fire only in files that
talk to Bandwidth (except 10-digit numbers inside `<TelephoneNumber>`/`<FullNumber>`), and not
where the code already turns numbers into E.164.

Pure: a `ScannedFile` in, `Hit`s out. Imports only the standard library and its siblings
`scanned_file` and `table`; never `finding` (which builds on this module).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from orchestrator.v1.scan_rules.scanned_file import PLUS_ONE, Hit, Matcher, ScannedFile
from orchestrator.v1.scan_rules.table import RULES_BY_ID

__all__ = ["MATCHERS"]

# --- BW006, BW013: area codes ----------------------------------------------------------------

_AREA_CODE = re.compile(
    r"[?&](?i:area_?code)="
    r"|[\"'](?i:area_?code)[\"']\s*(?:=>|[:,=])"
    r"|:(?i:area_?code)\s*=>"
    r"|\b(?i:area_?code)\s*:\s*[\"'\d]"
)


def _bw006(doc: ScannedFile) -> Iterator[Hit]:
    if not doc.bw or ("areacode" not in doc.lower and "area_code" not in doc.lower):
        return
    for m in _AREA_CODE.finditer(doc.text):
        if "countrycodea3" in doc.window(m.start(), 5):
            continue
        yield Hit(m.start(), m.end(), "areaCode filter without countryCodeA3",
                  RULES_BY_ID["BW006"].replacement)  # fmt: skip


_AREA_INT = re.compile(
    r"\b(?:int|parseInt|Number|intval|Atoi|ToInt32|ToInt64)\s*\(\s*[^()\n]{0,40}?area_?code"
    r"|\bInteger\.(?:parseInt|valueOf)\(\s*[^()\n]{0,40}?area_?code"
    r"|\bint\.(?:Parse|TryParse)\(\s*[^()\n]{0,40}?area_?code"
    r"|\barea_?code[\w.\[\]'\":]{0,30}\.to_i\b"
    r"|\(int\)\s*\$\w*area_?code"
    r"|\b(?:int|long|Integer|Long|short)\s+area_?code\b"
    r"|\barea_?code\s*:\s*(?:int|number|Int|Integer|i32|i64)\b"
    r"|\barea_?code\s+(?:int|int32|int64)\b"
    r"|[\"']area_?code[\"']\s*:\s*\d",
    re.IGNORECASE,
)


def _bw013(doc: ScannedFile) -> Iterator[Hit]:
    if not doc.bw or ("areacode" not in doc.lower and "area_code" not in doc.lower):
        return
    for m in _AREA_INT.finditer(doc.text):
        yield Hit(m.start(), m.end(), "area code handled as an integer",
                  RULES_BY_ID["BW013"].replacement)  # fmt: skip


# --- BW008, BW009: 10-digit numbers ------------------------------------------------------------

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
    for m in _TEN_DIGITS.finditer(doc.text):
        if "+" in doc.text[max(0, m.start() - 5) : m.start()]:
            continue  # an E.164 pattern such as ^\+1\d{10}$
        near = doc.window(m.start(), 2)
        if "e164" in near or "e.164" in near or PLUS_ONE.search(near):
            continue  # code turning 10 digits into E.164 is v2-ready
        yield Hit(m.start(), m.end(), "code expects 10-digit numbers",
                  RULES_BY_ID["BW009"].replacement)  # fmt: skip


MATCHERS: dict[str, Matcher] = {"BW006": _bw006, "BW008": _bw008, "BW009": _bw009, "BW013": _bw013}
