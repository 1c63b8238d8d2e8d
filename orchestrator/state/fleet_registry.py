"""The fleet's registry in a PostgreSQL state database: which plans the fleet holds, each
plan's text and number files as `fleet add` compiled them, the target it runs against, and how
its last run ended.

Two tables, `bwm_fleet.plans` and `bwm_fleet.plan_files` (a plan's number files, by the name
the plan gives them), beside the plans' own schemas (`orchestrator.state.postgres`); each
plan's progress stays in its schema (read through `Store`), the work queue in procrastinate's
tables (`orchestrator.cutover.fleet`). Registering is one transaction: a fleet is added whole
or not at all. A registry made before plans travelled in it (no `plan_text`, no `plan_files`)
gains them at the next `fleet add`; its plans keep running from their `plan_path`.

psycopg is imported lazily. Imports the errors and `postgres` only; rows never leave here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
    f"ALTER TABLE {SCHEMA}.plans ADD COLUMN IF NOT EXISTS plan_text TEXT",
    f"CREATE TABLE IF NOT EXISTS {SCHEMA}.plan_files ("
    f" plan TEXT NOT NULL REFERENCES {SCHEMA}.plans (name) ON DELETE CASCADE,"
    " name TEXT NOT NULL, content BYTEA NOT NULL, PRIMARY KEY (plan, name))",
)
_COLUMNS = ("name", "account_id", "plan_path", "target", "numbers", "added_at", "last_exit",
            "last_worker", "plan_text")  # fmt: skip


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
    plan_text: str | None = None  # None: registered before plans travelled; run from plan_path
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)  # registered only:
    # `read_plans` leaves them out, `read_plan_source` reads them for the plan's run


def _connect(database: PgLocation) -> Any:
    """An autocommit connection to the fleet's database (a one-line error when it fails)."""
    import psycopg

    try:
        return psycopg.connect(database.url, autocommit=True)
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc


def _registry_columns(conn: Any) -> set[str]:
    """The columns of the fleet's table (none when no fleet was ever added to this database;
    no `plan_text` when the registry predates plans travelling in it)."""
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema=%s AND table_name='plans'",
        (SCHEMA,),
    ).fetchall()
    return {row[0] for row in rows}


def register_plans(
    database: PgLocation, plans: Sequence[FleetPlan], replacing: Sequence[str] = ()
) -> None:
    """Add these plans to the fleet in one transaction; a plan (or account) already in it is
    refused, naming it, and nothing is added, except the plans named in `replacing`: their
    rows and number files are replaced (same name, same account; the caller has checked that
    they took no effect)."""
    import psycopg

    conn = _connect(database)
    try:
        with conn.transaction():
            for ddl in _DDL:
                conn.execute(ddl)
            taken = conn.execute(
                f"SELECT name, account_id FROM {SCHEMA}.plans "  # noqa: S608 - fixed names
                "WHERE (name = ANY(%s) OR account_id = ANY(%s)) AND NOT name = ANY(%s)",
                ([p.name for p in plans], [p.account_id for p in plans], list(replacing)),
            ).fetchall()
            if taken:
                name, account = taken[0]
                raise InputError(
                    f"{database.url}: the fleet already holds plan {name!r} (account "
                    f"{account}); one plan per account: `bwmigrate status --state "
                    f"{database.url}` lists the fleet (`fleet add --replace` replaces a plan "
                    "of the same name and account that took no effect)"
                )
            conn.execute(  # plan_files go with their plan (ON DELETE CASCADE)
                f"DELETE FROM {SCHEMA}.plans WHERE name = ANY(%s)",  # noqa: S608
                (list(replacing),),
            )
            _insert_plans(conn, plans)
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc
    finally:
        conn.close()


def _insert_plans(conn: Any, plans: Sequence[FleetPlan]) -> None:
    """The plans' rows, then every number file of every plan, each a pipelined batch."""
    columns = (*_COLUMNS[:6], "plan_text")
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {SCHEMA}.plans ({', '.join(columns)}) "  # noqa: S608 - fixed names
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            [
                (p.name, p.account_id, p.plan_path, p.target, p.numbers, p.added_at, p.plan_text)
                for p in plans
            ],
        )
        cur.executemany(
            f"INSERT INTO {SCHEMA}.plan_files (plan, name, content) "  # noqa: S608
            "VALUES (%s, %s, %s)",
            [(p.name, name, data) for p in plans for name, data in p.files.items()],
        )


def read_plans(database: PgLocation) -> list[FleetPlan]:
    """Every plan of the fleet, by name (none when no fleet was added to this database), with
    its text but not its number files."""
    import psycopg

    conn = _connect(database)
    try:
        columns = _registry_columns(conn)
        if not columns:
            return []
        wanted = [c if c in columns else "NULL" for c in _COLUMNS]
        rows = conn.execute(
            f"SELECT {', '.join(wanted)} FROM {SCHEMA}.plans ORDER BY name"  # noqa: S608
        ).fetchall()
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc
    finally:
        conn.close()
    return [FleetPlan(*row) for row in rows]


def read_plan_source(database: PgLocation, name: str) -> tuple[str, dict[str, bytes]] | None:
    """Plan `name`'s text and number files (by the name the plan gives them) as `fleet add`
    stored them, read in one statement; None when the fleet holds no stored text for it."""
    import psycopg

    conn = _connect(database)
    try:
        if "plan_text" not in _registry_columns(conn):
            return None
        rows = conn.execute(
            f"SELECT p.plan_text, f.name, f.content FROM {SCHEMA}.plans p "  # noqa: S608
            f"LEFT JOIN {SCHEMA}.plan_files f ON f.plan = p.name WHERE p.name = %s",
            (name,),
        ).fetchall()
    except psycopg.Error as exc:
        raise pg_error(database, exc) from exc
    finally:
        conn.close()
    if not rows or rows[0][0] is None:
        return None
    return rows[0][0], {file: bytes(data) for _, file, data in rows if file is not None}


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
            if _registry_columns(conn):
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
