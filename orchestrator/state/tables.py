"""The state file's tables as sqlmodel classes: the source of the DDL in `orchestrator.state.ddl`.

Each closed-set column gets a CHECK constraint generated from its enum
(`orchestrator.state.schema`), so the database itself refuses any other value. Nothing at run
time imports this module: importing sqlmodel, pydantic and SQLAlchemy costs a few tenths of a
second of CPU on every command, so the statements they compile to are kept, generated, in
`orchestrator.state.ddl` (which `orchestrator.state.migration` executes). After changing a
table here, regenerate it:

    python -m orchestrator.state.tables --write-ddl

`tests/unit/test_ddl.py` fails while the two differ. Imports the schema's enums, the plan's
`StepKind` and the snapshot's table name; touches no database.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import CheckConstraint, Index, Table
from sqlalchemy.dialects.postgresql import dialect as postgresql_dialect
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Field, SQLModel

from orchestrator.plan import StepKind
from orchestrator.state.schema import NumberStatus, OrderState

DDL_PATH = Path(__file__).with_name("ddl.py")
SNAPSHOT_TABLE = "snapshot"  # `orchestrator.state.snapshot.TABLE` (it imports the api's record)


def _one_of(table: str, column: str, values: type[StrEnum]) -> CheckConstraint:
    """A CHECK constraint, named `ck_<table>_<column>`: `column` holds one of the enum's values.

    Written `column = 'a' OR column = 'b' ...`, not `column IN (...)`: SQLite builds an
    ephemeral table for an IN list each time it checks a row, which halves the bulk insert and
    update rates (bench/cutover_bench.py's checkpoint); the OR chain costs next to nothing.
    """
    terms = []
    for member in values:
        assert "'" not in member.value, member  # enum values are code constants, never quoted
        terms.append(f"{column} = '{member.value}'")
    return CheckConstraint(" OR ".join(terms), name=f"ck_{table}_{column}")


def _zero() -> Any:
    """A counter column: 0 in Python and in the database (bulk SQL inserts rely on it)."""
    return Field(default=0, sa_column_kwargs={"server_default": "0"})


class MetaRow(SQLModel, table=True):
    """Key/value facts about the state file: schema version, plan hash, plan text."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class StepRow(SQLModel, table=True):
    """A plan step, or the TN option step chained to an import."""

    __tablename__ = "steps"
    __table_args__ = (_one_of("steps", "kind", StepKind),)
    id: int = Field(primary_key=True)
    name: str
    kind: str
    chained_from: int | None = None
    depends_on: str = "[]"  # JSON list of step ids that must finish first
    settings: str = "{}"  # JSON, as shown by the dry run


class NumberRow(SQLModel, table=True):
    """One number in one step: the unit of progress."""

    __tablename__ = "numbers"
    __table_args__ = (
        Index("ix_numbers_step_seq", "step", "seq", unique=True),
        Index("ix_numbers_order_e164", "order_id", "e164"),
        _one_of("numbers", "status", NumberStatus),
    )
    id: int | None = Field(default=None, primary_key=True)
    step: int
    seq: int
    e164: str | None = None
    raw: str
    source: str
    status: str  # a NumberStatus value
    order_id: int | None = None
    error_code: str | None = None
    error_description: str | None = None
    note: str | None = None
    attempts: int = _zero()
    updated_at: float = _zero()


class OrderRow(SQLModel, table=True):
    """One v2 order and its place in the exactly-once protocol."""

    __tablename__ = "orders"
    __table_args__ = (_one_of("orders", "state", OrderState),)
    id: int | None = Field(default=None, primary_key=True)
    step: int = Field(index=True)
    idx: int
    customer_order_id: str = Field(unique=True)
    state: str = Field(index=True)  # an OrderState value
    remote_id: str | None = None
    remote_status: str | None = None
    size: int
    submit_attempts: int = _zero()
    created_at: float
    submitted_at: float | None = None
    finished_at: float | None = None
    last_error: str | None = None
    attempted_at: float | None = None  # when the last POST was committed as intended


class RunRow(SQLModel, table=True):
    """One invocation of `bwmigrate run` on this state file."""

    __tablename__ = "runs"
    id: int | None = Field(default=None, primary_key=True)
    started_at: float
    ended_at: float | None = None
    pid: int
    target: str
    exit_code: int | None = None
    requests: int = _zero()
    rate_limited: int = _zero()
    retried: int = _zero()


class LeaseRow(SQLModel, table=True):
    """Who holds the state file now (informational; the OS lock is the authority)."""

    __tablename__ = "lease"
    id: int = Field(default=1, primary_key=True)
    pid: int
    host: str
    command: str
    acquired_at: float


class SnapshotRow(SQLModel, table=True):
    """One number as the API showed it before the run (schema version 4)."""

    __tablename__ = SNAPSHOT_TABLE
    e164: str = Field(primary_key=True)
    on_account: str
    site_id: str | None = None
    sip_peer_id: str | None = None
    sms: str | None = None
    campaign_id: str | None = None
    message_class: str | None = None
    hosted: str | None = None
    detailed: int = 0
    read_at: float = 0.0


# --- the generated DDL --------------------------------------------------------------------------

_DDL_HEAD = '''"""GENERATED by `python -m orchestrator.state.tables --write-ddl`: do not edit.

The CREATE TABLE and CREATE INDEX statements of every table of the state file, for SQLite and
for PostgreSQL, exactly as SQLAlchemy compiles `orchestrator.state.tables` (whose import costs
a few tenths of a second of CPU, which no command pays any more). `tests/unit/test_ddl.py`
fails while this module and the tables differ. Imports only `typing`.
"""

from __future__ import annotations

from typing import NamedTuple


class TableDDL(NamedTuple):
    """One table: its name, its columns in order, and its statements in each dialect."""

    name: str
    columns: tuple[str, ...]
    sqlite: str
    postgresql: str
    sqlite_indexes: tuple[str, ...]  # CREATE INDEX IF NOT EXISTS, sorted by index name
    postgresql_indexes: tuple[str, ...]


def _sql(*lines: str) -> str:
    """One statement from its lines."""
    return "\\n".join(lines)


TABLES: tuple[TableDDL, ...] = (
'''


def compile_table(table: Table, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """`table`'s CREATE TABLE and its CREATE INDEX IF NOT EXISTS statements (by index name)."""
    indexes = sorted(table.indexes, key=lambda i: str(i.name))
    return str(CreateTable(table).compile(dialect=dialect)), tuple(
        str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)) for index in indexes
    )


def render_ddl() -> str:
    """The text of `orchestrator.state.ddl` for the tables as declared here."""
    sqlite, postgresql = sqlite_dialect(), postgresql_dialect()  # type: ignore[no-untyped-call]
    out = [_DDL_HEAD]
    for table in SQLModel.metadata.sorted_tables:
        lite, lite_indexes = compile_table(table, sqlite)
        pg, pg_indexes = compile_table(table, postgresql)
        out.append(f"    TableDDL(\n        name={_literal(table.name)},\n")
        out.append(_tuple("columns", [c.name for c in table.columns]))
        out.append(f"        sqlite=_sql(\n{_lines(lite)}        ),\n")
        out.append(f"        postgresql=_sql(\n{_lines(pg)}        ),\n")
        out.append(_tuple("sqlite_indexes", lite_indexes))
        out.append(_tuple("postgresql_indexes", pg_indexes))
        out.append("    ),\n")
    out.append(")\n")
    return "".join(out)


def _tuple(name: str, items: Sequence[str]) -> str:
    """A keyword argument holding a tuple of strings, one per line."""
    if not items:
        return f"        {name}=(),\n"
    lines = "".join(f"            {_literal(item)},\n" for item in items)
    return f"        {name}=(\n{lines}        ),\n"


def _lines(statement: str) -> str:
    """A statement's lines as `_sql` arguments, one per line."""
    return "".join(f"            {_literal(line)},\n" for line in statement.split("\n"))


def _literal(text: str) -> str:
    """A Python literal of `text` (printable ASCII and tabs), quoted as ruff formats it."""
    assert text.isascii() and "\\" not in text, text
    assert all(ch.isprintable() or ch == "\t" for ch in text), text
    text = text.replace("\t", "\\t")
    if '"' in text and "'" not in text:
        return f"'{text}'"
    return '"' + text.replace('"', '\\"') + '"'


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m orchestrator.state.tables --write-ddl`: regenerate `orchestrator.state.ddl`."""
    parser = argparse.ArgumentParser(description="Regenerate orchestrator/state/ddl.py.")
    parser.add_argument("--write-ddl", action="store_true", help=f"write {DDL_PATH}")
    if not parser.parse_args(argv).write_ddl:
        parser.error("nothing to do: pass --write-ddl")
    DDL_PATH.write_text(render_ddl())


if __name__ == "__main__":
    main()
