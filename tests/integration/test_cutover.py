"""`Cutover`, the run as a library, against the sandbox over real HTTP with a real SQLite state
file: a first run, a resume, what is left, a finished run, and every resume it refuses."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import pytest
from planfiles import IMPORT_DETAILS

from orchestrator.api.client import BasicCredentials
from orchestrator.api.pacing import Backoff
from orchestrator.cutover.connection import ApiAccess, open_api
from orchestrator.cutover.cutover import Cutover, LiveTarget, Rehearsal, Tuning
from orchestrator.cutover.engine import EngineSettings, Progress
from orchestrator.cutover.preflight import (
    CheckedFile,
    check_imports,
    check_record,
    exclude_numbers,
    read_check_record,
)
from orchestrator.errors import ExitCode, InputError, StateLockedError, StateMismatchError
from orchestrator.plan import CompiledPlan, FailureThreshold, compile_plan, parse_plan
from orchestrator.sandbox import ManualClock, RunningSandbox
from orchestrator.state.audit import read_audit
from orchestrator.state.store import Store

ACCOUNT = "9900012"
FAST = "[rate]\nrequests_per_s = 1000\npoll_interval_s = 0.01\nexpected_order_s = 0\n"


def _numbers(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(count)]


def _plan_text(kind: str, numbers: list[str], *, name: str = "cut", batch_size: int = 4) -> str:
    quoted = ", ".join(f'"{n}"' for n in numbers)
    extra = f'site_id = "743"\nsip_peer_id = "303716"\n{IMPORT_DETAILS}' if kind == "import" else ""
    return (
        f'name = "{name}"\naccount_id = "{ACCOUNT}"\nbatch_size = {batch_size}\ncanary = 0\n'
        f'{FAST}[[steps]]\nkind = "{kind}"\n{extra}numbers = [{quoted}]\n'
    )


def _compile(text: str) -> CompiledPlan:
    return compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")


def _seed_hosted(sandbox: RunningSandbox, numbers: list[str]) -> None:
    sandbox.state.seed(
        {"numbers": [{"number": n, "kind": "imported", "account": ACCOUNT} for n in numbers]}
    )


def _live(sandbox: RunningSandbox) -> tuple[LiveTarget, BasicCredentials]:
    creds = sandbox.config.credentials
    return LiveTarget(f"{sandbox.base_url}/api/v2/"), BasicCredentials(
        creds.username, creds.password
    )


TUNING = Tuning(
    settings=EngineSettings(
        max_orders_in_flight=2,
        poll_interval_s=0.01,
        poll_cap_s=0.05,
        failure_threshold=FailureThreshold(100.0, 0),
        visibility_window_s=0.3,
    ),
    backoff=Backoff(base_s=0.01, cap_s=0.05, max_attempts=8, sleeps=False),
)


def _runs(state: Path) -> list[dict[str, Any]]:
    store = Store.open(state, readonly=True)
    try:
        return store.runs()
    finally:
        store.close()


async def test_a_first_rehearsal_runs_on_its_own_sandbox_and_records_the_run(
    tmp_path: Path,
) -> None:
    """Fresh on the rehearsal target: every number succeeds on the embedded sandbox, the run is
    recorded with its exit code, and every request is in the audit log beside the state file."""
    numbers = _numbers("+1919991", 6)
    text = _plan_text("import", numbers)
    state = tmp_path / "r.db"
    with Cutover.open(_compile(text), state, Rehearsal(), plan_text=text) as cutover:
        assert cutover.fresh and not cutover.already_finished
        left = cutover.remaining()
        assert (left.succeeded, left.failed) == (0, 0)
        assert [(s.step, s.numbers, s.orders_open, s.orders_sent) for s in left.steps] == [
            ("import-1", 6, 2, 0)
        ]
        result = await cutover.run()
    assert (result.outcome, result.exit_code) == ("done", ExitCode.OK)
    assert sum(c.succeeded for c in result.progress.steps) == 6
    assert [(r["target"], r["exit_code"]) for r in _runs(state)] == [("sandbox", 0)]
    lines = list(read_audit(result.audit.path))
    exchanges = [x for x in lines if x["type"] == "exchange"]
    assert result.audit.path == tmp_path / "r.db.audit.jsonl"
    assert len(exchanges) == result.progress.requests
    assert sorted(n for x in exchanges if x["method"] == "POST" for n in x["numbers"]) == numbers
    assert lines[0]["target"] == "sandbox"  # the sandbox's public login is not redacted
    assert result.summary["audit_log"] == str(result.audit.path)


async def test_a_stopped_run_tells_what_is_left_and_resumes_to_the_end(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    """Stopped with orders sent and still processing, `remaining()` counts the numbers left, the
    open orders and those sent (as the sandbox's ledger has them); reopened, the run resumes
    (not fresh) and finishes without placing any number twice. Orders take 60 s on the
    sandbox's manual clock, which the resumed run's progress callback moves on."""
    sandbox = sandbox_factory(order_delay_s=60.0, clock=ManualClock())
    removes = _numbers("+1415871", 12)
    _seed_hosted(sandbox, removes)
    text = _plan_text("remove", removes)
    target, creds = _live(sandbox)
    state = tmp_path / "s.db"
    with Cutover.open(_compile(text), state, target, plan_text=text) as cutover:

        def stop_once_sent(p: Progress) -> None:
            if p.orders_submitted >= 2:
                cutover.request_stop()

        first = await cutover.run(creds, stop_once_sent, tuning=TUNING)
    assert (first.outcome, first.exit_code) == ("interrupted", ExitCode.INTERRUPTED)
    sent = len(sandbox.state.ledger_orders())
    assert sent >= 2
    with Cutover.open(_compile(text), state, target, plan_text=text) as cutover:
        assert not cutover.fresh and not cutover.already_finished
        left = cutover.remaining()
        assert [(s.numbers, s.orders_open, s.orders_sent) for s in left.steps] == [(12, 3, sent)]

        def let_orders_complete(_p: Progress) -> None:  # called at least twice a second
            sandbox.clock.advance(61.0)

        second = await cutover.run(creds, let_orders_complete, tuning=TUNING)
    assert (second.outcome, second.exit_code) == ("done", ExitCode.OK)
    assert sum(c.succeeded for c in second.progress.steps) == 12
    placed = Counter(n for o in sandbox.state.ledger_orders() for n in o["numbers"])
    assert set(placed) == set(removes) and max(placed.values()) == 1
    assert [r["exit_code"] for r in _runs(state)] == [130, 0]


async def test_a_finished_run_has_nothing_left(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """Reopened after it finished, a run is not fresh, has nothing left, and reports its exit
    code: 1 when the API failed a number."""
    imports = _numbers("+1919991", 5)
    sandbox.state.seed({"failure_rules": [{"numbers": imports[:1], "code": 19006}]})
    text = _plan_text("import", imports)
    target, creds = _live(sandbox)
    state = tmp_path / "f.db"
    with Cutover.open(_compile(text), state, target, plan_text=text) as cutover:
        result = await cutover.run(creds, tuning=TUNING)
    assert (result.outcome, result.exit_code) == ("done", ExitCode.FAILED_NUMBERS)
    with Cutover.open(_compile(text), state, target, plan_text=text) as cutover:
        assert cutover.already_finished and not cutover.fresh
        assert cutover.remaining().steps == ()
        finished = cutover.finished_run()
    assert finished.exit_code is ExitCode.FAILED_NUMBERS
    assert finished.summary["numbers"]["failed"] == 1
    assert finished.summary["numbers"]["succeeded"] == 4
    assert (finished.summary["already_finished"], finished.summary["runs"]) == (True, 1)


async def test_a_changed_plan_is_refused_once_the_first_took_effect(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """After numbers succeeded, another plan on the same state file is refused with the
    one-line error; the state file still resumes the first plan."""
    imports = _numbers("+1919991", 4)
    text = _plan_text("import", imports)
    target, creds = _live(sandbox)
    state = tmp_path / "c.db"
    with Cutover.open(_compile(text), state, target, plan_text=text) as cutover:
        await cutover.run(creds, tuning=TUNING)
    changed = _plan_text("import", [*imports, "+19199910099"])
    with pytest.raises(StateMismatchError, match="the plan changed after the run started"):
        Cutover.open(_compile(changed), state, target, plan_text=changed)
    with Cutover.open(_compile(text), state, target, plan_text=text) as cutover:
        assert cutover.already_finished


async def test_a_changed_plan_replaces_one_that_took_no_effect(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A plan stored but never sent is replaced by the changed plan (with a note saying so),
    which then runs as a first run: only its numbers reach the API."""
    target, creds = _live(sandbox)
    state = tmp_path / "n.db"
    first = _plan_text("import", _numbers("+1919991", 4))
    with Cutover.open(_compile(first), state, target, plan_text=first) as cutover:
        assert cutover.fresh
    corrected = _numbers("+1919992", 3)
    text = _plan_text("import", corrected)
    notes: list[str] = []
    with Cutover.open(_compile(text), state, target, plan_text=text, on_note=notes.append) as c:
        assert c.fresh
        assert [s.numbers for s in c.remaining().steps] == [3]
        result = await c.run(creds, tuning=TUNING)
    assert len(notes) == 1 and "starts over with the changed plan" in notes[0]
    assert result.outcome == "done"
    assert sorted(n for o in sandbox.state.ledger_orders() for n in o["numbers"]) == corrected


async def test_a_state_file_resumes_only_against_the_target_that_accepted_its_orders(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A rehearsal's state file whose orders the sandbox accepted is refused for a live target,
    and the reverse."""
    text = _plan_text("import", _numbers("+1919991", 2))
    target, creds = _live(sandbox)
    rehearsal, live = tmp_path / "r.db", tmp_path / "l.db"
    with Cutover.open(_compile(text), rehearsal, Rehearsal(), plan_text=text) as cutover:
        assert (await cutover.run()).outcome == "done"
    with Cutover.open(_compile(text), live, target, plan_text=text) as cutover:
        assert (await cutover.run(creds, tuning=TUNING)).outcome == "done"
    with pytest.raises(StateMismatchError, match=r"holds a run against sandbox .*, not http"):
        Cutover.open(_compile(text), rehearsal, target, plan_text=text)
    with pytest.raises(StateMismatchError, match=r"holds a run against http://127\.0\.0\.1"):
        Cutover.open(_compile(text), live, Rehearsal(), plan_text=text)


def test_a_state_file_no_target_accepted_anything_from_can_be_retargeted(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Opened for one target but nothing sent: opening it for another target takes it over and
    says so (a first attempt against a wrong URL does not lock the file)."""
    text = _plan_text("import", _numbers("+1919991", 2))
    target, _creds = _live(sandbox)
    state, notes = tmp_path / "s.db", list[str]()
    Cutover.open(
        _compile(text), state, LiveTarget("http://127.0.0.1:9/api/v2"), plan_text=text
    ).close()
    with Cutover.open(_compile(text), state, target, plan_text=text, on_note=notes.append) as c:
        assert not c.fresh
    assert any("which accepted no order" in n for n in notes), notes
    store = Store.open(state, readonly=True)
    try:
        assert store.meta()["target"] == target.id
    finally:
        store.close()


def test_a_state_file_held_by_a_run_is_refused(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """While one Cutover holds the state file, opening it again is refused (exit 4)."""
    text = _plan_text("import", _numbers("+1919991", 2))
    target, _creds = _live(sandbox)
    with (
        Cutover.open(_compile(text), tmp_path / "h.db", target, plan_text=text),
        pytest.raises(StateLockedError, match="in use"),
    ):
        Cutover.open(_compile(text), tmp_path / "h.db", target, plan_text=text)


async def test_cancel_ends_the_run_as_interrupted_with_state_saved(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    """`cancel()` during a run returns an interrupted result (exit 130), recorded in the state
    file, with the orders already sent kept as sent."""
    sandbox = sandbox_factory(order_delay_s=60.0)
    removes = _numbers("+1415871", 8)
    _seed_hosted(sandbox, removes)
    text = _plan_text("remove", removes)
    target, creds = _live(sandbox)
    state = tmp_path / "x.db"
    with Cutover.open(_compile(text), state, target, plan_text=text) as cutover:

        def cancel_once_sent(p: Progress) -> None:
            if p.orders_submitted >= 1:
                cutover.cancel()

        with anyio.fail_after(30):
            result = await cutover.run(creds, cancel_once_sent, tuning=TUNING)
    assert (result.outcome, result.message) == ("interrupted", "cancelled; state saved")
    assert result.exit_code is ExitCode.INTERRUPTED
    assert [r["exit_code"] for r in _runs(state)] == [130]
    with Cutover.open(_compile(text), state, target, plan_text=text) as cutover:
        (left,) = cutover.remaining().steps
    assert left.orders_sent == len(sandbox.state.ledger_orders()) >= 1


async def _check_on_sandbox(sandbox: RunningSandbox, plan: CompiledPlan) -> CheckedFile:
    """A pre-flight of `plan` on the sandbox, as `plan --check --sandbox --out FILE` records it."""
    creds = sandbox.config.credentials
    access = ApiAccess(
        f"{sandbox.base_url}/api/v2", BasicCredentials(creds.username, creds.password)
    )
    async with open_api(access, ACCOUNT, rate_per_s=200.0) as api:
        outcome = await check_imports(api.client, api.gate, plan, rng=random.Random(1))
    checked = exclude_numbers(plan, outcome.rejections)
    block = check_record(plan, checked, outcome, target="sandbox", checked_at="2026-12-01")
    return CheckedFile("checked.jsonl", read_check_record({"type": "plan", "check": block}, "c"))


async def test_a_checked_plan_keeps_to_its_check(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """Run with a sandbox pre-flight: the rejected numbers are stored as failed and never sent;
    the same check is refused for a live target, and the run resumes only with it."""
    imports = _numbers("+1919991", 5)
    sandbox.state.seed({"numbers": [{"number": imports[0], "kind": "bandwidth"}]})
    text = _plan_text("import", imports)
    plan = _compile(text)
    checked = await _check_on_sandbox(sandbox, plan)
    assert [r.number for r in checked.record.rejections] == imports[:1]
    state = tmp_path / "k.db"
    with Cutover.open(plan, state, Rehearsal(), plan_text=text, checked=checked) as cutover:
        assert cutover.checked_note is not None and "1 number excluded" in cutover.checked_note
        assert [s.numbers for s in cutover.remaining().steps] == [4]
        assert cutover.remaining().failed == 1
    target, _creds = _live(sandbox)
    with pytest.raises(InputError, match="checked against the sandbox"):
        Cutover.open(plan, tmp_path / "live.db", target, plan_text=text, checked=checked)
    with pytest.raises(StateMismatchError, match=r"started with --checked checked\.jsonl"):
        Cutover.open(plan, state, Rehearsal(), plan_text=text)
