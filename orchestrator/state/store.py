"""The state file: every number's progress, every order's transitions, the plan and its hash.

The only module that touches the database. SQLite in WAL mode; the schema is declared with
sqlmodel in `orchestrator.state.schema` (with the records callers get); the hot path uses bulk
SQL on the same connection (the ORM's one-row-at-a-time path is far too slow for millions of
numbers).
Order transitions are committed with `synchronous=FULL` before the engine acts on them, which is
what makes exactly-once submission hold across crashes:

    planned --intent committed--> submitting --id committed--> submitted --outcomes--> done

A lease (an OS file lock beside the database plus a row saying who holds it) stops two runs on
one state file. No secret is ever stored. Rows never leave this module: callers get dataclasses.

Synchronous by design: the engine calls it through `anyio.to_thread` with one writer at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

from orchestrator.api.status import OrderPhase, order_phase
from orchestrator.errors import InputError, StateLockedError, StateMismatchError
from orchestrator.plan import (
    CompiledPlan,
    CompiledStep,
    StepKind,
    a2p_customer_order_id,
    a2p_step_name,
    asks_a2p,
    chained_a2p_settings,
    chained_customer_order_id,
    chained_settings,
    sms_step_name,
)
from orchestrator.state.schema import (
    ExcludedNumber,
    FailedNumber,
    NumberStatus,
    OrderRecord,
    OrderState,
    Outcome,
    ReportRow,
    StepCounts,
    StepInfo,
)

__all__ = [
    "INVALID_INPUT_CODE",
    "SCHEMA_VERSION",
    "ExcludedNumber",
    "FailedNumber",
    "NumberStatus",
    "OrderRecord",
    "OrderState",
    "Outcome",
    "ReportRow",
    "StepCounts",
    "StepInfo",
    "Store",
]

SCHEMA_VERSION = 2
# Older versions this bwmigrate upgrades in place: version -> statements (one transaction).
_MIGRATIONS = {
    "1": ("ALTER TABLE orders ADD COLUMN attempted_at FLOAT",),
}
_REST_OF_PHASE = {
    OrderPhase.SUCCEEDED: NumberStatus.SUCCEEDED,
    OrderPhase.FAILED: NumberStatus.FAILED,
    OrderPhase.UNKNOWN: NumberStatus.UNKNOWN,
    OrderPhase.OPEN: NumberStatus.UNKNOWN,  # an open order is never committed as terminal
}
INVALID_INPUT_CODE = "INVALID_INPUT"  # error_code of numbers the plan itself rejected


# --- the store -----------------------------------------------------------------------------------


class Store:
    """A migration's state file. Open with `Store.open`; close when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection, readonly: bool) -> None:
        self.path = path
        self._conn = conn
        self._readonly = readonly
        self._lock = threading.Lock()
        self._lease_fd: int | None = None

    # lifecycle -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False) -> Store:
        """Open (and if needed create) the state file; check its schema version."""
        if readonly and not path.exists():
            raise InputError(
                f"{path}: no state file here; run `bwmigrate run PLAN` first or pass --state"
            )
        try:
            if not readonly:
                path.parent.mkdir(parents=True, exist_ok=True)
            uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
            conn = sqlite3.connect(
                uri, uri=True, check_same_thread=False, timeout=30, isolation_level=None
            )
            if not readonly:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as exc:
            raise InputError(f"{path}: cannot open the state file ({exc})") from exc
        store = cls(path, conn, readonly)
        try:
            store._check_or_create_schema()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StateMismatchError(
                f"{path}: not a bwmigrate state file ({exc}); pass another --state path"
            ) from exc
        return store

    def close(self) -> None:
        """Release the lease (if held) and close the database."""
        self.release_lease()
        with self._lock:
            self._conn.close()

    def _check_or_create_schema(self) -> None:
        """Create tables on a new file; refuse a file of another schema version.

        Tables, indexes and the schema version are created in one transaction, so a kill
        during creation leaves no half-made file. A file with the tables but an empty `meta`
        (cut short that way by an older bwmigrate, which committed each table on its own)
        has stored nothing yet: its creation is finished now.
        """
        tables = {
            r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "meta" not in tables or not self.meta():
            if self._readonly:
                raise StateMismatchError(f"{self.path}: empty state file; nothing has run yet")
            dialect = sqlite_dialect()
            with self._tx() as c:
                for table in SQLModel.metadata.sorted_tables:
                    c.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)))
                    for index in table.indexes:
                        c.execute(
                            str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect))
                        )
                c.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            return
        version = self.meta().get("schema_version")
        if version in _MIGRATIONS and not self._readonly:
            with self._tx() as c:
                for statement in _MIGRATIONS[version]:
                    c.execute(statement)
                c.execute(
                    "UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),)
                )
            return
        if version != str(SCHEMA_VERSION):
            raise StateMismatchError(
                f"{self.path}: state file schema version {version}, this bwmigrate uses "
                f"{SCHEMA_VERSION}; use the bwmigrate version that made it, or a new --state file"
            )

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), serialised across threads."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a read query under the connection lock."""
        with self._lock:
            cur = self._conn.execute(sql, params)
            return cur.fetchall()

    # lease ------------------------------------------------------------------------------------

    def acquire_lease(self, *, pid: int, host: str, command: str, now: float) -> None:
        """Take the state file for this run, or raise `StateLockedError` at once."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self._query("SELECT pid, host, command, acquired_at FROM lease WHERE id=1")
            who = f" by pid {holder[0][0]} on {holder[0][1]} ({holder[0][2]})" if holder else ""
            raise StateLockedError(
                f"{self.path}: the state file is in use{who}; wait for that run to end, or pass "
                "another --state"
            ) from None
        self._lease_fd = fd
        with self._tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO lease(id, pid, host, command, acquired_at) "
                "VALUES (1, ?, ?, ?, ?)",
                (pid, host, command, now),
            )

    def lease_holder(self) -> dict[str, object] | None:
        """Who holds the state file now, or None (checked with the OS lock, not just the row)."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        if self._lease_fd is None and lock_path.exists():
            fd = os.open(lock_path, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
                return None
            except BlockingIOError:
                pass
            finally:
                os.close(fd)
        elif self._lease_fd is None:
            return None
        rows = self._query("SELECT pid, host, command, acquired_at FROM lease WHERE id=1")
        if not rows:
            return {"pid": None, "host": None, "command": None, "acquired_at": None}
        return dict(zip(("pid", "host", "command", "acquired_at"), rows[0], strict=True))

    def release_lease(self) -> None:
        """Give the state file back (the OS also does this if the process dies)."""
        if self._lease_fd is None:
            return
        with contextlib.suppress(sqlite3.Error), self._tx() as c:
            c.execute("DELETE FROM lease WHERE id=1")
        fcntl.flock(self._lease_fd, fcntl.LOCK_UN)
        os.close(self._lease_fd)
        self._lease_fd = None

    # plan -------------------------------------------------------------------------------------

    def set_meta(self, key: str, value: str) -> None:
        """Record one fact about the state file (never a secret)."""
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def meta(self) -> dict[str, str]:
        """All key/value facts of the state file."""
        return {k: v for k, v in self._query("SELECT key, value FROM meta")}

    def initialize(
        self,
        plan: CompiledPlan,
        plan_text: str,
        now: float,
        *,
        excluded: Sequence[ExcludedNumber] = (),
        facts: Mapping[str, str] | None = None,
    ) -> bool:
        """Store a compiled plan on a new state file, or check it matches the stored one.

        Returns True when the plan was stored now, False when it was already there. Raises
        `StateMismatchError` when the state file belongs to a plan with another hash.
        `excluded` numbers (not part of `plan`'s steps) are stored as failed, and `facts`
        (meta keys such as the run's target) recorded, in the same transaction: a crash
        cannot leave a stored plan without them.
        """
        stored = self.meta().get("plan_hash")
        if stored is not None:
            if stored != plan.hash:
                raise StateMismatchError(
                    f"{self.path}: this state file belongs to plan "
                    f"{self.meta().get('plan_name')!r} with hash {stored[:12]}, but the plan now "
                    f"has hash {plan.hash[:12]}: the plan changed after the run started (a "
                    "different `run --canary` changes it too). Restore the plan (and --canary) "
                    "to resume, or pass a new --state file to run the changed plan as a new "
                    "migration"
                )
            return False
        with self._tx() as c:
            self._insert_plan(c, plan, plan_text, now, excluded)
            c.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (facts or {}).items()
            )
        return True

    def discard_plan_without_effect(self, plan_hash: str) -> bool:
        """Drop the stored plan when `plan_hash` differs and nothing of it took effect.

        Nothing took effect when no number succeeded (or needs action, or has an unknown
        outcome) and no order is being or has been sent without an outcome: then no number on
        the account was changed by it, and a corrected plan (after a refused canary, say) may
        start over on this file. Returns True when the old plan was dropped; the caller stores
        the new one. Runs and meta facts (such as the target) are kept.
        """
        stored = self.meta().get("plan_hash")
        if stored is None or stored == plan_hash:
            return False
        with self._tx() as c:
            took_effect = c.execute(
                "SELECT EXISTS (SELECT 1 FROM numbers WHERE status IN "
                "('succeeded', 'needs_action', 'unknown', 'in_order')) "
                "OR EXISTS (SELECT 1 FROM orders WHERE state IN ('submitting', 'submitted'))"
            ).fetchone()[0]
            if took_effect:
                return False
            for table in ("numbers", "orders", "steps"):
                c.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            c.execute("DELETE FROM meta WHERE key IN ('plan_hash', 'plan_text')")
        return True

    def _insert_plan(
        self,
        c: sqlite3.Connection,
        plan: CompiledPlan,
        text: str,
        now: float,
        excluded: Sequence[ExcludedNumber] = (),
    ) -> None:
        """Write steps, numbers (valid and invalid) and planned orders in one transaction."""
        spec = plan.spec
        facts = {
            "plan_hash": plan.hash,
            "plan_name": spec.name,
            "plan_path": spec.path,
            "account_id": spec.account_id,
            "plan_text": text,
            "created_at": str(now),
            "batch_size": str(spec.batch_size),
        }
        c.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", facts.items())
        for step in plan.steps:
            self._insert_step(c, step.spec.index, step.spec.name, step.spec.kind, None,
                              step.depends_on, step.spec.settings())  # fmt: skip
        next_id = len(plan.steps)
        for step in plan.steps:
            self._insert_step_numbers(c, plan, step.spec.index, now)
            for name, source, settings in self._chained_steps(step):
                self._insert_step(c, next_id, name, StepKind.MESSAGING, source, (), settings)
                self._insert_chained_numbers(c, next_id, step, now)
                next_id += 1
        invalid_seq: dict[int, int] = {s.spec.index: len(s.numbers) for s in plan.steps}
        rows = []
        for e in plan.invalid:
            seq = invalid_seq[e.step_index]
            invalid_seq[e.step_index] = seq + 1
            rows.append(
                (
                    e.step_index,
                    seq,
                    e.raw,
                    e.location,
                    INVALID_INPUT_CODE,
                    e.message,
                    now,
                )
            )
        c.executemany(
            "INSERT INTO numbers(step, seq, e164, raw, source, status, error_code, "
            "error_description, updated_at) VALUES (?, ?, NULL, ?, ?, 'failed', ?, ?, ?)",
            rows,
        )
        kept = []
        for x in excluded:
            seq = invalid_seq[x.step]
            invalid_seq[x.step] = seq + 1
            kept.append((x.step, seq, x.e164, x.raw, x.source, x.code, x.description, x.note, now))
        c.executemany(
            "INSERT INTO numbers(step, seq, e164, raw, source, status, error_code, "
            "error_description, note, updated_at) VALUES (?, ?, ?, ?, ?, 'failed', ?, ?, ?, ?)",
            kept,
        )

    @staticmethod
    def _chained_steps(step: CompiledStep) -> list[tuple[str, int | str, dict[str, Any]]]:
        """The TN option steps chained after `step`: (name, chained from, settings).

        An import with `enable_messaging` is followed by its SMS-on step; a step turning SMS
        on with A2P settings (that SMS-on step, or a messaging step) by an A2P-only step. The
        source is a step id, or the name of a chained step inserted just before.
        """
        spec = step.spec
        out: list[tuple[str, int | str, dict[str, Any]]] = []
        if spec.kind is StepKind.IMPORT and spec.enable_messaging:
            out.append((sms_step_name(spec), spec.index, chained_settings(spec)))
        if asks_a2p(spec):
            source: int | str = spec.index if spec.kind is StepKind.MESSAGING else out[0][0]
            out.append((a2p_step_name(spec), source, chained_a2p_settings(spec)))
        return out

    @staticmethod
    def _insert_step(
        c: sqlite3.Connection,
        step_id: int,
        name: str,
        kind: StepKind,
        chained_from: int | str | None,
        depends_on: Sequence[int],
        settings: Mapping[str, Any],
    ) -> None:
        """Insert one step row; a chained step named by its source's name finds its id here."""
        source = chained_from
        if isinstance(chained_from, str):
            source = c.execute("SELECT id FROM steps WHERE name=?", (chained_from,)).fetchone()[0]
        c.execute(
            "INSERT INTO steps(id, name, kind, chained_from, depends_on, settings) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (step_id, name, kind.value, source, json.dumps(list(depends_on)), json.dumps(settings)),
        )

    @staticmethod
    def _insert_chained_numbers(
        c: sqlite3.Connection, step_id: int, source: CompiledStep, now: float
    ) -> None:
        """A chained step's numbers: the source's, pending, in no order until its orders end."""
        c.executemany(
            "INSERT INTO numbers(step, seq, e164, raw, source, status, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'pending', ?)",
            (
                (step_id, i, e, r, loc, now)
                for i, (e, r, loc) in enumerate(
                    zip(source.numbers, source.raws, source.locations, strict=True)
                )
            ),
        )

    def _insert_step_numbers(
        self, c: sqlite3.Connection, plan: CompiledPlan, index: int, now: float
    ) -> None:
        """Insert a step's planned orders and its numbers, each tied to its order."""
        step = plan.steps[index]
        owners: list[int] = []
        for order in step.orders:
            cur = c.execute(
                "INSERT INTO orders(step, idx, customer_order_id, state, size, created_at) "
                "VALUES (?, ?, ?, 'planned', ?, ?)",
                (index, order.index, order.customer_order_id, len(order.numbers), now),
            )
            assert cur.lastrowid is not None
            owners += [cur.lastrowid] * len(order.numbers)
        c.executemany(
            "INSERT INTO numbers(step, seq, e164, raw, source, status, order_id, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
            (
                (index, i, e, r, loc, owner, now)
                for i, (e, r, loc, owner) in enumerate(
                    zip(step.numbers, step.raws, step.locations, owners, strict=True)
                )
            ),
        )

    # steps and orders -------------------------------------------------------------------------

    def steps(self) -> list[StepInfo]:
        """Every step, plan order first, chained steps after."""
        return [
            StepInfo(
                id=r[0],
                name=r[1],
                kind=StepKind(r[2]),
                chained_from=r[3],
                depends_on=tuple(json.loads(r[4])),
                settings=json.loads(r[5]),
            )
            for r in self._query(
                "SELECT id, name, kind, chained_from, depends_on, settings FROM steps ORDER BY id"
            )
        ]

    _ORDER_COLS = (
        "id, step, idx, customer_order_id, state, remote_id, remote_status, size, "
        "submit_attempts, attempted_at"
    )

    @staticmethod
    def _order(r: Sequence[Any]) -> OrderRecord:
        return OrderRecord(
            id=r[0],
            step=r[1],
            idx=r[2],
            customer_order_id=r[3],
            state=OrderState(r[4]),
            remote_id=r[5],
            remote_status=r[6],
            size=r[7],
            submit_attempts=r[8],
            attempted_at=r[9],
        )

    def orders(self, state: OrderState | None = None, step: int | None = None) -> list[OrderRecord]:
        """Orders in a state and/or of a step (all when not given), by step then index."""
        clauses: list[str] = []
        params: list[object] = []
        if state is not None:
            clauses.append("state = ?")
            params.append(state.value)
        if step is not None:
            clauses.append("step = ?")
            params.append(step)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._query(
            f"SELECT {self._ORDER_COLS} FROM orders{where} ORDER BY step, idx",  # noqa: S608
            params,
        )
        return [self._order(r) for r in rows]

    def order_numbers(self, order_id: int) -> list[str]:
        """The E.164 numbers of an order, in plan order."""
        rows = self._query("SELECT e164 FROM numbers WHERE order_id=? ORDER BY seq", (order_id,))
        return [r[0] for r in rows]

    def order_errors(self, order_id: int) -> list[tuple[str | None, str | None]]:
        """The distinct (code, description) pairs recorded on an order's numbers."""
        rows = self._query(
            "SELECT DISTINCT error_code, error_description FROM numbers "
            "WHERE order_id=? AND error_code IS NOT NULL",
            (order_id,),
        )
        return [(r[0], r[1]) for r in rows]

    def mark_submitting(self, order_id: int, now: float) -> None:
        """Commit the intent to POST an order (durable before the request is sent)."""
        with self._tx() as c:
            c.execute(
                "UPDATE orders SET state='submitting', submit_attempts=submit_attempts+1, "
                "attempted_at=? WHERE id=? AND state='planned'",
                (now, order_id),
            )
            c.execute(
                "UPDATE numbers SET status='in_order', attempts=attempts+1, updated_at=? "
                "WHERE order_id=? AND status IN ('pending', 'in_order')",
                (now, order_id),
            )

    def mark_submitted(
        self, order_id: int, remote_id: str, remote_status: str | None, now: float
    ) -> None:
        """Commit the order id the API gave (or that a lookup found) before polling it."""
        with self._tx() as c:
            c.execute(
                "UPDATE orders SET state='submitted', remote_id=?, remote_status=?, "
                "submitted_at=?, last_error=NULL WHERE id=?",
                (remote_id, remote_status, now, order_id),
            )

    def mark_absent(self, order_id: int, reason: str) -> None:
        """A `submitting` order proved absent remotely: back to planned, to be posted again."""
        with self._tx() as c:
            c.execute(
                "UPDATE orders SET state='planned', last_error=? WHERE id=? AND state='submitting'",
                (reason, order_id),
            )

    def forget_remote_orders(self, reason: str) -> int:
        """The remote side lost every order (a rehearsal's embedded sandbox was restarted):
        put submitting and submitted orders back to planned. Never used against a real API."""
        with self._tx() as c:
            return c.execute(
                "UPDATE orders SET state='planned', remote_id=NULL, remote_status=NULL, "
                "last_error=? WHERE state IN ('submitting', 'submitted')",
                (reason,),
            ).rowcount

    def succeeded_numbers(self) -> Iterator[tuple[int, str]]:
        """(step id, E.164) of every number whose step succeeded, in step order."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT step, e164 FROM numbers WHERE status='succeeded' ORDER BY step, seq"
            ).fetchall()
        yield from ((r[0], r[1]) for r in rows)

    def note_order_error(self, order_id: int, message: str) -> None:
        """Remember the last error seen for an order (shown by status and report)."""
        with self._tx() as c:
            c.execute("UPDATE orders SET last_error=? WHERE id=?", (message, order_id))

    def record_outcome(
        self,
        order_id: int,
        remote_status: str,
        failures: Sequence[FailedNumber],
        order_error: tuple[str, str] | None,
        warnings: Sequence[tuple[str, str]],
        now: float,
        *,
        rest: NumberStatus | None = None,
        rest_note: str | None = None,
    ) -> Outcome:
        """Commit an order's terminal status and its per-number outcomes in one transaction.

        Numbers listed in `failures` get their status (failed, or needs_action) with the API's
        code and description. Every other number of the order gets `rest` (by default what
        `order_phase(remote_status)` says: succeeded for COMPLETE/PARTIAL, failed for
        FAILED/EXCEPTION/REJECTED, unknown otherwise), with `order_error` unless it succeeded.
        If the order's step has a chained step, a chained order is planned for the numbers that
        succeeded and the chained step's other numbers of this order are skipped.
        """
        status = remote_status.upper()
        rest = rest or _REST_OF_PHASE[order_phase(status)]
        with self._tx() as c:
            row = c.execute(
                "SELECT step, customer_order_id FROM orders WHERE id=?", (order_id,)
            ).fetchone()
            step, customer_order_id = row[0], row[1]
            moved: Counter[str] = Counter()
            for f in failures:
                moved[f.status] += c.execute(
                    "UPDATE numbers SET status=?, error_code=?, error_description=?, "
                    "note=coalesce(?, note), updated_at=? "
                    "WHERE order_id=? AND e164=? AND status='in_order'",
                    (f.status, f.code, f.description, f.note, now, order_id, f.number),
                ).rowcount
            c.executemany(
                "UPDATE numbers SET note=? WHERE order_id=? AND e164=?",
                ((desc, order_id, number) for number, desc in warnings),
            )
            code, desc = order_error or (None, None)
            if rest is not NumberStatus.SUCCEEDED and code is None:
                code, desc = status, f"order {status.lower()} without per-number errors"
            if rest is NumberStatus.SUCCEEDED:
                code = desc = None
            moved[rest.value] += c.execute(
                "UPDATE numbers SET status=?, error_code=?, error_description=?, "
                "note=coalesce(?, note), updated_at=? WHERE order_id=? AND status='in_order'",
                (rest.value, code, desc, rest_note, now, order_id),
            ).rowcount
            c.execute(
                "UPDATE orders SET state='done', remote_status=?, finished_at=?, "
                "last_error=? WHERE id=?",
                (status, now, f"{code}: {desc}" if order_error else None, order_id),
            )
            chained, skipped = self._chain(c, step, order_id, customer_order_id, now)
        return Outcome(
            succeeded=moved["succeeded"],
            failed=moved["failed"],
            skipped=skipped,
            chained_order=chained,
            needs_action=moved["needs_action"],
            unknown=moved["unknown"],
        )

    def _chain(
        self, c: sqlite3.Connection, step: int, order_id: int, customer_order_id: str, now: float
    ) -> tuple[OrderRecord | None, int]:
        """Plan the chained order for an order's successes; skip the rest (and their own chain).

        The source is an import (its chained step turns SMS on) or a step turning SMS on (its
        chained step sends the A2P settings). A number the source failed is skipped in the
        chained step and in every step chained after it, which will never see an order for it.
        """
        chained = c.execute(
            "SELECT id, settings FROM steps WHERE chained_from=?", (step,)
        ).fetchone()
        if chained is None:
            return None, 0
        chained_step, role = chained[0], json.loads(chained[1]).get("role")
        kind = c.execute("SELECT kind FROM steps WHERE id=?", (step,)).fetchone()[0]
        what = "import" if kind == StepKind.IMPORT.value else "SMS on"
        skipped = 0
        target: int | None = chained_step
        while target is not None:
            count = c.execute(
                "UPDATE numbers SET status='skipped', error_code=src.error_code, "
                "error_description=? || (CASE WHEN src.status='unknown' THEN ' outcome unknown: '"
                " ELSE ' failed: ' END) || coalesce(src.error_description, ''), "
                "updated_at=? FROM (SELECT seq, status, error_code, error_description FROM numbers "
                "WHERE order_id=? AND status NOT IN ('succeeded', 'in_order')) AS src "
                "WHERE numbers.step=? AND numbers.seq=src.seq AND numbers.status='pending'",
                (what, now, order_id, target),
            ).rowcount
            skipped += count if target == chained_step else 0
            row = c.execute("SELECT id FROM steps WHERE chained_from=?", (target,)).fetchone()
            target = None if row is None else row[0]
        ok = c.execute(
            "SELECT count(*) FROM numbers WHERE order_id=? AND status='succeeded'", (order_id,)
        ).fetchone()[0]
        if not ok:
            return None, skipped
        idx = c.execute("SELECT idx FROM orders WHERE id=?", (order_id,)).fetchone()[0]
        cid = (a2p_customer_order_id if role == "a2p" else chained_customer_order_id)(
            customer_order_id
        )
        cur = c.execute(
            "INSERT INTO orders(step, idx, customer_order_id, state, size, created_at) "
            "VALUES (?, ?, ?, 'planned', ?, ?)",
            (chained_step, idx, cid, ok, now),
        )
        new_id = cur.lastrowid
        assert new_id is not None
        c.execute(
            "UPDATE numbers SET order_id=?, updated_at=? WHERE step=? AND seq IN "
            "(SELECT seq FROM numbers WHERE order_id=? AND status='succeeded')",
            (new_id, now, chained_step, order_id),
        )
        return OrderRecord(
            id=new_id,
            step=chained_step,
            idx=idx,
            customer_order_id=cid,
            state=OrderState.PLANNED,
            remote_id=None,
            remote_status=None,
            size=ok,
            submit_attempts=0,
        ), skipped

    # counts, runs, report ---------------------------------------------------------------------

    def counts(self) -> list[StepCounts]:
        """Per-step number counts by status."""
        out = {s.id: StepCounts(step=s.id, name=s.name, kind=s.kind.value) for s in self.steps()}
        for step, status, n in self._query(
            "SELECT step, status, count(*) FROM numbers GROUP BY step, status"
        ):
            sc = out[step]
            setattr(sc, status, n)
            sc.total += n
        return list(out.values())

    def order_counts(self) -> dict[str, int]:
        """Orders by protocol state."""
        return {
            r[0]: r[1] for r in self._query("SELECT state, count(*) FROM orders GROUP BY state")
        }

    def api_failed_counts(self) -> tuple[int, int]:
        """(finished, failed) numbers that went through the API (plan-invalid ones excluded)."""
        rows = self._query(
            "SELECT status, count(*) FROM numbers WHERE status IN "
            "('succeeded', 'failed', 'needs_action') AND order_id IS NOT NULL GROUP BY status"
        )
        by: dict[str, int] = {r[0]: r[1] for r in rows}
        return sum(by.values()), by.get("failed", 0)

    def start_run(self, *, pid: int, target: str, now: float) -> int:
        """Record the start of a run; `target` must carry no credentials."""
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO runs(started_at, pid, target) VALUES (?, ?, ?)", (now, pid, target)
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def open_run_id(self) -> int | None:
        """The run this lease holder started and has not ended (None outside a run)."""
        rows = self._query("SELECT max(id) FROM runs WHERE ended_at IS NULL")
        return rows[0][0] if rows else None

    def update_run_counters(
        self, run_id: int, *, requests: int, rate_limited: int, retried: int
    ) -> None:
        """Record a running run's request counters (read by `status` during the run)."""
        with self._tx() as c:
            c.execute(
                "UPDATE runs SET requests=?, rate_limited=?, retried=? WHERE id=?",
                (requests, rate_limited, retried, run_id),
            )

    def end_run(
        self,
        run_id: int,
        *,
        exit_code: int,
        requests: int,
        rate_limited: int,
        retried: int,
        now: float,
    ) -> None:
        """Record how a run ended and what it cost in requests."""
        with self._tx() as c:
            c.execute(
                "UPDATE runs SET ended_at=?, exit_code=?, requests=?, rate_limited=?, "
                "retried=? WHERE id=?",
                (now, exit_code, requests, rate_limited, retried, run_id),
            )

    def runs(self) -> list[dict[str, Any]]:
        """Every run so far, oldest first."""
        cols = (
            "id",
            "started_at",
            "ended_at",
            "pid",
            "target",
            "exit_code",
            "requests",
            "rate_limited",
            "retried",
        )
        rows = self._query(f"SELECT {', '.join(cols)} FROM runs ORDER BY id")  # noqa: S608
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def iter_report(self, batch: int = 5000) -> Iterator[ReportRow]:
        """Every number in every step with its outcome, streamed in batches."""
        sql = (
            "SELECT s.name, s.kind, n.e164, n.raw, n.source, n.status, o.remote_id, "
            "o.customer_order_id, n.error_code, n.error_description, n.note, n.attempts, "
            "n.updated_at, n.id FROM numbers n JOIN steps s ON s.id = n.step "
            "LEFT JOIN orders o ON o.id = n.order_id WHERE n.id > ? ORDER BY n.id LIMIT ?"
        )
        last = 0
        while True:
            rows = self._query(sql, (last, batch))
            if not rows:
                return
            for r in rows:
                yield ReportRow(*r[:13])
            last = rows[-1][13]
