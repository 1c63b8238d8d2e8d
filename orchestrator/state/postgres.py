"""The state on PostgreSQL: where a plan's state lives in a shared database, and a connection
that speaks the SQL the wing writes for SQLite.

One PostgreSQL database holds many plans, one schema per plan (`bwm_<plan name>_<hash>`): the
wing's tables, constraints, indexes and schema version are the same as in a state file, so every
module of the wing runs unchanged with `search_path` set to the plan's schema, plans cannot see
each other's rows, and dropping a plan is `DROP SCHEMA`. (A `plan_id` column instead would have
to be threaded through every query and every index of the exactly-once protocol.)

`PgConnection` translates the few SQLite spellings the wing uses: `?` placeholders, `INSERT OR
REPLACE` / `INSERT OR IGNORE`, `max(x, 0)`, the table list, and `lastrowid` (`RETURNING id`).
psycopg is imported lazily (only when a `postgresql://` state is opened). A password is never
taken from the URL (the CLI refuses one): libpq reads `PGPASSWORD`, `~/.pgpass` or a service file.

Imports the errors only.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from orchestrator.errors import InputError, StateFileError

SCHEMES = ("postgresql://", "postgres://")
SCHEMA_PREFIX = "bwm_"
_TABLES_SQL = "SELECT name FROM sqlite_master WHERE type='table'"
_PG_TABLES_SQL = (
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
)
_OR_REPLACE = re.compile(r"^\s*INSERT OR REPLACE INTO (\w+)\s*\(([^)]*)\)", re.IGNORECASE)
_MAX2 = re.compile(r"\bmax\(([^(),]+),\s*0\)")
# SQLite's ceiling of a REAL (its CAST truncates; PostgreSQL's rounds, and int + bool fails)
_CEIL = re.compile(r"CAST\((\w+) AS INTEGER\) \+ \(\1 > CAST\(\1 AS INTEGER\)\)")
_ID_TABLES = ("orders", "runs")
# The server's side of this session's TCP keepalives: when the machine of a run vanishes (no
# FIN, no RST), the server ends the session, and its advisory lock (the lease), after
# idle + interval x count seconds; a SIGKILLed process is seen at once (the kernel closes it).
_KEEPALIVE_S = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}


def is_postgres(state: object) -> bool:
    """True when a `--state` value names a PostgreSQL database."""
    return str(state).startswith(SCHEMES)


def url_password(url: str) -> bool:
    """True when a PostgreSQL URL carries a password (in its user part or as a parameter)."""
    parts = urlsplit(url)
    return parts.password is not None or "password=" in parts.query.lower()


def schema_of(plan_name: str) -> str:
    """The PostgreSQL schema holding one plan's state (a valid, stable, lowercase identifier)."""
    slug = re.sub(r"[^a-z0-9_]+", "_", plan_name.lower()).strip("_")[:40]
    digest = hashlib.sha256(plan_name.encode()).hexdigest()[:8]
    return f"{SCHEMA_PREFIX}{slug}_{digest}"


@dataclass(frozen=True)
class PgLocation:
    """One plan's state in a PostgreSQL database: the URL (no password) and the plan's name."""

    url: str
    plan: str | None

    @classmethod
    def parse(cls, text: str) -> PgLocation:
        """`postgresql://host/db#plan` (the plan is optional: `run` names it from the plan)."""
        if url_password(text):
            raise InputError(
                "--state: a password in the PostgreSQL URL is refused (it would show in process "
                "lists and logs); set PGPASSWORD or use ~/.pgpass, and pass the URL without it"
            )
        parts = urlsplit(text)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
        return cls(url, parts.fragment or None)

    def for_plan(self, plan: str) -> PgLocation:
        """This database, for the plan named `plan`."""
        return PgLocation(self.url, plan)

    @property
    def schema(self) -> str:
        """The plan's schema (a usage error when no plan is named)."""
        if self.plan is None:
            raise InputError(f"{self.url}: name the plan: --state {self.url}#PLAN_NAME")
        return schema_of(self.plan)

    @property
    def name(self) -> str:
        """A display name (used where a state file's name would be)."""
        return self.plan or "fleet"

    def __str__(self) -> str:
        return f"{self.url}#{self.plan}" if self.plan else self.url


StateLocation = Path | PgLocation  # where a plan's state is: a SQLite file, or PostgreSQL


def connect(location: PgLocation, *, readonly: bool) -> Any:
    """An autocommit psycopg connection with `search_path` on the plan's schema (created
    unless `readonly`); a `StateFileError`/`InputError` in one line when it cannot."""
    import psycopg  # lazy: only a PostgreSQL state pays for it

    schema = location.schema
    try:
        conn = psycopg.connect(location.url, autocommit=True)
        found = conn.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name=%s", (schema,)
        ).fetchone()
        if found is None and readonly:
            conn.close()
            raise InputError(
                f"{location}: no state for plan {location.plan!r} in this database; run "
                f"`bwmigrate run PLAN --state {location.url}` first"
            )
        if found is None:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        for setting, value in _KEEPALIVE_S.items():  # a vanished holder's lease drops in ~25 s
            conn.execute(f"SET {setting} = {value}")
    except psycopg.Error as exc:
        raise pg_error(location, exc) from exc
    return conn


def schema_exists(location: PgLocation) -> bool:
    """True when the plan's schema is in the database (its state was created)."""
    import psycopg

    try:
        with psycopg.connect(location.url, autocommit=True) as conn:
            return (
                conn.execute(
                    "SELECT 1 FROM information_schema.schemata WHERE schema_name=%s",
                    (location.schema,),
                ).fetchone()
                is not None
            )
    except psycopg.Error as exc:
        raise pg_error(location, exc) from exc


def pg_error(location: object, exc: Exception) -> StateFileError:
    """A PostgreSQL error on the state, in one line naming the database and what to do."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return StateFileError(
        f"{location}: the PostgreSQL state failed ({text}); check the server and the URL, then "
        "run the same command again"
    )


def translate(sql: str) -> str:
    """The wing's SQLite SQL as PostgreSQL runs it."""
    if sql.strip() == _TABLES_SQL:
        return _PG_TABLES_SQL
    sql = sql.replace("%", "%%").replace("?", "%s")
    sql = _MAX2.sub(r"greatest(\1, 0)", sql)
    sql = _CEIL.sub(r"CAST(ceil(\1) AS BIGINT)", sql)
    replace = _OR_REPLACE.match(sql)
    if replace:
        columns = [c.strip().strip('"') for c in replace.group(2).split(",")]
        updates = ", ".join(f"{c}=EXCLUDED.{c}" for c in columns[1:])
        head = _OR_REPLACE.sub(r"INSERT INTO \1 (\2)", sql)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        sql = f"{head} ON CONFLICT ({columns[0]}) {action}"
    elif re.match(r"^\s*INSERT OR IGNORE INTO", sql, re.IGNORECASE):
        sql = re.sub(r"INSERT OR IGNORE INTO", "INSERT INTO", sql, count=1, flags=re.IGNORECASE)
        sql += " ON CONFLICT DO NOTHING"
    return sql


class PgCursor:
    """What the wing reads of a cursor: rows, `rowcount` and `lastrowid`."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchone(self) -> tuple[Any, ...] | None:
        """The first row (or None)."""
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every row."""
        return list(self._rows)

    def __iter__(self) -> Any:
        return iter(self._rows)


class PgConnection:
    """A psycopg connection behind the subset of `sqlite3.Connection` the wing uses."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        """Run one statement; an INSERT into a table with a generated id returns it."""
        text = translate(sql)
        wants_id = _inserts_with_id(text)
        if wants_id:
            text += " RETURNING id"
        cur = self.raw.execute(text, tuple(params))
        rows = cur.fetchall() if cur.description else []
        lastrowid = rows[0][0] if wants_id and rows else None
        return PgCursor([] if wants_id else rows, cur.rowcount, lastrowid)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> PgCursor:
        """Run one statement for each parameter row. A bulk INSERT (`COPY_FROM_ROWS` rows or
        more) goes through COPY into a staging table and one INSERT ... SELECT (its ON CONFLICT
        clause kept): 3.6x the rate of row-by-row inserts in bench/fleet_bench.py; anything else
        is pipelined."""
        text, rows = translate(sql), [tuple(p) for p in seq]
        staged = _staged_insert(text) if len(rows) >= COPY_FROM_ROWS else None
        with self.raw.cursor() as cur:
            if staged is None:
                cur.executemany(text, rows)
                return PgCursor([], cur.rowcount, None)
            create, copy, insert, key = staged
            if key is not None:  # DO UPDATE may touch a row once per statement: the last wins
                rows = list({row[key]: row for row in rows}.values())
            cur.execute("DROP TABLE IF EXISTS pg_temp.bwm_stage")
            cur.execute(create)
            with cur.copy(copy) as pipe:
                for row in rows:
                    pipe.write_row(row)
            cur.execute(insert)
            count = cur.rowcount
            cur.execute("DROP TABLE pg_temp.bwm_stage")
            return PgCursor([], count, None)


COPY_FROM_ROWS = 64  # fewer rows are pipelined: a staging table costs three statements
_BULK_INSERT = re.compile(
    r"^\s*INSERT INTO (\w+)\s*\(([^)]*)\)\s*VALUES\s*\(([^()]*)\)(.*)$", re.IGNORECASE | re.DOTALL
)


@functools.lru_cache(maxsize=64)  # the wing's statements are a handful of constants
def _staged_insert(sql: str) -> tuple[str, str, str, int | None] | None:
    """For `INSERT INTO t (cols) VALUES (%s, 'const', ...) [ON CONFLICT ...]`: the statements
    that create the staging table (the bound columns' types, no constraints), COPY into it and
    insert from it, and for ON CONFLICT ... DO UPDATE the index of the conflict key among the
    bound values (rows repeating a key are cut to the last, as row-by-row replaces would leave
    them); None for any other statement (or one it cannot take apart safely)."""
    found = _BULK_INSERT.match(sql)
    if found is None or "%%" in sql:
        return None
    table, rest = found.group(1), found.group(4)
    columns = [c.strip().strip('"') for c in found.group(2).split(",")]
    values = [v.strip() for v in found.group(3).split(",")]
    if len(columns) != len(values) or "%s" in rest or "RETURNING" in rest.upper():
        return None
    bound = [c for c, v in zip(columns, values, strict=True) if v == "%s"]
    if not bound or any("%s" in v for v in values if v != "%s"):
        return None
    key = None
    if "DO UPDATE" in rest.upper():
        if columns[0] not in bound:
            return None
        key = bound.index(columns[0])  # translate() puts the key first
    select = ", ".join(c if v == "%s" else v for c, v in zip(columns, values, strict=True))
    names = ", ".join(bound)
    return (
        # the wing's own statements taken apart: table and column names, never a value
        f"CREATE TEMP TABLE bwm_stage AS SELECT {names} FROM {table} WITH NO DATA",  # noqa: S608
        f"COPY bwm_stage ({names}) FROM STDIN",
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM bwm_stage{rest}",  # noqa: S608
        key,
    )


def _inserts_with_id(sql: str) -> bool:
    """True for a plain INSERT into one of the tables whose id the database generates."""
    head = re.match(r"^\s*INSERT INTO (\w+)", sql, re.IGNORECASE)
    return bool(head) and head.group(1) in _ID_TABLES and "ON CONFLICT" not in sql  # type: ignore[union-attr]
