"""Findings: every rule's hits in one file, placed by line and column, and the safe fixes applied.

This module owns `Finding` and `Edit`, `scan_text` (run every rule of the three families on one
file's text; findings sorted by position) and `apply_fixes` (the mechanical, non-overlapping
fixes, left to right).

Pure: text in, findings (or new text) out. Imports only the standard library and its siblings.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.v1.scan_rules.callback import MATCHERS as CALLBACK_MATCHERS
from orchestrator.v1.scan_rules.endpoint import MATCHERS as ENDPOINT_MATCHERS
from orchestrator.v1.scan_rules.number_format import MATCHERS as NUMBER_FORMAT_MATCHERS
from orchestrator.v1.scan_rules.scanned_file import Matcher, ScannedFile
from orchestrator.v1.scan_rules.table import RULES_BY_ID, Rule

__all__ = ["Edit", "Finding", "apply_fixes", "scan_text"]


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace text[start:end] with `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: where, which rule, what it says, and (for safe rules) its fix."""

    path: str
    line: int
    column: int  # 1-based, in code points
    end_line: int
    end_column: int  # exclusive
    rule: Rule
    message: str
    replacement: str
    snippet: str
    fix: Edit | None = None


# Every rule's search, in rule-id order.
_MATCHERS: tuple[tuple[str, Matcher], ...] = tuple(
    sorted({**ENDPOINT_MATCHERS, **NUMBER_FORMAT_MATCHERS, **CALLBACK_MATCHERS}.items())
)

_SNIPPET_CHARS = 200


def scan_text(path: str, text: str) -> list[Finding]:
    """Every finding in one file's text, sorted by position."""
    doc = ScannedFile(path, text)
    findings: list[Finding] = []
    snippets: dict[int, str] = {}  # line -> its snippet, cut once for all the line's findings
    for rule_id, matcher in _MATCHERS:
        rule = RULES_BY_ID[rule_id]
        for hit in matcher(doc):
            line, column = doc.position(hit.start)
            end_line, end_column = doc.position(hit.end)
            snippet = snippets.get(line)
            if snippet is None:
                snippet = snippets[line] = doc.line_text(line).strip()[:_SNIPPET_CHARS]
            fix = Edit(hit.start, hit.end, hit.fix) if hit.fix is not None else None
            findings.append(
                Finding(
                    path,
                    line,
                    column,
                    end_line,
                    end_column,
                    rule,
                    hit.message,
                    hit.replacement,
                    snippet,
                    fix,
                )
            )
    findings.sort(key=lambda f: (f.line, f.column, f.rule.id))
    return findings


def apply_fixes(text: str, findings: list[Finding]) -> tuple[str, int]:
    """Apply the fixes of `findings` (non-overlapping, left to right): (new text, fixes applied)."""
    edits = sorted({f.fix for f in findings if f.fix is not None}, key=lambda e: (e.start, e.end))
    parts: list[str] = []
    pos = applied = 0
    for edit in edits:
        if edit.start < pos:
            continue  # overlaps an earlier edit: leave it for the re-scan to report
        parts += [text[pos : edit.start], edit.text]
        pos = edit.end
        applied += 1
    parts.append(text[pos:])
    return "".join(parts), applied
