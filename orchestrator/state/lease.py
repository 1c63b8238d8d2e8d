"""The lease: one run at a time on a state file.

The authority is an OS file lock on `<state file>.lock` beside the database (`flock`, released
by the OS when the holder dies, even by SIGKILL); the `lease` row only says who holds it, for the
message a second run gets. On PostgreSQL the authority is a session advisory lock keyed by the
plan's schema (`pg_try_advisory_lock`), released by the server when the holder's connection
ends, even by SIGKILL. Imports the database and the errors only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3

from orchestrator.errors import StateFileError, StateLockedError
from orchestrator.state.database import Database

_HOLDER_COLUMNS = ("pid", "host", "command", "acquired_at")
_HOLDER_SQL = "SELECT pid, host, command, acquired_at FROM lease WHERE id=1"
_TRY_PG = "SELECT pg_try_advisory_lock(hashtext(?))"
_UNLOCK_PG = "SELECT pg_advisory_unlock(hashtext(?))"
# Whether some session holds the plan's advisory lock, read from pg_locks without taking it
# (taking and dropping it to look, as a state file's lock is tested, would make a run that
# starts at that instant fail with "locked"). A bigint key shows as classid = its high 32
# bits, objid = its low 32 bits, objsubid = 1.
HELD_PG = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND classid = ((hashtext({key})::bigint >> 32) & 4294967295)::oid "
    "AND objid = (hashtext({key})::bigint & 4294967295)::oid AND objsubid = 1)"
)


class Lease:
    """The lease of one open state file (held or not)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock_path = None if db.postgres else db.path.with_name(db.path.name + ".lock")
        self._fd: int | None = None

    def acquire(self, *, pid: int, host: str, command: str, now: float) -> None:
        """Take the state file for this run, or raise `StateLockedError` at once."""
        try:
            fd = self._lock()
        except BlockingIOError:
            holder = self._db.query(_HOLDER_SQL)
            who = f" by pid {holder[0][0]} on {holder[0][1]} ({holder[0][2]})" if holder else ""
            raise StateLockedError(
                f"{self._db.path}: the state file is in use{who}; wait for that run to end, or "
                "pass another --state"
            ) from None
        self._fd = fd
        with self._db.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO lease(id, pid, host, command, acquired_at) "
                "VALUES (1, ?, ?, ?, ?)",
                (pid, host, command, now),
            )

    def _lock(self) -> int:
        """Take the OS file lock (or the advisory lock), raising `BlockingIOError` if held."""
        if self._lock_path is None:
            if not self._db.query(_TRY_PG, (str(self._db.path.schema),))[0][0]:
                raise BlockingIOError
            return -1
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise
        return fd

    def holder(self) -> dict[str, object] | None:
        """Who holds the state file now, or None (checked with the OS lock, not just the row)."""
        if self._fd is None and not self._held_elsewhere():
            return None
        rows = self._db.query(_HOLDER_SQL)
        if not rows:
            return dict.fromkeys(_HOLDER_COLUMNS)
        return dict(zip(_HOLDER_COLUMNS, rows[0], strict=True))

    def _held_elsewhere(self) -> bool:
        """True when another process holds the OS lock."""
        if self._lock_path is None:
            schema = str(self._db.path.schema)
            held = self._db.query(HELD_PG.format(key="?"), (schema, schema))
            return bool(held[0][0])
        if not self._lock_path.exists():
            return False
        fd = os.open(self._lock_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def release(self) -> None:
        """Give the state file back (the OS also does this if the process dies)."""
        if self._fd is None:
            return
        with contextlib.suppress(sqlite3.Error, StateFileError), self._db.transaction() as c:
            c.execute("DELETE FROM lease WHERE id=1")
        if self._lock_path is None:
            with contextlib.suppress(StateFileError):
                self._db.query(_UNLOCK_PG, (str(self._db.path.schema),))
        else:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
        self._fd = None
