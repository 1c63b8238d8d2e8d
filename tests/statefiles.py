"""State files as earlier releases wrote them, for the upgrade tests (integration and e2e).

`write_old_state` writes a file with the DDL of schema version 1 or 2 (the tables exactly as
those releases created them, give or take whitespace) holding the given rows; `dump_rows` reads
every row of a state file back; `schema_of` gives its tables and indexes for comparison.
Importable from every test module: pytest puts `tests/` on `sys.path`.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

Rows = dict[str, list[tuple[Any, ...]]]

# The tables as versions 1 and 2 created them (sqlite_master of a new file of each release).
V2_DDL = """
CREATE TABLE lease (
	id INTEGER NOT NULL, pid INTEGER NOT NULL, host VARCHAR NOT NULL, command VARCHAR NOT NULL,
	acquired_at FLOAT NOT NULL, PRIMARY KEY (id)
);
CREATE TABLE meta ("key" VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY ("key"));
CREATE TABLE numbers (
	id INTEGER NOT NULL, step INTEGER NOT NULL, seq INTEGER NOT NULL, e164 VARCHAR,
	raw VARCHAR NOT NULL, source VARCHAR NOT NULL, status VARCHAR NOT NULL, order_id INTEGER,
	error_code VARCHAR, error_description VARCHAR, note VARCHAR,
	attempts INTEGER DEFAULT '0' NOT NULL, updated_at FLOAT DEFAULT '0' NOT NULL,
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_numbers_step_seq ON numbers (step, seq);
CREATE INDEX ix_numbers_order_e164 ON numbers (order_id, e164);
CREATE TABLE orders (
	id INTEGER NOT NULL, step INTEGER NOT NULL, idx INTEGER NOT NULL,
	customer_order_id VARCHAR NOT NULL, state VARCHAR NOT NULL, remote_id VARCHAR,
	remote_status VARCHAR, size INTEGER NOT NULL, submit_attempts INTEGER DEFAULT '0' NOT NULL,
	created_at FLOAT NOT NULL, submitted_at FLOAT, finished_at FLOAT, last_error VARCHAR,
	attempted_at FLOAT,
	PRIMARY KEY (id), UNIQUE (customer_order_id)
);
CREATE INDEX ix_orders_state ON orders (state);
CREATE INDEX ix_orders_step ON orders (step);
CREATE TABLE runs (
	id INTEGER NOT NULL, started_at FLOAT NOT NULL, ended_at FLOAT, pid INTEGER NOT NULL,
	target VARCHAR NOT NULL, exit_code INTEGER, requests INTEGER DEFAULT '0' NOT NULL,
	rate_limited INTEGER DEFAULT '0' NOT NULL, retried INTEGER DEFAULT '0' NOT NULL,
	PRIMARY KEY (id)
);
CREATE TABLE steps (
	id INTEGER NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, chained_from INTEGER,
	depends_on VARCHAR NOT NULL, settings VARCHAR NOT NULL, PRIMARY KEY (id)
);
"""
V1_DDL = V2_DDL.replace("\tattempted_at FLOAT,\n", "")
DDL = {1: V1_DDL, 2: V2_DDL}
TABLES = ("meta", "steps", "numbers", "orders", "runs", "lease")


def dump_rows(path: Path) -> Rows:
    """Every row of every table, in rowid order."""
    with closing(sqlite3.connect(path)) as db:
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}


def schema_of(path: Path) -> set[tuple[str, str]]:
    """The file's tables and indexes as (name, SQL without whitespace; a table renamed into
    place has its name quoted by SQLite, unquoted here)."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
    return {
        (name, re.sub(r"\s+", "", sql).replace(f'CREATETABLE"{name}"', f"CREATETABLE{name}"))
        for name, sql in rows
    }


def write_old_state(path: Path, version: int, rows: Rows) -> None:
    """A state file as release `version` made it, holding `rows` (version 1: no attempted_at)."""
    with closing(sqlite3.connect(path)) as db:
        db.executescript(DDL[version])
        for table, table_rows in rows.items():
            for row in table_rows:
                values = row[:-1] if (table, version) == ("orders", 1) else row
                marks = ", ".join("?" * len(values))
                db.execute(f"INSERT INTO {table} VALUES ({marks})", values)
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
        db.commit()


def downgrade_state(path: Path, version: int) -> None:
    """Rewrite a current state file as release `version` would have written it."""
    rows = dump_rows(path)
    path.unlink()
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)
    write_old_state(path, version, rows)
