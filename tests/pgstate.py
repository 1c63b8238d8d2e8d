"""The real PostgreSQL server the PostgreSQL-state tests use (127.0.0.1:5432, database `test`):
a unique plan schema per test, dropped after it, so tests never assume an empty server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from orchestrator.state.postgres import PgLocation

if TYPE_CHECKING:  # bench/ imports this module too, where pytest need not be installed
    import pytest

PG_URL = os.environ.get("BWMIGRATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def unique_location() -> PgLocation:
    """A plan name no other test (or run) uses, in the test database."""
    return PgLocation(PG_URL, f"pytest-{uuid.uuid4().hex[:12]}")


def drop_plans(*locations: PgLocation) -> None:
    """Drop the schemas of these plans (and all they hold)."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for loc in locations:
            conn.execute(f'DROP SCHEMA IF EXISTS "{loc.schema}" CASCADE')


def pg_location() -> Iterator[PgLocation]:
    """A fixture body: one unique plan location, dropped after the test."""
    loc = unique_location()
    try:
        yield loc
    finally:
        drop_plans(loc)


def pg_location_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PgLocation]:
    """A fixture body: `pg_location` with the working directory at `folder`, so the runs'
    audit logs go to folder/state."""
    monkeypatch.chdir(folder)
    yield from pg_location()


def fleet_database() -> Iterator[str]:
    """A fixture body: a new database (its URL), dropped after the test (a fleet's
    procrastinate tables live in it)."""
    name = f"bwm_fleet_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
