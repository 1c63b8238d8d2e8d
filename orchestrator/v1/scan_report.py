"""Scan findings as text (grouped by file, with a summary), JSON, or SARIF 2.1.0.

SARIF: one run; the driver lists every rule (with its level, the guide's change and the v2
replacement); results point at `file:line:column` with a snippet; fixable findings carry a
SARIF `fix` (the replacement text for the region). Relative paths are relative to `%SRCROOT%`,
the directory the scan ran in; columns count Unicode code points (`columnKind`).

Pure: findings and counts in, text out.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from orchestrator import __version__
from orchestrator.text import counted, printable
from orchestrator.v1.scan_rules import GUIDE_URL, RULES, Finding, Rule

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL_NAME = "bwmigrate-scan"


@dataclass(slots=True)
class ScanStats:
    """What the walk saw."""

    files: int = 0
    bytes: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # kind of skip -> paths
    skipped_paths: list[tuple[str, str]] = field(default_factory=list)  # (path, why), in order
    fixed: int = 0  # fixes applied (with --fix)
    fixed_files: int = 0

    def skip(self, path: str, kind: str, why: str) -> None:
        """Count a skipped path under `kind` (the summary's word) and note why (`--verbose`)."""
        self.skipped[kind] += 1
        self.skipped_paths.append((path, why))


def render_text(findings: list[Finding], stats: ScanStats, *, verbose: bool = False) -> str:
    """Findings grouped by file, then (`verbose`) every skipped path and why, then a summary per
    rule."""
    lines: list[str] = []
    current = None
    for f in findings:
        if f.path != current:
            if current is not None:
                lines.append("")
            lines.append(printable(f.path))  # the customer's names and code: shown, not obeyed
            current = f.path
        lines.append(f"  {f.line}:{f.column}  {f.rule.severity:<7}  {f.rule.id} {f.rule.name}")
        lines.append(f"      {printable(f.message)}")
        lines.append(f"      v2: {f.replacement}{'  (fixable: --fix)' if f.fix else ''}")
    if findings:
        lines.append("")
    if verbose and stats.skipped_paths:
        lines += [f"skipped {printable(path)}: {why}" for path, why in stats.skipped_paths]
        lines.append("")
    lines += _summary_lines(findings, stats)
    return "\n".join(lines) + "\n"


def _summary_lines(findings: list[Finding], stats: ScanStats) -> list[str]:
    files = len({f.path for f in findings})
    mb = stats.bytes / 1e6
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(stats.skipped.items())) or "none"
    lines = [
        f"{counted(len(findings), 'finding')} in {counted(files, 'file')} (scanned "
        f"{counted(stats.files, 'file')}, {mb:.1f} MB; "
        f"skipped: {skipped})"
    ]
    if stats.fixed:
        lines.append(
            f"fixed {counted(stats.fixed, 'finding')} in {counted(stats.fixed_files, 'file')} "
            "(diff above)"
        )
    by_rule = Counter(f.rule.id for f in findings)
    for rule in RULES:
        if by_rule[rule.id]:
            fix = "  fixable with --fix" if rule.fixable else ""
            lines.append(f"  {rule.id} {rule.name:<28} {by_rule[rule.id]:>6}{fix}")
    return lines


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "file": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "rule": f.rule.id,
        "name": f.rule.name,
        "severity": str(f.rule.severity),
        "message": f.message,
        "replacement": f.replacement,
        "fixable": f.fix is not None,
        "snippet": f.snippet,
    }


def render_json(findings: list[Finding], stats: ScanStats, *, verbose: bool = False) -> str:
    """One JSON object: findings, a summary (`verbose`: with every skipped path and why) and the
    rule table."""
    summary: dict[str, Any] = {
        "findings": len(findings),
        "files_with_findings": len({f.path for f in findings}),
        "files_scanned": stats.files,
        "bytes_scanned": stats.bytes,
        "skipped": dict(sorted(stats.skipped.items())),
        "fixed": stats.fixed,
        "by_rule": dict(sorted(Counter(f.rule.id for f in findings).items())),
    }
    if verbose:
        summary["skipped_files"] = [{"path": p, "reason": why} for p, why in stats.skipped_paths]
    doc = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "findings": [_finding_json(f) for f in findings],
        "summary": summary,
        "rules": [
            {
                "id": r.id,
                "name": r.name,
                "severity": str(r.severity),
                "change": r.change,
                "replacement": r.replacement,
                "fixable": r.fixable,
            }
            for r in RULES
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _artifact(path: str) -> dict[str, str]:
    p = PurePath(path)
    if p.is_absolute():
        return {"uri": "file://" + quote(p.as_posix())}
    return {"uri": quote(p.as_posix()), "uriBaseId": "SRCROOT"}


def _region(f: Finding) -> dict[str, Any]:
    return {
        "startLine": f.line,
        "startColumn": f.column,
        "endLine": f.end_line,
        "endColumn": f.end_column,
    }


def render_sarif(
    findings: list[Finding], stats: ScanStats, root_uri: str, *, verbose: bool = False
) -> str:
    """A SARIF 2.1.0 log; `root_uri` is the `file://` URI (ending in /) of the scan directory.
    `verbose`: every skipped path is a note of the run's invocation."""
    index = {rule.id: i for i, rule in enumerate(RULES)}
    log: dict[str, Any] = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": __version__,
                        "informationUri": GUIDE_URL,
                        "rules": [_sarif_rule(r) for r in RULES],
                    }
                },
                "originalUriBaseIds": {"SRCROOT": {"uri": root_uri}},
                "columnKind": "unicodeCodePoints",
                "results": [_sarif_result(f, index[f.rule.id]) for f in findings],
                "properties": {"filesScanned": stats.files, "bytesScanned": stats.bytes},
            }
        ],
    }
    if verbose:
        log["runs"][0]["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {
                        "level": "note",
                        "message": {"text": f"skipped: {why}"},
                        "locations": [{"physicalLocation": {"artifactLocation": _artifact(p)}}],
                    }
                    for p, why in stats.skipped_paths
                ],
            }
        ]
    return json.dumps(log, indent=2) + "\n"


def _sarif_rule(r: Rule) -> dict[str, Any]:
    """A rule of the driver: its level, the guide's change and the v2 replacement."""
    return {
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.change},
        "fullDescription": {"text": f"{r.change}. v2: {r.replacement}"},
        "help": {"text": f"v2 replacement: {r.replacement}"},
        "helpUri": GUIDE_URL,
        "defaultConfiguration": {"level": str(r.severity)},
        "properties": {"fixable": r.fixable, "tags": ["bandwidth-v2-migration"]},
    }


def _sarif_result(f: Finding, rule_index: int) -> dict[str, Any]:
    """A result pointing at `file:line:column` with its snippet, and its fix when it has one."""
    result: dict[str, Any] = {
        "ruleId": f.rule.id,
        "ruleIndex": rule_index,
        "level": str(f.rule.severity),
        "message": {"text": f"{f.message}. v2: {f.replacement}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(f.path),
                    "region": {**_region(f), "snippet": {"text": f.snippet}},
                }
            }
        ],
    }
    if f.fix is not None:
        result["fixes"] = [
            {
                "description": {"text": f"replace with {f.fix.text}"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(f.path),
                        "replacements": [
                            {"deletedRegion": _region(f), "insertedContent": {"text": f.fix.text}}
                        ],
                    }
                ],
            }
        ]
    return result
