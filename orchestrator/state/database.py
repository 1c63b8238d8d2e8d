"""The state file's SQLite connection: opening it, write transactions, reads, the meta facts.

Every SQLite error (a damaged page, a full disk, a file that is not a database) comes out of
this class as a `StateFileError`: one line naming the file and what to do (exit 2).

One connection per `Store`, shared by the engine's worker threads under one lock: writes go
through `Database.transaction` (BEGIN IMMEDIATE ... COMMIT, rolled back on any exception, with
`synchronous=FULL`, so a committed transition is on disk before the caller acts on it), reads
through `Database.query`. WAL mode lets a read-only `status` read while a run writes.

A `postgresql://` state (`orchestrator.state.postgres`) is the same class over a
`PgConnection`: the same SQL, in the plan's schema, each transaction BEGIN ... COMMIT; its
errors become a `StateFileError` naming the database (never its password: the URL has none).

The other modules of the wing do their SQL through this class; rows never leave the wing.
Imports only the errors and `postgres`; knows nothing of the tables but `meta`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from orchestrator.errors import InputError, StateFileError
from orchestrator.state.postgres import PgConnection, PgLocation, pg_error
from orchestrator.state.postgres import connect as pg_connect

StateLocation = Path | PgLocation

BUSY_TIMEOUT_S = 30


class Database:
    """An open state file. Create with `Database.connect`; close when done."""

    def __init__(self, path: Any, conn: Any, readonly: bool) -> None:
        self.path: Any = path  # a Path, or a PgLocation (printed the same way in messages)
        self.readonly = readonly
        self._conn: Any = conn
        self._lock = threading.Lock()
        self.postgres = isinstance(conn, PgConnection)

    @classmethod
    def connect(cls, path: StateLocation, *, readonly: bool) -> Database:
        """Open the SQLite file (created unless `readonly`), in WAL mode with full syncs; or
        the plan's schema in a PostgreSQL database."""
        if isinstance(path, PgLocation):
            return cls(path, PgConnection(pg_connect(path, readonly=readonly)), readonly)
        if readonly and not path.exists():
            raise InputError(
                f"{path}: no state file here; run `bwmigrate run PLAN` first or pass --state"
            )
        try:
            if not readonly:
                path.parent.mkdir(parents=True, exist_ok=True)
            uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
            conn = sqlite3.connect(
                uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_S, isolation_level=None
            )
            if not readonly:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise state_file_error(path, exc) from exc
        except OSError as exc:
            raise InputError(f"{path}: cannot open the state file ({exc})") from exc
        return cls(path, conn, readonly)

    def close(self) -> None:
        """Close the connection (after any transaction in progress on another thread)."""
        with self._lock:
            (self._conn.raw if self.postgres else self._conn).close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), serialised across threads.

        On PostgreSQL the `PgConnection` stands in for the `sqlite3.Connection` (the same
        calls: execute, executemany, fetchone, fetchall, rowcount, lastrowid)."""
        if self.postgres:
            with self._lock, self.translated(), self._conn.raw.transaction():
                yield cast(sqlite3.Connection, self._conn)
            return
        with self._lock, self.translated():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # a damaged file may refuse it too
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a read query under the connection lock; every row at once."""
        with self._lock, self.translated():
            return cast(list[sqlite3.Row], self._conn.execute(sql, params).fetchall())

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """SQLite errors raised inside become a `StateFileError` naming this file."""
        try:
            yield
        except sqlite3.Error as exc:
            raise state_file_error(self.path, exc) from exc
        except Exception as exc:
            if self.postgres and _is_psycopg_error(exc):
                raise pg_error(self.path, exc) from exc
            raise

    def table_names(self) -> set[str]:
        """The tables the file holds (none on a new file)."""
        return {r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type='table'")}

    def read_meta(self) -> dict[str, str]:
        """All key/value facts of the state file (schema version, plan hash, target...)."""
        return {k: v for k, v in self.query("SELECT key, value FROM meta")}

    def write_meta(self, key: str, value: str) -> None:
        """Record one fact about the state file (never a secret)."""
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


def _is_psycopg_error(exc: Exception) -> bool:
    """True for an error psycopg raised (psycopg is only imported once a PostgreSQL state is)."""
    import psycopg

    return isinstance(exc, psycopg.Error)


def state_file_error(path: Path, exc: sqlite3.Error) -> StateFileError:
    """What a SQLite error on the state file at `path` means to the user, in one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "not a database" in text:
        return StateFileError(
            f"{path}: not a bwmigrate state file ({text}); pass another --state path"
        )
    if "full" in text:
        return StateFileError(f"{path}: cannot write the state file ({text}): free disk space, "
                              "then run the same command again")  # fmt: skip
    if "locked" in text or "busy" in text:
        return StateFileError(
            f"{path}: the state file stayed locked by another program ({text}); close it, then "
            "run the same command again"
        )
    return StateFileError(
        f"{path}: the state file is damaged ({text}); restore it from a backup, or run "
        f"`bwmigrate status --state {path}` to see what can still be read"
    )
