"""The state file's schema: CHECK constraints from the status enums, and files of versions 1 and 2
(written with the DDL those releases used: tests/statefiles.py) and 3 upgraded in place to the
current version (4 adds the snapshot table)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from planfiles import IMPORT_DEFAULTS
from statefiles import V1_DDL, Rows, dump_rows, schema_of, write_old_state

from orchestrator.errors import StateMismatchError
from orchestrator.plan import CompiledPlan, StepKind, compile_plan, parse_plan
from orchestrator.state.store import (
    SCHEMA_VERSION,
    FailedNumber,
    NumberStatus,
    OrderState,
    Store,
)

PLAN = f"""
name = "migration-test"
account_id = "9900012"
batch_size = 3
canary = 1
{IMPORT_DEFAULTS}
[[steps]]
kind = "import"
name = "imp"
site_id = "743"
enable_messaging = true
a2p = {{ message_class = "M", campaign_id = "CA3XKE1" }}
numbers = ["9199918388", "4158714245", "4352154439", "4352154466", "letters!"]
[[steps]]
kind = "messaging"
name = "msg"
sms = "on"
a2p = {{ campaign_id = "CB7SUPP" }}
numbers = ["3369788814", "3369006863"]
"""


def _plan() -> CompiledPlan:
    return compile_plan(parse_plan(PLAN, "p.toml"), lambda name: b"")


def _finish(
    store: Store, order_id: int, status: str, failed: list[FailedNumber], **kw: Any
) -> int | None:
    """Drive one planned order to a terminal status; the id of the chained order, if any."""
    store.mark_submitting(order_id, now=float(order_id))
    store.mark_submitted(order_id, f"uuid-{order_id}", "RECEIVED", now=float(order_id))
    chained = store.record_outcome(order_id, status, failed, None, [], now=9.0, **kw).chained_order
    return None if chained is None else chained.id


def _sample_state(path: Path) -> None:
    """A state file holding every number status and several order states, and a run."""
    store = Store.open(path)
    store.initialize(_plan(), PLAN, now=1.0, facts={"target": "https://example.test/api/v2"})
    run = store.start_run(pid=7, target="https://example.test/api/v2", now=1.5)
    canary, second = store.orders(step=0)
    sms_of_canary = _finish(store, canary.id, "COMPLETE", [])
    refused = FailedNumber("+14158714245", "19006", "not importable")
    sms_of_second = _finish(store, second.id, "PARTIAL", [refused])
    assert sms_of_canary is not None and sms_of_second is not None
    _finish(store, sms_of_canary, "WEIRD", [], rest=NumberStatus.UNKNOWN)
    a2p_refusal = FailedNumber("+14352154466", "5128", "A2P refused", NumberStatus.NEEDS_ACTION)
    assert _finish(store, sms_of_second, "PARTIAL", [a2p_refusal]) is not None  # A2P order planned
    (msg,) = store.orders(step=1)
    store.mark_submitting(msg.id, now=3.0)
    store.mark_submitted(msg.id, "uuid-msg", "RECEIVED", now=3.5)
    store.end_run(run, exit_code=130, requests=12, rate_limited=1, retried=2, now=4.0)
    store.close()


@pytest.fixture
def sample(tmp_path: Path) -> Rows:
    """The rows of a current state file in the middle of a run."""
    _sample_state(tmp_path / "sample.db")
    return dump_rows(tmp_path / "sample.db")


def _as_of(version: int, rows: Rows) -> Rows:
    """What an upgraded file of `version` holds: version 1 never recorded attempted_at."""
    out = dict(rows)
    out["meta"] = [
        (k, str(SCHEMA_VERSION) if k == "schema_version" else v) for k, v in rows["meta"]
    ]
    if version == 1:
        out["orders"] = [(*r[:-1], None) for r in rows["orders"]]
    return out


def test_the_sample_holds_every_number_status(sample: Rows) -> None:
    """The upgrade tests below carry every status and order state but `submitting`."""
    assert {r[6] for r in sample["numbers"]} == set(NumberStatus)
    assert {r[4] for r in sample["orders"]} == set(OrderState) - {OrderState.SUBMITTING}


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_file_is_upgraded_in_place_keeping_every_row_and_index(
    version: int, sample: Rows, tmp_path: Path
) -> None:
    """Opening a version 1 or 2 file upgrades it to the current schema (tables, constraints and
    indexes as a new file has them) with every row kept."""
    path = tmp_path / f"v{version}.db"
    write_old_state(path, version, sample)
    Store.open(path).close()
    assert dump_rows(path) == _as_of(version, sample)
    Store.open(tmp_path / "fresh.db").close()
    assert schema_of(path) == schema_of(tmp_path / "fresh.db")


@pytest.mark.parametrize("version", [1, 2])
def test_after_the_upgrade_the_database_refuses_a_bad_status(
    version: int, sample: Rows, tmp_path: Path
) -> None:
    """Once upgraded, SQLite itself refuses a number status, order state or step kind that is
    not one of the enums' values, and accepts every one that is."""
    path = tmp_path / f"v{version}.db"
    write_old_state(path, version, sample)
    Store.open(path).close()
    with closing(sqlite3.connect(path)) as db:
        for sql, constraint in (
            ("UPDATE numbers SET status='lost' WHERE id=1", "ck_numbers_status"),
            ("UPDATE orders SET state='finished' WHERE id=1", "ck_orders_state"),
            ("UPDATE steps SET kind='port' WHERE id=0", "ck_steps_kind"),
        ):
            with pytest.raises(sqlite3.IntegrityError, match=constraint):
                db.execute(sql)
        for status in NumberStatus:
            db.execute("UPDATE numbers SET status=? WHERE id=1", (status.value,))
        for state in OrderState:
            db.execute("UPDATE orders SET state=? WHERE id=1", (state.value,))
        for kind in StepKind:
            db.execute("UPDATE steps SET kind=? WHERE id=0", (kind.value,))


def test_an_upgraded_file_resumes(sample: Rows, tmp_path: Path) -> None:
    """The same plan resumes on an upgraded version 2 file, and its planned A2P order runs."""
    path = tmp_path / "v2.db"
    write_old_state(path, 2, sample)
    store = Store.open(path)
    try:
        assert store.initialize(_plan(), PLAN, now=5.0) is False
        (a2p,) = store.orders(OrderState.PLANNED)
        assert _finish(store, a2p.id, "COMPLETE", []) is None
        counts = {c.name: c for c in store.counts()}
        assert counts["imp:sms-on:a2p"].succeeded == 1
        assert store.runs()[0]["exit_code"] == 130
    finally:
        store.close()


def test_a_read_only_open_of_a_version_1_file_says_it_needs_upgrading(
    sample: Rows, tmp_path: Path
) -> None:
    """status/report (read-only) do not upgrade a file; version 1 lacks a column they read, so
    they say so in one line and leave it."""
    path = tmp_path / "v1.db"
    write_old_state(path, 1, sample)
    before = dump_rows(path)
    with pytest.raises(StateMismatchError) as info:
        Store.open(path, readonly=True)
    message = str(info.value)
    assert f"schema version 1 needs upgrading to {SCHEMA_VERSION}" in message
    assert "\n" not in message and str(path) in message
    assert dump_rows(path) == before


def test_a_read_only_open_of_a_version_2_file_reads_it_as_it_is(
    sample: Rows, tmp_path: Path
) -> None:
    """Version 3 only adds constraints: status/report read a version 2 file unchanged (its
    counts are the sample's) and leave it version 2."""
    path = tmp_path / "v2.db"
    write_old_state(path, 2, sample)
    before = dump_rows(path)
    store = Store.open(path, readonly=True)
    try:
        counted = sum(c.total for c in store.counts())
        assert store.meta()["schema_version"] == "2"
    finally:
        store.close()
    assert counted == len(before["numbers"])
    assert dump_rows(path) == before


def test_an_upgrade_that_meets_an_unknown_status_leaves_the_file_as_it_was(
    sample: Rows, tmp_path: Path
) -> None:
    """A row the new constraints refuse stops the upgrade with a one-line error; the one
    transaction leaves the version 2 file, tables and rows, untouched."""
    rows = dict(sample)
    rows["numbers"] = [(*rows["numbers"][0][:6], "lost", *rows["numbers"][0][7:])]
    path = tmp_path / "v2.db"
    write_old_state(path, 2, rows)
    before, schema = dump_rows(path), schema_of(path)
    with pytest.raises(
        StateMismatchError, match=r"cannot upgrade .* from schema version 2"
    ) as info:
        Store.open(path)
    assert "\n" not in str(info.value) and "ck_numbers_status" in str(info.value)
    assert (dump_rows(path), schema_of(path)) == (before, schema)


def test_a_creation_cut_short_by_an_older_release_is_finished_to_the_currentschema_of(
    tmp_path: Path,
) -> None:
    """Tables of version 1 with an empty meta (an older release killed while creating them)
    become the current schema, constraints and all, when the file is next opened."""
    path = tmp_path / "cut.db"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(V1_DDL)
    Store.open(path).close()
    Store.open(tmp_path / "fresh.db").close()
    assert schema_of(path) == schema_of(tmp_path / "fresh.db")
    assert dump_rows(path)["meta"] == [("schema_version", str(SCHEMA_VERSION))]


def test_tables_with_rows_but_no_schema_version_are_left_alone(tmp_path: Path) -> None:
    """Some other SQLite file with a `steps` table of its own (every column a state file's has,
    and one more) is refused and left as it was, not rebuilt into a state file's table."""
    path = tmp_path / "other.db"
    row = (1, "paint", "import", None, "[]", "{}", "the shed")
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "CREATE TABLE steps (id INTEGER PRIMARY KEY, name TEXT, kind TEXT, "
            "chained_from INTEGER, depends_on TEXT, settings TEXT, remark TEXT)"
        )
        db.execute("INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        db.commit()
    with pytest.raises(StateMismatchError, match=r"steps holds rows .* not a bwmigrate state"):
        Store.open(path)
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT * FROM steps").fetchall() == [row]
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["steps"]


def _as_version_3(path: Path) -> None:
    """Rewrite a current state file as release 3 made it: no snapshot table."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("DROP TABLE snapshot")
        db.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
        db.commit()


def test_a_version_3_file_gains_the_snapshot_table_and_reads_as_is_read_only(
    sample: Rows, tmp_path: Path
) -> None:
    """Version 4 only adds the snapshot table: a read-only open of a version 3 file sees no
    snapshot and leaves it as it is; a writing open adds the table, keeps every row, and the
    file then has the schema a new file has."""
    path = tmp_path / "v3.db"
    _sample_state(path)
    _as_version_3(path)
    before = dump_rows(path)
    store = Store.open(path, readonly=True)
    try:
        assert store.snapshot() == {} and store.snapshotted_numbers() == set()
    finally:
        store.close()
    assert dump_rows(path) == before
    Store.open(path).close()
    assert dump_rows(path) == _as_of(3, before)
    Store.open(tmp_path / "fresh.db").close()
    assert schema_of(path) == schema_of(tmp_path / "fresh.db")
