"""The Iris phone-number inventory report (CSV) and plain number lists -> intents.

Neither says what to do with its numbers, so the caller names the step they feed (`Action`).
The inventory report opens with a title line ("Iris Phone Number Inventory Report") and may
carry a header row; its exact columns are not published, so columns are found by header name:
the number column (`Telephone Number`, `TN`, `Phone Number`, `Number`, ...), and optionally the
site (`Site Id`, `Sub-account`) and SIP peer (`SIP Peer Id`, `Location`). Without a header the
first column holds the numbers. A plain list is one number per line (blank lines and `#`
comments skipped), or a CSV whose number column is found the same way.

Pure: bytes in, `ReadResult` out.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from orchestrator.errors import InputError, PlanError
from orchestrator.plan.source import decode_text
from orchestrator.v1.intent import (
    LOA_TYPES,
    Action,
    Entry,
    ImportSettings,
    InputKind,
    Origin,
    ReadResult,
)

_NUMBER_COLUMNS = (
    "telephone number",
    "telephonenumber",
    "tn",
    "phone number",
    "phonenumber",
    "number",
    "full number",
    "fullnumber",
    "e164",
    "did",
)
_SITE_COLUMNS = ("site id", "siteid", "site", "sub-account", "sub-account id", "subaccount")
_PEER_COLUMNS = (
    "sip peer id",
    "sippeerid",
    "sip peer",
    "sippeer",
    "location",
    "location id",
    "locationid",
)


@dataclass(frozen=True, slots=True)
class ListDefaults:
    """What a list-fed import needs and a list cannot say (from `--site` etc.)."""

    site_id: str | None = None
    sip_peer_id: str | None = None
    loa_type: str = "CARRIER"


def is_inventory_report(text: str) -> bool:
    """True when the first non-blank line is the inventory report's title."""
    for line in text.splitlines():
        if line.strip():
            lowered = line.lower()
            return "inventory report" in lowered and "," not in lowered.split("inventory")[0]
    return False


def decode(data: bytes, source: str) -> str:
    """Decode a list or report (UTF-8/16, cp1252 fallback); binary data is an `InputError`."""
    try:
        return decode_text(data, source)
    except PlanError as exc:
        raise InputError(str(exc)) from exc


def read_table(text: str, source: str, action: Action, defaults: ListDefaults) -> ReadResult:
    """Read an inventory report or a plain list (already decoded) feeding `action`."""
    inventory = is_inventory_report(text)
    kind = InputKind.INVENTORY_REPORT if inventory else InputKind.NUMBER_LIST
    result = ReadResult(source=source, kind=kind, documents=1)
    lines = text.splitlines()
    first = 1 if inventory else 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    body = lines[first:]
    if not any("," in ln or ";" in ln or "\t" in ln for ln in body[:50]):
        rows = _plain_rows(body, first)
    else:
        rows = _csv_rows(body, first, source)
    if not rows:
        return result
    number_col, site_col, peer_col, has_header = _columns(rows[0][1], source, rows[0][0])
    if has_header:
        rows = rows[1:]
    if action is Action.IMPORT:
        _check_site(source, site_col, defaults)
    origin = Origin(source=source, kind=kind)
    settings_cache: dict[tuple[str, str | None], ImportSettings] = {}
    for line, row in rows:
        raw = row[number_col] if number_col < len(row) else ""
        settings = None
        if action is Action.IMPORT:
            site = _cell(row, site_col) or defaults.site_id or ""
            peer = _cell(row, peer_col) or defaults.sip_peer_id
            _check_ids(source, line, site, peer)
            key = (site, peer)
            settings = settings_cache.get(key)
            if settings is None:
                settings = ImportSettings(site, peer, defaults.loa_type)
                settings_cache[key] = settings
        result.entries.append(Entry(raw, line, action, origin, settings))
    return result


def _plain_rows(body: list[str], first: int) -> list[tuple[int, list[str]]]:
    rows = []
    for offset, line in enumerate(body, start=first + 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if " #" in text:  # an inline comment: "919-555-0100  # support line"
            text = text.split(" #", 1)[0].strip()
        rows.append((offset, [text]))
    return rows


def _csv_rows(body: list[str], first: int, source: str) -> list[tuple[int, list[str]]]:
    sample = body[0] if body else ""
    counts = {d: sample.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO("\n".join(body)), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((first + reader.line_num, row))
    except csv.Error as exc:
        raise InputError(f"{source}:{first + reader.line_num}: unreadable CSV ({exc})") from exc
    return rows


def _find(names: list[str], wanted: tuple[str, ...]) -> int | None:
    for i, name in enumerate(names):
        if name in wanted:
            return i
    return None


def _columns(
    first_row: list[str], source: str, line: int
) -> tuple[int, int | None, int | None, bool]:
    """(number column, site column, SIP peer column, first row is a header)."""
    names = [c.strip().lstrip("\ufeff").strip('"').casefold() for c in first_row]
    number = _find(names, _NUMBER_COLUMNS)
    site, peer = _find(names, _SITE_COLUMNS), _find(names, _PEER_COLUMNS)
    if number is not None:
        return number, site, peer, True
    has_header = not any(ch.isdigit() for ch in first_row[0])
    if has_header and len(first_row) > 1:
        shown = ", ".join(repr(c.strip()) for c in first_row[:8])
        raise InputError(
            f"{source}:{line}: no telephone number column in the header ({shown}); name it "
            "'Telephone Number' or 'TN', or put the numbers in the first column"
        )
    return 0, None, None, has_header


def _cell(row: list[str], col: int | None) -> str | None:
    if col is None or col >= len(row):
        return None
    return row[col].strip() or None


def _check_site(source: str, site_col: int | None, defaults: ListDefaults) -> None:
    if site_col is None and defaults.site_id is None:
        raise InputError(
            f"{source}: feeds the import step but names no site: give --site ID (and "
            "--sip-peer ID, --loa-type) or a 'Site Id' column"
        )
    if defaults.loa_type not in LOA_TYPES:
        raise InputError(f"--loa-type {defaults.loa_type!r}: expected CARRIER or SUBSCRIBER")


def _check_ids(source: str, line: int, site: str, peer: str | None) -> None:
    if not site.isdigit():
        raise InputError(f"{source}:{line}: site id {site!r} is not a number")
    if peer is not None and not peer.isdigit():
        raise InputError(f"{source}:{line}: SIP peer id {peer!r} is not a number")
