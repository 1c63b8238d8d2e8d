"""The fleet's registry in a PostgreSQL state database: which plans the fleet holds, where
each plan file is, the target it runs against, and how its last run ended.

One table, `bwm_fleet.plans`, beside the plans' own schemas (`orchestrator.state.postgres`);
each plan's progress stays in its schema (read through `Store`), the work queue in
procrastinate's tables (`orchestrator.cutover.fleet`). Registering is one multi-row insert in
one transaction: a fleet is added whole or not at all.

psycopg is imported lazily. Imports the errors and `postgres` only; rows never leave here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import InputError
from orchestrator.state.postgres import SCHEMA_PREFIX, PgLocation, pg_error

SCHEMA = "bwm_fleet"
_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.plans ("
    " name TEXT PRIMARY KEY, account_id TEXT NOT NULL UNIQUE, plan_path TEXT NOT NULL,"
    " target TEXT NOT NULL, numbers INTEGER NOT NULL CHECK (numbers >= 0),"
    " added_at DOUBLE PRECISION NOT NULL, last_exit INTEGER, last_worker TEXT)",
)
_COLUMNS = ("name", "account_id", "plan_path", "target", "numbers", "added_at", "last_exit",
            "last_worker")  # fmt: skip


@dataclass(frozen=True, slots=True)
class FleetPlan:
    """One plan of the fleet, as registered (and how its last run ended, if it ran)."""

    name: str
    account_id: str
    plan_path: str
    target: str
    numbers: int
    added_at: float
    last_exit: int | None = None
    last_worker: str | None = None


def _connect(database: PgLocation) -> Any:
    """An autocommit connection to the fleet's database (a one-line error when it fails)."""
    import psycopg

    try:
        return psycopg.connect(database.url, autocommit=True)
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc


def _has_registry(conn: Any) -> bool:
    """True when the fleet's table is in this database (a fleet was added to it once)."""
    found = conn.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema=%s AND table_name='plans'",
        (SCHEMA,),
    ).fetchone()
    return found is not None


def register_plans(database: PgLocation, plans: Sequence[FleetPlan]) -> None:
    """Add these plans to the fleet in one transaction; a plan (or account) already in it is
    refused, naming it, and nothing is added."""
    import psycopg

    conn = _connect(database)
    try:
        with conn.transaction():
            for ddl in _DDL:
                conn.execute(ddl)
            taken = conn.execute(
                f"SELECT name, account_id FROM {SCHEMA}.plans "  # noqa: S608 - fixed names
                "WHERE name = ANY(%s) OR account_id = ANY(%s)",
                ([p.name for p in plans], [p.account_id for p in plans]),
            ).fetchall()
            if taken:
                name, account = taken[0]
                raise InputError(
                    f"{database.url}: the fleet already holds plan {name!r} (account "
                    f"{account}); one plan per account: `bwmigrate status --state "
                    f"{database.url}` lists the fleet"
                )
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {SCHEMA}.plans ({', '.join(_COLUMNS[:6])}) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (p.name, p.account_id, p.plan_path, p.target, p.numbers, p.added_at)
                        for p in plans
                    ],
                )
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc
    finally:
        conn.close()


def read_plans(database: PgLocation) -> list[FleetPlan]:
    """Every plan of the fleet, by name (none when no fleet was added to this database)."""
    import psycopg

    conn = _connect(database)
    try:
        if not _has_registry(conn):
            return []
        rows = conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {SCHEMA}.plans ORDER BY name"  # noqa: S608
        ).fetchall()
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc
    finally:
        conn.close()
    return [FleetPlan(*row) for row in rows]


def record_exit(database: PgLocation, name: str, exit_code: int, worker: str) -> None:
    """Record how the last run of plan `name` ended, and on which worker."""
    import psycopg

    conn = _connect(database)
    try:
        conn.execute(
            f"UPDATE {SCHEMA}.plans SET last_exit=%s, last_worker=%s WHERE name=%s",  # noqa: S608
            (exit_code, worker, name),
        )
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc
    finally:
        conn.close()


def read_plan_states(database: PgLocation) -> dict[str, dict[str, str]]:
    """Every plan whose state is in this database, registered in the fleet or not (a plan run
    with `bwmigrate run PLAN --state URL` has a schema but no registry row): by plan name, its
    `meta` facts `account_id` and `plan_path`. Read in one query over the plans' schemas."""
    import psycopg
    from psycopg import sql

    conn = _connect(database)
    try:
        schemas = [
            row[0]
            for row in conn.execute(
                "SELECT table_schema FROM information_schema.tables WHERE table_name='meta' "
                "AND table_schema LIKE %s AND table_schema <> %s ORDER BY table_schema",
                (f"{SCHEMA_PREFIX}%", SCHEMA),
            ).fetchall()
        ]
        if not schemas:
            return {}
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL(
                "SELECT {schema}, key, value FROM {meta} "
                "WHERE key IN ('plan_name', 'account_id', 'plan_path')"
            ).format(schema=sql.Literal(s), meta=sql.Identifier(s, "meta"))
            for s in schemas
        )
        rows = conn.execute(query).fetchall()
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc
    finally:
        conn.close()
    facts: dict[str, dict[str, str]] = {}
    for schema, key, value in rows:
        facts.setdefault(schema, {})[key] = value
    return {f["plan_name"]: f for f in facts.values() if "plan_name" in f}


def unregister_plans(database: PgLocation, names: Sequence[str], *, drop_state: bool) -> None:
    """Take these plans out of the fleet in one transaction, and with `drop_state` drop their
    state too (each plan's schema: its numbers, orders, runs and snapshot)."""
    import psycopg
    from psycopg import sql

    from orchestrator.state.postgres import schema_of

    conn = _connect(database)
    try:
        with conn.transaction():
            if _has_registry(conn):
                conn.execute(
                    f"DELETE FROM {SCHEMA}.plans WHERE name = ANY(%s)",  # noqa: S608
                    (list(names),),
                )
            for name in names if drop_state else ():
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(schema_of(name))
                    )
                )
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc
    finally:
        conn.close()
