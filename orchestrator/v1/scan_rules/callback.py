"""Rules about what v2 sends back: callbacks and reports carry E.164 numbers (BW010, BW011,
BW014, BW015).

This module owns their searches, keyed by rule id in `MATCHERS`: subscriptions and report
instances without `NumberFormat`, callback handlers reading Completed/ImpactedTelephoneNumbers
and code reading the phone number inventory report, where the file does not already handle
E.164.

Pure: a `ScannedFile` in, `Hit`s out. Imports only the standard library and its siblings
`scanned_file` and `table`; never `finding` (which builds on this module).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from orchestrator.v1.scan_rules.scanned_file import Hit, Matcher, ScannedFile
from orchestrator.v1.scan_rules.table import RULES_BY_ID

__all__ = ["MATCHERS"]

# --- BW010, BW011: NumberFormat ----------------------------------------------------------------


def _block_rule(rule_id: str, tag: str, needs: tuple[str, ...], message: str) -> Matcher:
    start_re = re.compile(rf"<{tag}(?=[\s>])")

    def rule(doc: ScannedFile) -> Iterator[Hit]:
        if f"<{tag.lower()}" not in doc.lower or doc.v2_only:
            return
        for m in start_re.finditer(doc.text):
            close = doc.text.find(f"</{tag}>", m.end())
            block = doc.text[m.end() : close if close >= 0 else m.end() + 20000]
            if any(n in block for n in needs) and "<NumberFormat" not in block:
                yield Hit(m.start(), m.end(), message, RULES_BY_ID[rule_id].replacement)

    return rule


_bw010 = _block_rule(
    "BW010", "Subscription", ("<CallbackSubscription", "<EmailSubscription"),
    "subscription without NumberFormat: v2 callbacks carry E.164 numbers",
)  # fmt: skip
_bw011 = _block_rule(
    "BW011", "Instance", ("<OutputFormat",),
    "report instance without NumberFormat: v2 reports list E.164 numbers",
)  # fmt: skip


# --- BW014, BW015: callbacks and reports -------------------------------------------------------

_CALLBACK = re.compile(r"(?<![<\w])(?<!</)(?:CompletedTelephoneNumbers|ImpactedTelephoneNumbers)\b")
_REPORT = re.compile(r"phone number inventory|inventory report", re.IGNORECASE)


def _bw014(doc: ScannedFile) -> Iterator[Hit]:
    low = doc.lower
    if "completedtelephonenumbers" not in low and "impactedtelephonenumbers" not in low:
        return
    if doc.e164_aware:
        return
    for m in _CALLBACK.finditer(doc.text):
        yield Hit(m.start(), m.end(), f"callback handler reads {m.group(0)}",
                  RULES_BY_ID["BW014"].replacement)  # fmt: skip


def _bw015(doc: ScannedFile) -> Iterator[Hit]:
    if "inventory" not in doc.lower or doc.e164_aware:
        return
    for m in _REPORT.finditer(doc.text):
        yield Hit(m.start(), m.end(), "code reads the phone number inventory report",
                  RULES_BY_ID["BW015"].replacement)  # fmt: skip


MATCHERS: dict[str, Matcher] = {"BW010": _bw010, "BW011": _bw011, "BW014": _bw014, "BW015": _bw015}
