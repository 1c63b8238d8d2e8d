"""The audit log: one JSON line per API exchange, beside the state file, rotated by size.

Owns turning a client `Exchange` into an audit line, writing lines off the event loop, rotating
segments, and reading them back for `bwmigrate report --audit`.

    state/acme.db.audit.jsonl      the current segment (newest lines)
    state/acme.db.audit.jsonl.1    the first segment rotated away (oldest lines)
    state/acme.db.audit.jsonl.2    the next one, ...

A segment is rotated once it reaches `max_bytes` (default 32 MiB); rotated segments are renamed
once and never deleted or renumbered, because an audit trail that forgets is not one. Reading
goes `.1`, `.2`, ..., then the current file.

Every line is a JSON object. `"type": "exchange"` lines (one per HTTP exchange, token requests
included) carry: `at` (UTC, when the answer came), `seq` (per session), `method`, `path`,
`status` (None when no answer came), `fault` (the transport error then), `elapsed_ms`,
`customer_order_id`, `order_id`, `order_status`, `numbers` (the numbers the request carried),
`errors` (`[{code, description, numbers}]` from the answer) and `found` (order ids a listing
returned), plus the session's context (`command`, `run`). `"type": "session"` lines mark where
a command started and ended.

Secrets: an `Exchange` holds no header and no token-endpoint body, and a line never carries a
request or response body, only the numbers and codes read from it. As a second fence, every
credential value given to `AuditLog` (and its Basic-auth encoding) is replaced by `[REDACTED]`
wherever it would appear in a line.

Cost: `AuditLog.record` (the client's `on_exchange` hook, on the event loop) only stamps the
time and queues the exchange; a writer thread parses bodies, formats, writes and rotates
(bench/audit_bench.py measures both paths). A line queued but not yet written when the process
is killed is lost; the writer flushes after every batch it drains, so that window is short.

Must not import the store, the engine or the CLI; reads no environment, prints nothing.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from orchestrator.api.client import (
    BasicCredentials,
    ClientCredentials,
    Credentials,
    Exchange,
    TokenCredentials,
)
from orchestrator.api.orders import ORDER_KINDS
from orchestrator.api.xml import (
    NumberFailure,
    parse_errors,
    parse_import_checker,
    parse_order,
    parse_order_list,
)
from orchestrator.errors import InputError, XmlError
from orchestrator.state.postgres import PgLocation
from orchestrator.text import csv_cell

AUDIT_SUFFIX = ".audit.jsonl"
DEFAULT_MAX_BYTES = 32 * 1024 * 1024
REDACTED = "[REDACTED]"
CLOSE_TIMEOUT_S = 30.0
_MIN_SECRET_CHARS = 4  # shorter values would blank out ordinary text, not a secret

_NUMBER = re.compile(rb"<TelephoneNumber>\s*([^<\s]+)\s*</TelephoneNumber>")
_STATUS = re.compile(rb"<(?:ProcessingStatus|OrderStatus)>\s*([A-Za-z_]+)\s*<")
_ERROR_ELEMENT = re.compile(rb"<(?:\w+:)?(?:Code|ErrorCode|Error)[\s>]")
_STOP = object()
_LISTS = frozenset(e.path.rpartition("/")[2].lower() for e in ORDER_KINDS.values())  # list paths


def audit_path(state_path: Path | PgLocation) -> Path:
    """The audit log of a state file: `<state>.audit.jsonl` beside it; for a plan's state in
    PostgreSQL, `state/<plan name>.pg.audit.jsonl` on the machine that runs it."""
    if isinstance(state_path, PgLocation):
        return Path("state") / f"{state_path.name}.pg{AUDIT_SUFFIX}"
    return state_path.with_name(state_path.name + AUDIT_SUFFIX)


def secret_values(credentials: Credentials) -> tuple[str, ...]:
    """Every string that must never appear in an audit line for these credentials."""
    if isinstance(credentials, BasicCredentials):
        pair = f"{credentials.username}:{credentials.password}"
        return (credentials.password, base64.b64encode(pair.encode()).decode("ascii"))
    if isinstance(credentials, TokenCredentials):
        return (credentials.token,)
    assert isinstance(credentials, ClientCredentials)
    pair = f"{credentials.client_id}:{credentials.client_secret}"
    return (credentials.client_secret, base64.b64encode(pair.encode()).decode("ascii"))


# --- one exchange -> one line (pure apart from parsing the bodies it is given) ------------------


def _iso(epoch_s: float) -> str:
    """Epoch seconds as `2025-05-14T09:12:03.512Z`."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _failures(failures: Iterable[NumberFailure]) -> list[dict[str, Any]]:
    return [
        {"code": f.code or None, "description": f.description, "numbers": list(f.numbers)}
        for f in failures
    ]


def _read_answer(exchange: Exchange) -> dict[str, Any]:
    """Status, errors and listed order ids from an answer body (best effort, never raises)."""
    body = exchange.response_body
    status = exchange.status
    if not body or status is None:
        return {}
    out: dict[str, Any] = {}
    last = exchange.path.rstrip("/").rpartition("/")[2].lower()
    listing = exchange.method == "GET" and last in _LISTS and exchange.order_id is None
    if 200 <= status < 300 and not listing and not _ERROR_ELEMENT.search(body):
        # The common case (an order or a check without any error): a regex instead of a parse
        # of a document that may list 5000 numbers.
        found = _STATUS.search(body)
        if found:
            out["order_status"] = found.group(1).decode("ascii")
        return out
    try:
        if status >= 300:
            out["errors"] = [
                {"code": d.code, "description": d.description, "numbers": []}
                for d in parse_errors(body)
            ]
        elif last == "importtnchecker":
            checked = parse_import_checker(body)
            out["errors"] = _failures(checked.rejected)
        elif listing:
            out["found"] = [o.order_id for o in parse_order_list(body).orders]
        elif exchange.method == "POST" or exchange.order_id is not None:
            doc = parse_order(body)
            out["order_status"] = doc.status
            out["errors"] = _failures(doc.failures) + [
                {"code": d.code, "description": d.description, "numbers": []} for d in doc.errors
            ]
    except XmlError as exc:
        found = _STATUS.search(body)
        if found:
            out["order_status"] = found.group(1).decode("ascii")
        out["unreadable"] = str(exc)[:200]
    if not out.get("errors"):
        out.pop("errors", None)
    return out


def exchange_fields(exchange: Exchange) -> dict[str, Any]:
    """What one exchange says, as the JSON fields of its audit line (without time and seq)."""
    sent = exchange.request_body
    numbers = [m.decode("utf-8", "replace") for m in _NUMBER.findall(sent)] if sent else []
    fields: dict[str, Any] = {
        "method": exchange.method,
        "path": exchange.path,
        "status": exchange.status,
        "fault": exchange.error,
        "elapsed_ms": round(exchange.elapsed_s * 1000.0, 1),
        "customer_order_id": exchange.customer_order_id,
        "order_id": exchange.order_id,
        "order_status": None,
        "numbers": numbers,
    }
    fields.update(_read_answer(exchange))
    return fields


class _Redactor:
    """Replaces every known secret value in a text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {s for s in secrets if s and len(s) >= _MIN_SECRET_CHARS}
        # JSON escapes some characters; redact both the raw and the escaped spelling.
        escaped = {json.dumps(s)[1:-1] for s in values}
        self._values = sorted(values | escaped, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


# --- the writer -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """What an audit session wrote, and whether anything went wrong writing it."""

    path: Path
    lines: int
    segments_rotated: int
    error: str | None


class AuditLog:
    """An open audit log. `record` is the client's `on_exchange` hook; close when done.

    `context` (e.g. `{"run": 3}`) is added to every line; `session` (the command, plan, target)
    to the session line written at open. Use as a context manager, or call `close` (which writes
    the closing session line).
    """

    def __init__(
        self,
        path: Path,
        *,
        context: Mapping[str, Any] | None = None,
        session: Mapping[str, Any] | None = None,
        secrets: Iterable[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_bytes < 1024:
            raise ValueError(f"max_bytes must be at least 1024, got {max_bytes}")
        self.path = path
        self._context = dict(context or {})
        self._redact = _Redactor(secrets)
        self._max_bytes = max_bytes
        self._clock = clock
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._seq = 0
        self._lines = 0
        self._rotated = 0
        self._error: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot open the audit log ({exc.strerror})") from exc
        self._thread = threading.Thread(target=self._write_loop, name="bwmigrate-audit")
        self._thread.start()
        self.note("start", pid=os.getpid(), **(session or {}))

    # called on the event loop: O(1), no I/O ----------------------------------------------------

    def record(self, exchange: Exchange) -> None:
        """Queue one exchange (the `ApiClient(on_exchange=...)` hook)."""
        self._seq += 1
        self._queue.put((self._seq, self._clock(), exchange))

    def note(self, event: str, **fields: Any) -> None:
        """Queue a session line (`start`, `end`, or anything a command wants on record)."""
        self._queue.put((None, self._clock(), {"event": event, **fields}))

    # lifecycle ---------------------------------------------------------------------------------

    def close(self, **fields: Any) -> AuditSummary:
        """Write the end line, drain the queue, flush to disk and stop the writer (bounded)."""
        if self._thread.is_alive():
            self.note("end", exchanges=self._seq, **fields)
            self._queue.put(_STOP)
            self._thread.join(CLOSE_TIMEOUT_S)
            if self._thread.is_alive():
                self._error = self._error or f"the writer did not finish in {CLOSE_TIMEOUT_S} s"
        return AuditSummary(self.path, self._lines, self._rotated, self._error)

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # the writer thread -------------------------------------------------------------------------

    def _line(self, item: tuple[int | None, float, Any]) -> str:
        seq, at, what = item
        if seq is None:
            obj = {"type": "session", "at": _iso(at), **self._context, **what}
        else:
            obj = {"type": "exchange", "at": _iso(at), "seq": seq, **self._context}
            obj.update(exchange_fields(what))
        return self._redact(json.dumps(obj, separators=(",", ":"))) + "\n"

    def _write_loop(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if batch[-1] is _STOP:
                batch.pop()
                stop = True
            self._write(batch)
        self._finish()

    def _write(self, batch: list[Any]) -> None:
        if self._error is not None:
            return
        try:
            for item in batch:
                self._fh.write(self._line(item))
                self._lines += 1
                if self._fh.tell() >= self._max_bytes:
                    self._rotate()
            self._fh.flush()
        except OSError as exc:
            self._error = f"{self.path}: audit log write failed ({exc.strerror}); later lines lost"

    def _rotate(self) -> None:
        """Close the full segment, give it the next free number, and start a new one."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        os.replace(self.path, _segment(self.path, _last_segment(self.path) + 1))
        self._rotated += 1
        self._fh = self.path.open("a", encoding="utf-8")

    def _finish(self) -> None:
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except (OSError, ValueError) as exc:
            self._error = self._error or f"{self.path}: audit log flush failed ({exc})"
        finally:
            self._fh.close()


def _segment(path: Path, n: int) -> Path:
    return path.with_name(f"{path.name}.{n}")


def _last_segment(path: Path) -> int:
    """The highest rotated segment number beside `path` (0 when none)."""
    prefix = path.name + "."
    found = [
        int(p.name[len(prefix) :])
        for p in path.parent.glob(path.name + ".*")
        if p.name[len(prefix) :].isdigit()
    ]
    return max(found, default=0)


# --- reading back --------------------------------------------------------------------------------


def audit_segments(path: Path) -> list[Path]:
    """The files of an audit log, oldest first: `.1`, `.2`, ..., then the current one."""
    prefix = path.name + "."
    rotated = sorted(
        (
            (int(p.name[len(prefix) :]), p)
            for p in path.parent.glob(path.name + ".*")
            if p.name[len(prefix) :].isdigit()
        ),
    )
    files = [p for _, p in rotated]
    if path.exists():
        files.append(path)
    return files


def read_audit(path: Path) -> Iterator[dict[str, Any]]:
    """Every line of an audit log, oldest first; a torn last line (a run still writing or one
    killed mid-write) is skipped, any other unreadable line is an `InputError`."""
    segments = audit_segments(path)
    if not segments:
        raise InputError(
            f"{path}: no audit log here; it is written by `bwmigrate run` beside its state file"
        )
    for segment in segments:
        with segment.open(encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.endswith("\n"):
                    break  # a torn tail: only the current segment can end mid-line
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(
                        f"{segment}:{line_no}: not an audit line ({exc.msg}); was the file edited?"
                    ) from exc
                if isinstance(obj, dict):
                    yield obj


# --- `bwmigrate report --audit` -------------------------------------------------------------------

AUDIT_COLUMNS = (
    "at",
    "command",
    "run",
    "seq",
    "method",
    "path",
    "status",
    "fault",
    "elapsed_ms",
    "customer_order_id",
    "order_id",
    "order_status",
    "numbers",
    "errors",
    "found",
)


def involves(line: Mapping[str, Any], number: str) -> bool:
    """True when an exchange line carries `number` (sent, or named in an error)."""
    if number in (line.get("numbers") or ()):
        return True
    return any(number in (e.get("numbers") or ()) for e in line.get("errors") or ())


class OrderFilter:
    """Matches the exchange lines about one order, named by its id or its CustomerOrderId.

    Lines are read oldest first, so the POST (or the lookup) that ties a CustomerOrderId to an
    order id comes before the polls that carry only the id; the filter remembers the ids.
    """

    def __init__(self, order: str) -> None:
        self._ids = {order}

    def __call__(self, line: Mapping[str, Any]) -> bool:
        ids = {line.get("order_id"), line.get("customer_order_id"), *(line.get("found") or ())}
        if self._ids.isdisjoint(ids):
            return False
        self._ids.update(i for i in ids if i)
        return True


def _cell(line: Mapping[str, Any], column: str, render: Callable[[str], str]) -> str:
    value = line.get(column)
    if value is None:
        return ""
    if column == "numbers":
        return " ".join(render(n) for n in value)
    if column == "found":
        return " ".join(value)
    if column == "errors":
        return " | ".join(
            f"{e.get('code') or ''} {e.get('description') or ''}".strip()
            + (f" [{' '.join(render(n) for n in e['numbers'])}]" if e.get("numbers") else "")
            for e in value
        )
    return str(value)


def write_audit_csv(
    lines: Iterable[Mapping[str, Any]], out: Any, render: Callable[[str], str] = str
) -> int:
    """Exchange lines as CSV (numbers space-separated, errors `code description [numbers]`);
    every cell through `csv_cell`, so an API's description is never a formula or an escape."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    n = 0
    for line in lines:
        writer.writerow([csv_cell(_cell(line, c, render)) for c in AUDIT_COLUMNS])
        n += 1
    return n


def write_audit_json(
    lines: Iterable[Mapping[str, Any]], out: Any, render: Callable[[str], str] = str
) -> int:
    """Exchange lines as one JSON array, streamed."""
    out.write("[")
    n = 0
    for line in lines:
        obj = dict(line)
        obj["numbers"] = [render(x) for x in obj.get("numbers") or ()]
        if obj.get("errors"):
            obj["errors"] = [
                {**e, "numbers": [render(x) for x in e.get("numbers") or ()]} for e in obj["errors"]
            ]
        out.write(",\n" if n else "\n")
        out.write(json.dumps(obj))
        n += 1
    out.write("\n]\n")
    return n
