"""The state file: plan storage and hash check, lease, order transitions, outcomes, the chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pgstate import drop_plans, unique_location
from planfiles import IMPORT_DEFAULTS, IMPORT_DETAILS

from orchestrator.errors import InputError, StateLockedError, StateMismatchError
from orchestrator.plan import CompiledPlan, compile_plan, parse_plan
from orchestrator.state.store import INVALID_INPUT_CODE, FailedNumber, OrderState, Store

PLAN = f"""
name = "store-test"
account_id = "9900012"
batch_size = 3
[[steps]]
kind = "import"
name = "imp"
site_id = "743"
enable_messaging = true
{IMPORT_DETAILS}
numbers = ["9199918388", "4158714245", "4352154439", "4352154466", "letters!"]
[[steps]]
kind = "remove"
name = "rem"
numbers = ["6672286710"]
"""

A2P_PLAN = f"""
name = "a2p-test"
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
numbers = ["9199918388", "4158714245", "4352154439", "4352154466"]
[[steps]]
kind = "messaging"
name = "msg"
sms = "on"
a2p = {{ campaign_id = "CB7SUPP" }}
numbers = ["3369788814", "3369006863"]
"""


def _plan(text: str = PLAN) -> CompiledPlan:
    return compile_plan(parse_plan(text, "p.toml"), lambda name: b"")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    """The same store tests on a state file and on a plan's schema in the real PostgreSQL."""
    if request.param == "sqlite":
        s = Store.open(tmp_path / "state" / "run.db")
    else:
        loc = unique_location()
        request.addfinalizer(lambda: drop_plans(loc))
        s = Store.open(loc)
    s.acquire_lease(pid=os.getpid(), host="test", command="pytest", now=1.0)
    yield s
    s.close()


def test_initialize_stores_numbers_orders_and_invalid_entries(store: Store) -> None:
    """A new state file gets every valid number, the invalid ones as failed, and planned orders."""
    assert store.initialize(_plan(), PLAN, now=10.0) is True
    counts = {c.name: c for c in store.counts()}
    assert (counts["imp"].total, counts["imp"].pending, counts["imp"].failed) == (5, 4, 1)
    assert counts["imp:sms-on"].pending == 4
    assert counts["rem"].pending == 1
    orders = store.orders()
    assert [(o.step, o.idx, o.size, o.state) for o in orders] == [
        (0, 0, 3, OrderState.PLANNED),
        (0, 1, 1, OrderState.PLANNED),
        (1, 0, 1, OrderState.PLANNED),
    ]
    assert store.order_numbers(orders[0].id) == ["+19199918388", "+14158714245", "+14352154439"]
    invalid = [r for r in store.iter_report() if r.status == "failed"]
    assert [(r.input, r.error_code) for r in invalid] == [("letters!", INVALID_INPUT_CODE)]


def test_same_plan_resumes_and_changed_plan_is_refused(store: Store) -> None:
    """Initializing again with the same plan is a resume; a changed plan raises a clear error."""
    store.initialize(_plan(), PLAN, now=1.0)
    assert store.initialize(_plan(), PLAN, now=2.0) is False
    changed = PLAN.replace("6672286710", "5756186700")
    with pytest.raises(StateMismatchError, match="the plan changed after the run started"):
        store.initialize(_plan(changed), changed, now=3.0)


def test_second_lease_on_the_same_file_is_refused(store: Store, tmp_path: Path) -> None:
    """A second opener cannot take the lease while the first holds it (exit code 4)."""
    other = Store.open(store.path)  # the same file, or the same plan schema
    try:
        with pytest.raises(StateLockedError, match=r"in use by pid \d+ on test \(pytest\)") as info:
            other.acquire_lease(pid=1, host="x", command="y", now=2.0)
        assert int(info.value.exit_code) == 4
    finally:
        other.close()


def test_lease_of_a_killed_process_is_released_by_the_os(tmp_path: Path) -> None:
    """After the holder is SIGKILLed, a new run can take the state file at once."""
    db = tmp_path / "run.db"
    code = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from orchestrator.state.store import Store
        s = Store.open(Path({str(db)!r}))
        s.acquire_lease(pid=os.getpid(), host="child", command="child", now=1.0)
        print("held", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        probe = Store.open(db)
        with pytest.raises(StateLockedError):
            probe.acquire_lease(pid=2, host="p", command="p", now=2.0)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        probe.acquire_lease(pid=2, host="p", command="p", now=3.0)
        assert probe.lease_holder() is not None
        probe.close()
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


def test_partial_outcome_splits_numbers_and_plans_the_chained_order(store: Store) -> None:
    """PARTIAL: listed numbers fail with the API's code, the rest succeed and get chained."""
    store.initialize(_plan(), PLAN, now=1.0)
    first = store.orders()[0]
    store.mark_submitting(first.id, now=2.0)
    store.mark_submitted(first.id, "uuid-1", "RECEIVED", now=3.0)
    outcome = store.record_outcome(
        first.id,
        "PARTIAL",
        [
            FailedNumber(
                "+14158714245",
                "19006",
                "Bandwidth numbers cannot be imported by this account at this time.",
            )
        ],
        None,
        [],
        now=4.0,
    )
    assert (outcome.succeeded, outcome.failed, outcome.skipped) == (2, 1, 1)
    chained = outcome.chained_order
    assert chained is not None and chained.customer_order_id == first.customer_order_id + "-M"
    assert store.order_numbers(chained.id) == ["+19199918388", "+14352154439"]
    rows = {(r.step, r.e164): r for r in store.iter_report()}
    failed = rows[("imp", "+14158714245")]
    assert (failed.status, failed.error_code, failed.order_id) == ("failed", "19006", "uuid-1")
    skipped = rows[("imp:sms-on", "+14158714245")]
    assert skipped.status == "skipped" and skipped.error_description.startswith("import failed:")
    assert rows[("imp", "+19199918388")].status == "succeeded"
    assert rows[("imp", "+19199918388")].attempts == 1


def test_rejected_order_fails_all_its_numbers_with_the_api_code(store: Store) -> None:
    """A create the API refused (4xx) fails every number with that code; nothing is chained."""
    store.initialize(_plan(), PLAN, now=1.0)
    first = store.orders()[0]
    store.mark_submitting(first.id, now=2.0)
    outcome = store.record_outcome(
        first.id,
        "REJECTED",
        [],
        ("7309", "The site id was not supplied or is invalid."),
        [],
        now=3.0,
    )
    assert (outcome.succeeded, outcome.failed, outcome.skipped) == (0, 3, 3)
    assert outcome.chained_order is None
    codes = {r.error_code for r in store.iter_report() if r.step == "imp" and r.e164}
    assert codes == {"7309", None}  # the second import order is untouched


def test_absent_order_goes_back_to_planned_and_counts_attempts(store: Store) -> None:
    """An order proved absent after a lost response is planned again; attempts keep counting."""
    store.initialize(_plan(), PLAN, now=1.0)
    first = store.orders()[0]
    store.mark_submitting(first.id, now=2.0)
    store.mark_absent(first.id, "POST outcome unknown; absent remotely")
    assert store.orders(OrderState.PLANNED)[0].submit_attempts == 1
    store.mark_submitting(first.id, now=3.0)
    again = store.orders(OrderState.SUBMITTING)[0]
    assert again.submit_attempts == 2
    assert {
        r.attempts
        for r in store.iter_report()
        if r.step == "imp" and r.e164 and r.status == "in_order"
    } == {2}


def test_state_survives_reopen_and_readonly_status_reads_it(tmp_path: Path) -> None:
    """Committed transitions are on disk: a read-only reopen sees them while the writer is open."""
    path = tmp_path / "run.db"
    writer = Store.open(path)
    writer.initialize(_plan(), PLAN, now=1.0)
    order = writer.orders()[0]
    writer.mark_submitting(order.id, now=2.0)
    reader = Store.open(path, readonly=True)
    assert reader.orders(OrderState.SUBMITTING)[0].customer_order_id == order.customer_order_id
    reader.close()
    writer.close()


def test_readonly_open_of_a_missing_file_says_what_to_do(tmp_path: Path) -> None:
    """Status on a missing state file is a clear InputError, not a new empty database."""
    with pytest.raises(InputError, match="no state file here"):
        Store.open(tmp_path / "nope.db", readonly=True)
    assert not (tmp_path / "nope.db").exists()


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    """A state file with another schema version is refused with advice."""
    path = tmp_path / "run.db"
    s = Store.open(path)
    s.set_meta("schema_version", "99")
    s.close()
    with pytest.raises(StateMismatchError, match="schema version 99"):
        Store.open(path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    """Pointing --state at some other file is refused and the file is left alone."""
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises((StateMismatchError, InputError)):
        Store.open(path)
    assert path.read_bytes().startswith(b"these are my notes")


def _finish(store: Store, order_id: int, status: str, failed: dict[str, str], now: float):  # type: ignore[no-untyped-def]
    """Drive one planned order to a terminal status, `failed` numbers with their codes."""
    store.mark_submitting(order_id, now=now)
    store.mark_submitted(order_id, f"uuid-{order_id}", "RECEIVED", now=now)
    failures = [FailedNumber(n, code, f"refused {code}") for n, code in failed.items()]
    return store.record_outcome(order_id, status, failures, None, [], now=now)


def test_a2p_steps_are_chained_after_the_step_turning_sms_on(store: Store) -> None:
    """An import asking for A2P gets `imp:sms-on` (SMS only) and `imp:sms-on:a2p` chained from
    it; a messaging step asking for A2P gets `msg:a2p`; their numbers wait, pending, in no order."""
    store.initialize(_plan(A2P_PLAN), A2P_PLAN, now=1.0)
    steps = {s.name: s for s in store.steps()}
    assert [s.name for s in store.steps()] == [
        "imp",
        "msg",
        "imp:sms-on",
        "imp:sms-on:a2p",
        "msg:a2p",
    ]
    assert steps["imp:sms-on"].chained_from == steps["imp"].id
    assert steps["imp:sms-on:a2p"].chained_from == steps["imp:sms-on"].id
    assert steps["msg:a2p"].chained_from == steps["msg"].id
    assert steps["imp:sms-on"].settings == {
        "kind": "messaging",
        "sms": "on",
        "chained_from": "imp",
        "role": "sms",
    }
    assert steps["imp:sms-on:a2p"].settings == {
        "kind": "messaging",
        "a2p": {"message_class": "M", "campaign_id": "CA3XKE1", "action": "asSpecified"},
        "chained_from": "imp:sms-on",
        "role": "a2p",
    }
    assert steps["msg:a2p"].settings["chained_from"] == "msg"
    assert (steps["imp"].settings["body_form"], steps["imp"].settings["canary"]) == (
        "ImportTnOrder",
        1,
    )
    counts = {c.name: c for c in store.counts()}
    assert (counts["imp:sms-on:a2p"].pending, counts["msg:a2p"].pending) == (4, 2)
    assert [(o.step, o.size) for o in store.orders()] == [(0, 1), (0, 3), (1, 2)]


def test_the_a2p_order_follows_the_sms_order_for_its_successes_only(store: Store) -> None:
    """Import PARTIAL -> SMS order for the imported; SMS PARTIAL -> A2P order (`-M-A`) for the
    numbers SMS is on; a number whose import or SMS failed is skipped down the whole chain."""
    store.initialize(_plan(A2P_PLAN), A2P_PLAN, now=1.0)
    steps = {s.name: s.id for s in store.steps()}
    second = store.orders(step=steps["imp"])[1]  # 4158714245, 4352154439, 4352154466
    outcome = _finish(store, second.id, "PARTIAL", {"+14158714245": "19006"}, now=2.0)
    sms = outcome.chained_order
    assert sms is not None and sms.customer_order_id == second.customer_order_id + "-M"
    assert outcome.skipped == 1
    assert store.order_numbers(sms.id) == ["+14352154439", "+14352154466"]
    rows = {(r.step, r.e164): r for r in store.iter_report()}
    gone = rows[("imp:sms-on:a2p", "+14158714245")]
    assert (gone.status, gone.error_code) == ("skipped", "19006")
    assert gone.error_description.startswith("import failed:")

    after_sms = _finish(store, sms.id, "PARTIAL", {"+14352154466": "5076"}, now=3.0)
    a2p = after_sms.chained_order
    assert a2p is not None and a2p.step == steps["imp:sms-on:a2p"]
    assert a2p.customer_order_id == second.customer_order_id + "-M-A"
    assert store.order_numbers(a2p.id) == ["+14352154439"]
    rows = {(r.step, r.e164): r for r in store.iter_report()}
    refused = rows[("imp:sms-on:a2p", "+14352154466")]
    assert (refused.status, refused.error_code) == ("skipped", "5076")
    assert refused.error_description.startswith("SMS on failed:")
    assert _finish(store, a2p.id, "COMPLETE", {}, now=4.0).chained_order is None
    assert rows[("imp:sms-on:a2p", "+19199918388")].status == "pending"  # its import is open


def test_a_messaging_steps_a2p_order_follows_its_own_order(store: Store) -> None:
    """A messaging step turning SMS on is the source of its A2P step: `-A` after its order."""
    store.initialize(_plan(A2P_PLAN), A2P_PLAN, now=1.0)
    steps = {s.name: s.id for s in store.steps()}
    (order,) = store.orders(step=steps["msg"])
    a2p = _finish(store, order.id, "COMPLETE", {}, now=2.0).chained_order
    assert a2p is not None and a2p.step == steps["msg:a2p"]
    assert a2p.customer_order_id == order.customer_order_id + "-A"
    assert store.order_numbers(a2p.id) == ["+13369788814", "+13369006863"]


def test_failed_import_order_skips_every_chained_step(store: Store) -> None:
    """An import order that fails as a whole plans no SMS order; its numbers are skipped in the
    SMS step and in the A2P step, which would otherwise wait forever."""
    store.initialize(_plan(A2P_PLAN), A2P_PLAN, now=1.0)
    canary = store.orders(step=0)[0]
    outcome = _finish(store, canary.id, "FAILED", {"+19199918388": "7518"}, now=2.0)
    assert outcome.chained_order is None and outcome.skipped == 1
    statuses = {(r.step, r.status) for r in store.iter_report() if r.e164 == "+19199918388"}
    assert statuses == {("imp", "failed"), ("imp:sms-on", "skipped"), ("imp:sms-on:a2p", "skipped")}


def test_numbers_belong_to_the_canary_order_and_the_orders_after_it(store: Store) -> None:
    """With a canary, each stored number is tied to the order that really carries it."""
    store.initialize(_plan(A2P_PLAN), A2P_PLAN, now=1.0)
    first, second = store.orders(step=0)
    assert store.order_numbers(first.id) == ["+19199918388"]
    assert store.order_numbers(second.id) == ["+14158714245", "+14352154439", "+14352154466"]
    assert (first.customer_order_id[-5:], second.customer_order_id[-5:]) == ("00000", "00001")


def test_finish_times_count_each_number_at_the_whole_second_after_it_finished(
    store: Store,
) -> None:
    """The live page's timeline: a number finished at 3.4 s counts at 4 s (never early), one
    at exactly 1 s at 1 s; the same on PostgreSQL (whose CAST rounds, and which has no
    integer + boolean) as on SQLite."""
    store.initialize(_plan(), PLAN, now=1.0)  # 'letters!' fails at once
    first = store.orders()[0]
    store.mark_submitting(first.id, now=2.0)
    store.record_outcome(
        first.id, "REJECTED", [], ("7309", "The site id was not supplied."), [], now=3.4
    )
    assert store.finish_times() == [(1.0, 1), (4.0, 6)]


def test_bulk_writes_keep_every_row_in_plan_order_on_both_backends(store: Store) -> None:
    """Inserts of 64 rows or more take PostgreSQL's COPY path: valid, chained, refused and
    snapshot rows all arrive, in plan order, and a second snapshot replaces the first."""
    from orchestrator.api.number_state import NumberState

    valid = [f"919200{i:04d}" for i in range(150)]
    junk = [f"letters{i}!" for i in range(70)]
    listed = ", ".join(f'"{n}"' for n in [*valid, *junk])
    text = PLAN.split("numbers = [")[0] + f"numbers = [{listed}]\n"
    assert store.initialize(_plan(text), text, now=10.0) is True
    counts = {c.name: c for c in store.counts()}
    assert (counts["imp"].total, counts["imp"].pending, counts["imp"].failed) == (220, 150, 70)
    assert counts["imp:sms-on"].pending == 150
    rows = [r for r in store.iter_report() if r.step == "imp"]
    assert [r.e164 for r in rows if r.status == "pending"] == [f"+1{n}" for n in valid]
    assert [(r.input, r.error_code) for r in rows if r.status == "failed"] == [
        (j, INVALID_INPUT_CODE) for j in junk
    ]
    first = [NumberState(f"+1{n}", "true", site_id="743", sms="true") for n in valid[:100]]
    second = [NumberState(f"+1{n}", "true", site_id="744", sms="false") for n in valid[50:]]
    second.insert(0, NumberState(f"+1{valid[50]}", "true", site_id="745"))  # the later row wins
    assert (store.save_snapshot(first, 11.0), store.save_snapshot(second, 12.0)) == (100, 101)
    kept = store.snapshot()
    assert len(kept) == 150
    assert {(s.site_id, s.sms) for n, s in kept.items() if n < "+19192000050"} == {("743", "true")}
    assert {(s.site_id, s.sms) for n, s in kept.items() if n >= "+19192000050"} == {
        ("744", "false")
    }
