"""The precompiled DDL (`orchestrator.state.ddl`) is what SQLAlchemy compiles from the tables
(`orchestrator.state.tables`) today: editing a table without regenerating fails here."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.dialects.postgresql import dialect as postgresql_dialect
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlmodel import SQLModel

from orchestrator.state import ddl, snapshot
from orchestrator.state.tables import SNAPSHOT_TABLE, compile_table, render_ddl


def test_ddl_module_is_the_rendering_of_the_tables() -> None:
    """orchestrator/state/ddl.py reads exactly as `--write-ddl` would write it now."""
    assert Path(ddl.__file__).read_text() == render_ddl(), (
        "orchestrator/state/ddl.py is stale: run `python -m orchestrator.state.tables --write-ddl`"
    )


def test_every_statement_equals_what_sqlalchemy_compiles() -> None:
    """Each table's statements, in both dialects, are SQLAlchemy's, table by table."""
    tables = SQLModel.metadata.sorted_tables
    assert [t.name for t in ddl.TABLES] == [t.name for t in tables]
    for stored, table in zip(ddl.TABLES, tables, strict=True):
        assert stored.columns == tuple(c.name for c in table.columns)
        assert (stored.sqlite, stored.sqlite_indexes) == compile_table(table, sqlite_dialect())
        pg = postgresql_dialect()  # type: ignore[no-untyped-call]
        assert (stored.postgresql, stored.postgresql_indexes) == compile_table(table, pg)


def test_the_ddl_creates_the_tables_sqlmodel_would() -> None:
    """An in-memory SQLite database built from ddl.py has the tables, columns and indexes of one
    built by `SQLModel.metadata.create_all`."""
    from_ddl = sqlite3.connect(":memory:")
    for table in ddl.TABLES:
        from_ddl.execute(table.sqlite)
        for index in table.sqlite_indexes:
            from_ddl.execute(index)
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with engine.connect() as conn:
        by_sqlmodel = conn.connection.dbapi_connection
        assert by_sqlmodel is not None
        assert _layout(by_sqlmodel) == _layout(from_ddl)
    assert {"numbers", "orders", "snapshot"} <= {name for name, _ in _layout(from_ddl)}


def test_the_snapshot_table_name_agrees() -> None:
    """tables.py names the snapshot table as orchestrator.state.snapshot does."""
    assert SNAPSHOT_TABLE == snapshot.TABLE


def _layout(conn: object) -> list[tuple[str, str]]:
    """(name, normalised SQL) of every table and index of a SQLite connection."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()  # type: ignore[attr-defined]
    return [(name, " ".join((sql or "").split())) for name, sql in rows]
