"""The state file's schema version: creating the tables, upgrading older files in place.

    version 1   the first release
    version 2   orders.attempted_at (when the last POST was committed as intended)
    version 3   CHECK constraints on numbers.status, orders.state and steps.kind, generated from
                the enums of `orchestrator.state.schema`
    version 4   the `snapshot` table (`orchestrator.state.snapshot`: each planned number as the
                API showed it before the run); additive, so versions 2 and 3 read as they are

A new file gets every table, index and the version in one transaction. A file of an older
version is upgraded in one transaction too: columns are added with ALTER TABLE; a constraint,
which SQLite cannot add to an existing table, by rebuilding the table (create the new one,
copy every row, drop the old one, rename the new one, create its indexes again). A kill during
an upgrade leaves the file as it was. A read-only open never upgrades: a version-2 file reads
like a current one (version 3 only adds constraints), so `status` and `report` read it as it
is; a version-1 file lacks a column and is refused with a line saying the next run upgrades it.
Any other version is refused.

On PostgreSQL (`orchestrator.state.postgres`) a plan's schema is created at the current
version, the DDL compiled for PostgreSQL from the same tables (same CHECK constraints).

The statements come precompiled from `orchestrator.state.ddl` (generated from the sqlmodel
classes of `orchestrator.state.tables`), so no command imports sqlmodel or SQLAlchemy to
create or upgrade a state. Imports the DDL and the database only; knows nothing of plans or
orders.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from orchestrator.errors import EmptyStateError, StateMismatchError
from orchestrator.state.database import Database
from orchestrator.state.ddl import TABLES, TableDDL

SCHEMA_VERSION = 4
_BY_NAME = {table.name: table for table in TABLES}
_CONSTRAINED = ("steps", "numbers", "orders")  # the tables with CHECK constraints (version 3)
_READABLE_AS_IS = frozenset({"2", "3"})  # read-only commands read them (no snapshot table)


def prepare_schema(db: Database) -> None:
    """Create the tables on a new file, upgrade an older version in place, refuse any other.

    A file with tables but an empty `meta` (its creation cut short by an older bwmigrate, which
    committed each table on its own) has stored nothing yet: its creation is finished now.
    """
    meta = db.read_meta() if "meta" in db.table_names() else {}
    if not meta:
        if db.readonly:
            raise EmptyStateError(f"{db.path}: empty state file; nothing has run yet")
        _create_schema(db)
        return
    version = meta.get("schema_version")
    if version == str(SCHEMA_VERSION) or (version in _READABLE_AS_IS and db.readonly):
        return
    if version in _UPGRADES and db.readonly:
        raise StateMismatchError(
            f"{db.path}: state file schema version {version} needs upgrading to "
            f"{SCHEMA_VERSION}, which a read-only command does not do; the next `bwmigrate run` "
            "on it upgrades it in place (and resumes it), or read it with the bwmigrate version "
            "that made it"
        )
    if version in _UPGRADES:
        _upgrade_schema(db)
        return
    raise StateMismatchError(
        f"{db.path}: state file schema version {version}, this bwmigrate uses "
        f"{SCHEMA_VERSION}; use the bwmigrate version that made it, or a new --state file"
    )


def _create_schema(db: Database) -> None:
    """Every table and index, and the schema version, in one transaction.

    Tables left by a cut-short creation are rebuilt to this version's definition (they hold
    nothing, but may lack a column or a constraint); missing ones are created. A file whose
    tables hold rows but that has no schema version was not made by bwmigrate: refused, as is.
    """
    with db.transaction() as c:
        existing = _tables(c)
        for table in TABLES:
            if table.name in existing and _holds_rows(c, table.name):
                raise StateMismatchError(
                    f"{db.path}: table {table.name} holds rows but the file has no schema "
                    "version: not a bwmigrate state file; pass another --state path"
                )
            if table.name in existing:
                _rebuild_table(c, table)
            elif db.postgres:
                c.execute(table.postgresql)
                _create_indexes(c, table.postgresql_indexes)
            else:
                c.execute(table.sqlite)
                _create_indexes(c, table.sqlite_indexes)
        c.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )


def _upgrade_schema(db: Database) -> None:
    """Run every upgrade from the file's version to this one in one transaction."""
    with db.transaction() as c:
        row = c.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = row[0]  # read again under the write lock: another opener may have upgraded
        start = version
        try:
            while version != str(SCHEMA_VERSION):
                _UPGRADES[version](c)
                version = str(int(version) + 1)
        except sqlite3.IntegrityError as exc:
            raise StateMismatchError(
                f"{db.path}: cannot upgrade the state file from schema version {start} to "
                f"{SCHEMA_VERSION}: it holds a value this bwmigrate does not know ({exc}); use "
                "the bwmigrate version that made it"
            ) from exc
        c.execute("UPDATE meta SET value=? WHERE key='schema_version'", (version,))


def _add_attempted_at(c: sqlite3.Connection) -> None:
    """1 -> 2: orders remember when their last POST was committed as intended."""
    c.execute("ALTER TABLE orders ADD COLUMN attempted_at FLOAT")


def _add_checks(c: sqlite3.Connection) -> None:
    """2 -> 3: the closed-set columns get their CHECK constraints (tables rebuilt)."""
    for name in _CONSTRAINED:
        _rebuild_table(c, _BY_NAME[name])


def _add_snapshot(c: sqlite3.Connection) -> None:
    """3 -> 4: the snapshot table (nothing else changes)."""
    table = _BY_NAME["snapshot"]
    c.execute(_renamed(table, "IF NOT EXISTS snapshot"))
    _create_indexes(c, table.sqlite_indexes)


_UPGRADES: dict[str, Callable[[sqlite3.Connection], None]] = {
    "1": _add_attempted_at,
    "2": _add_checks,
    "3": _add_snapshot,
}


def _tables(c: sqlite3.Connection) -> set[str]:
    """The tables the file holds."""
    return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _holds_rows(c: sqlite3.Connection, name: str) -> bool:
    """True when the table has at least one row."""
    return bool(c.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchone()[0])  # noqa: S608


def _columns(c: sqlite3.Connection, name: str) -> list[str]:
    """The columns of a table as the file holds it."""
    return [r[1] for r in c.execute(f"PRAGMA table_info({name})")]


def _rebuild_table(c: sqlite3.Connection, table: TableDDL) -> None:
    """Give `table` its current definition, keeping every row (SQLite's recipe for changes
    ALTER TABLE cannot make): create the new table, copy, drop the old one, rename, index.

    Columns the file lacks take their defaults; a row the new constraints refuse raises
    `sqlite3.IntegrityError` and the caller's transaction leaves the file as it was.
    """
    new = f"{table.name}_rebuilt"
    c.execute(_renamed(table, new))
    kept = ", ".join(f'"{col}"' for col in _columns(c, table.name) if col in table.columns)
    c.execute(f"INSERT INTO {new} ({kept}) SELECT {kept} FROM {table.name}")  # noqa: S608
    c.execute(f"DROP TABLE {table.name}")
    c.execute(f"ALTER TABLE {new} RENAME TO {table.name}")
    _create_indexes(c, table.sqlite_indexes)


def _renamed(table: TableDDL, name: str) -> str:
    """`table`'s SQLite CREATE TABLE with `name` in place of its name."""
    head = f"CREATE TABLE {table.name} ("
    assert table.sqlite.lstrip().startswith(head), table.sqlite
    return table.sqlite.replace(head, f"CREATE TABLE {name} (", 1)


def _create_indexes(c: sqlite3.Connection, statements: tuple[str, ...]) -> None:
    """A table's declared indexes, IF NOT EXISTS (its UNIQUE constraints come with the table)."""
    for statement in statements:
        c.execute(statement)
