"""The fleet end to end: plans of several accounts added to a throwaway PostgreSQL database,
two `bwmigrate worker` processes, one SIGKILLed mid-run; everything finishes, judged by the
sandbox's ledger and inventory as bench/chaos.py judges a single run (check_cutover: each
number imported exactly once, in exactly one order, every order known to its plan's report)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgfleet import (
    account_ids,
    fleet_database,
    judge_fleet,
    numbers_of,
    sandbox_accounts,
    write_fleet_plan,
)
from support import ENV, SandboxProcess, cli_args, run_cli, wait_for

from orchestrator.state.postgres import schema_of

PLANS, NUMBERS = 4, 40


@pytest.fixture
def database() -> Iterator[str]:
    yield from fleet_database()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    with SandboxProcess("--order-delay-s", "0.3", log=tmp_path / "sandbox.log") as sb:
        yield sb


def _worker(
    database: str, log: Path, concurrency: str = "2", stalled_after_s: str = "2"
) -> subprocess.Popen[bytes]:
    args = cli_args(
        "worker", "--state", database, "--concurrency", concurrency,
        "--stalled-after-s", stalled_after_s,
    )  # fmt: skip
    with log.open("ab") as err:
        return subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=err)


def test_a_fleet_survives_a_killed_worker_with_every_number_imported_once(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers, one SIGKILLed while it drives plans: 0 duplicates, 0 lost, 0 unexpected."""
    monkeypatch.chdir(tmp_path)
    accounts = account_ids(PLANS)
    sandbox.seed(sandbox_accounts(accounts))
    plans = [
        write_fleet_plan(tmp_path / "plans", i, a, NUMBERS, 20) for i, a in enumerate(accounts)
    ]
    added = _add_fleet(database, sandbox, *map(str, plans))
    assert added.returncode == 0, added.stderr
    log = tmp_path / "workers.log"
    doomed, survivor = _worker(database, log), _worker(database, log)
    driven: list[str] = []
    wait_for(lambda: _plans_driven_by(doomed.pid, database, driven), 60, "the doomed worker")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    assert survivor.wait(timeout=240) == 0, log.read_text()[-3000:]
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    _judge(sandbox, accounts, plans, database)
    fleet = _fleet_status(database)
    survivor_name = f":{survivor.pid}"
    taken_over = [p for p in fleet["plans"] if p["name"] in driven]
    assert taken_over and all(p["last_worker"].endswith(survivor_name) for p in taken_over), fleet
    assert fleet["totals"]["numbers"] == PLANS * NUMBERS, fleet
    assert fleet["totals"]["succeeded"] == PLANS * NUMBERS, fleet
    assert sorted(p["name"] for p in fleet["plans"]) == [f"fleet-{i}" for i in range(PLANS)]


def _judge(sandbox: SandboxProcess, accounts: list[str], plans: list[Path], database: str) -> None:
    """Every plan and the fleet as a whole: 0 duplicates, 0 lost, 0 unexpected, 0 mismatched."""
    verdicts = judge_fleet(sandbox, database, plans, accounts, NUMBERS)
    assert [(k, v.summary()) for k, v in verdicts.items() if not v.ok] == []
    assert sum(v.rows for v in verdicts.values()) == PLANS * NUMBERS


def _fleet_status(database: str) -> dict[str, Any]:
    """`bwmigrate status --state DATABASE --json`."""
    status = run_cli("status", "--state", database, "--json")
    assert status.returncode == 0, status.stderr
    result: dict[str, Any] = json.loads(status.stdout)
    return result


def _plans_driven_by(worker_pid: int, database: str, found: list[str]) -> bool:
    """True once a plan's lease is held by a `bwmigrate run` child of `worker_pid` (its names
    are put in `found`)."""
    for plan in _fleet_status(database)["plans"]:
        if plan["owner"] and _parent_of(int(plan["owner"].rsplit(":", 1)[1])) == worker_pid:
            found.append(plan["name"])
    return bool(found)


def _parent_of(pid: int) -> int | None:
    """The parent pid of a live process (None once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_fleet_add_refuses_two_plans_of_one_account_and_registers_nothing(
    database: str, tmp_path: Path
) -> None:
    """One plan per account: exit 2, one line naming both plans; the fleet stays empty."""
    first = write_fleet_plan(tmp_path / "a", 0, "9900101", 5, 20)
    second = write_fleet_plan(tmp_path / "b", 1, "9900101", 5, 20)
    done = run_cli("fleet", "add", str(first), str(second), "--state", database, "--yes")
    assert done.returncode == 2, done.stderr
    assert "account 9900101 is also the account of" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert _fleet_status(database)["plans"] == []


def test_a_plan_that_cannot_run_is_retried_then_the_worker_says_so(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan registered without its text (as before plans travelled in the database, so it
    runs from its file) whose file vanished after `fleet add`: its job is retried, then fails;
    the worker ends with exit 3 naming it, and the other plan is done."""
    monkeypatch.chdir(tmp_path)
    accounts = account_ids(2)
    sandbox.seed(sandbox_accounts(accounts))
    plans = [write_fleet_plan(tmp_path / f"p{i}", i, a, 5, 20) for i, a in enumerate(accounts)]
    added = _add_fleet(database, sandbox, *map(str, plans))
    assert added.returncode == 0, added.stderr
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("UPDATE bwm_fleet.plans SET plan_text = NULL WHERE name = 'fleet-1'")
    plans[1].unlink()
    done = run_cli("worker", "--state", database)
    assert done.returncode == 3, done.stderr
    assert "1 plan could not finish (fleet-1)" in done.stderr.strip().splitlines()[-1]
    # each run's lines reach the worker's output whole, prefixed with their plan's name
    assert "[fleet-1] bwmigrate: error: " in done.stderr, done.stderr
    assert "plan file not found" in done.stderr
    summary = [line for line in done.stdout.splitlines() if "Run summary" in line]
    assert summary and all(line.startswith("[fleet-0] ") for line in summary), done.stdout
    fleet = {p["name"]: p for p in _fleet_status(database)["plans"]}
    assert (fleet["fleet-0"]["job"], fleet["fleet-0"]["succeeded"]) == ("succeeded", 5)
    assert (fleet["fleet-1"]["job"], fleet["fleet-1"]["last_exit"]) == ("failed", 2)


def test_sigterm_stops_a_worker_once_its_plans_end_and_leaves_the_rest_queued(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM: the plan being driven finishes, no new one starts, exit 130; the others wait."""
    monkeypatch.chdir(tmp_path)
    accounts = account_ids(3)
    sandbox.seed(sandbox_accounts(accounts))
    plans = [write_fleet_plan(tmp_path / "p", i, a, 60, 20) for i, a in enumerate(accounts)]
    added = _add_fleet(database, sandbox, *map(str, plans))
    assert added.returncode == 0, added.stderr
    log = tmp_path / "worker.log"
    worker = _worker(database, log, concurrency="1")
    driven: list[str] = []
    wait_for(lambda: _plans_driven_by(worker.pid, database, driven), 60, "the worker to drive")
    signalled_at = time.time()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=120) == 130, log.read_text()[-2000:]
    jobs = {p["name"]: p["job"] for p in _fleet_status(database)["plans"]}
    assert jobs[driven[0]] == "succeeded", jobs
    # under load the worker may finish a plan and start the next before the signal lands;
    # what must hold: every plan started before the signal finished, none started after it
    started = _first_run_started(database, list(jobs))
    assert {n: j for n, j in jobs.items() if n in started} == dict.fromkeys(started, "succeeded")
    assert all(at < signalled_at for at in started.values()), (started, signalled_at)
    assert {n: j for n, j in jobs.items() if n not in started} == {
        n: "todo" for n in jobs if n not in started
    }
    assert "todo" in jobs.values(), jobs


def test_a_worker_draining_after_sigterm_keeps_its_heartbeat(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """procrastinate's graceful stop cancels its heartbeat before it waits for the running
    jobs: a SIGTERMed worker whose plan runs on would look dead to the others after
    --stalled-after-s. Ours keeps beating: 1.5 x the timeout after the signal, with the run
    still going, its job is not stalled; the plan finishes in one attempt, exit 130."""
    monkeypatch.chdir(tmp_path)
    _one_plan_fleet(database, sandbox, tmp_path, 150, 4)  # a run of 15 s or more
    log = tmp_path / "worker.log"
    worker = _worker(database, log, concurrency="1", stalled_after_s="4")
    wait_for(lambda: _plans_driven_by(worker.pid, database, []), 60, "the worker to drive")
    worker.send_signal(signal.SIGTERM)
    time.sleep(6)
    assert _plans_driven_by(worker.pid, database, []), "the run ended too soon to tell"
    with psycopg.connect(database, autocommit=True) as conn:
        stalled = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w "
            "ON w.id = j.worker_id WHERE j.status = 'doing' AND "
            "(w.id IS NULL OR w.last_heartbeat < now() - interval '4 seconds')"
        ).fetchone()
    assert stalled == (0,)
    assert worker.wait(timeout=120) == 130, log.read_text()[-2000:]
    (entry,) = _fleet_status(database)["plans"]
    assert (entry["job"], entry["attempts"], entry["succeeded"]) == ("succeeded", 1, 150)


def _first_run_started(database: str, names: list[str]) -> dict[str, float]:
    """When each plan's first run started (plans never run are left out), from its schema."""
    from orchestrator.state.postgres import PgLocation
    from orchestrator.state.store import Store

    found = {}
    for name in names:
        location = PgLocation(database, name)
        if Store.exists(location):
            store = Store.open(location, readonly=True)
            try:
                found[name] = min(r["started_at"] for r in store.runs())
            finally:
                store.close()
    return found


def test_fleet_status_lists_a_plan_run_outside_the_fleet_beside_the_fleets_own(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan run with `bwmigrate run PLAN --state URL` (never `fleet add`ed) shares the
    database: `status --state URL` lists it, marked outside the fleet, and counts it."""
    monkeypatch.chdir(tmp_path)
    accounts = account_ids(2)
    sandbox.seed(sandbox_accounts(accounts))
    inside = write_fleet_plan(tmp_path / "in", 0, accounts[0], 10, 20)
    outside = write_fleet_plan(tmp_path / "out", 1, accounts[1], 15, 20)
    added = _add_fleet(database, sandbox, str(inside))
    assert added.returncode == 0, added.stderr
    ran = run_cli("run", str(outside), "--state", database, "--target", sandbox.v2_url, "--yes")
    assert ran.returncode == 0, ran.stderr
    fleet = _fleet_status(database)
    plans = {p["name"]: p for p in fleet["plans"]}
    assert sorted(plans) == ["fleet-0", "fleet-1"], fleet
    assert (plans["fleet-1"]["in_fleet"], plans["fleet-1"]["job"]) == (False, "outside")
    assert (plans["fleet-1"]["account_id"], plans["fleet-1"]["succeeded"]) == (accounts[1], 15)
    assert (plans["fleet-0"]["in_fleet"], plans["fleet-0"]["job"]) == (True, "todo")
    totals = fleet["totals"]
    assert (totals["plans"], totals["outside_plans"], totals["finished_plans"]) == (2, 1, 1)
    assert (totals["numbers"], totals["succeeded"], totals["pending"]) == (25, 15, 10)
    text = run_cli("status", "--state", database)
    assert "1 plan run outside the fleet" in text.stdout.splitlines()[0], text.stdout
    assert "fleet-1 (account 9900102): outside the fleet (bwmigrate run)" in text.stdout


def _add_fleet(
    database: str, sandbox: SandboxProcess, *plans: str
) -> subprocess.CompletedProcess[str]:
    """`bwmigrate fleet add PLANS --state DATABASE --target SANDBOX --yes`."""
    return run_cli("fleet", "add", *plans, "--state", database, "--target", sandbox.v2_url, "--yes")


def _one_plan_fleet(database: str, sandbox: SandboxProcess, folder: Path, numbers: int,
                    rate_per_s: float) -> None:  # fmt: skip
    """`fleet-0`, `numbers` numbers at `rate_per_s` into a new account, added to the fleet."""
    accounts = account_ids(1)
    sandbox.seed(sandbox_accounts(accounts))
    plan = write_fleet_plan(folder / "p", 0, accounts[0], numbers, rate_per_s)
    added = _add_fleet(database, sandbox, str(plan))
    assert added.returncode == 0, added.stderr


def _remove(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`bwmigrate fleet remove ARGS --state DATABASE --yes`."""
    return run_cli("fleet", "remove", *args, "--state", database, "--yes")


def test_fleet_remove_withdraws_a_waiting_plan_and_drop_state_deletes_a_finished_one(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A removed waiting plan is never driven (no order for its account); a removed finished
    plan stays listed outside the fleet until --drop-state deletes its state."""
    monkeypatch.chdir(tmp_path)
    accounts = account_ids(3)
    sandbox.seed(sandbox_accounts(accounts))
    plans = [write_fleet_plan(tmp_path / f"p{i}", i, a, 5, 20) for i, a in enumerate(accounts)]
    added = _add_fleet(database, sandbox, *map(str, plans))
    assert added.returncode == 0, added.stderr
    unknown = _remove(database, "fleet-9")
    assert unknown.returncode == 2, unknown.stderr
    assert "no plan 'fleet-9' in this database" in unknown.stderr
    assert _remove(database, "fleet-1").returncode == 0
    done = run_cli("worker", "--state", database)
    assert done.returncode == 0, done.stderr
    ordered = {o["account_id"] for o in sandbox.ledger()["orders"]}
    assert ordered == {accounts[0], accounts[2]}
    assert sorted(p["name"] for p in _fleet_status(database)["plans"]) == ["fleet-0", "fleet-2"]
    assert _remove(database, "fleet-0").returncode == 0
    kept = {p["name"]: p for p in _fleet_status(database)["plans"]}
    assert (kept["fleet-0"]["in_fleet"], kept["fleet-0"]["succeeded"]) == (False, 5)
    dropped = _remove(database, "fleet-0", "--drop-state")
    assert dropped.returncode == 0, dropped.stderr
    assert [p["name"] for p in _fleet_status(database)["plans"]] == ["fleet-2"]
    gone = run_cli("status", "--state", f"{database}#fleet-0")
    assert gone.returncode == 2 and "no state for plan 'fleet-0'" in gone.stderr, gone.stderr


def test_fleet_remove_refuses_a_plan_being_driven_and_removes_nothing(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a worker's run holds a plan: `fleet remove` exits 4 naming it, and the plan stays
    in the fleet and finishes."""
    monkeypatch.chdir(tmp_path)
    _one_plan_fleet(database, sandbox, tmp_path, 60, 20)
    log = tmp_path / "worker.log"
    worker = _worker(database, log, concurrency="1")
    driven: list[str] = []
    wait_for(lambda: _plans_driven_by(worker.pid, database, driven), 60, "the worker to drive")
    refused = _remove(database, "fleet-0", "--drop-state")
    assert refused.returncode == 4, refused.stderr
    assert "fleet-0: a run holds this plan now" in refused.stderr
    assert worker.wait(timeout=240) == 0, log.read_text()[-2000:]
    plans = _fleet_status(database)["plans"]
    assert [(p["name"], p["in_fleet"], p["succeeded"]) for p in plans] == [("fleet-0", True, 60)]


def test_fleet_status_shows_a_plan_whose_first_run_is_creating_its_state_as_pending(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan's schema exists before its tables and facts do (a run creating its state): the
    fleet's status still answers, the plan pending with its numbers, not "empty state"."""
    monkeypatch.chdir(tmp_path)
    accounts = account_ids(1)
    plan = write_fleet_plan(tmp_path / "p", 0, accounts[0], 7, 20)
    assert _add_fleet(database, sandbox, str(plan)).returncode == 0
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema_of("fleet-0")}"')
    (entry,) = _fleet_status(database)["plans"]
    assert (entry["name"], entry["pending"], entry["owner"]) == ("fleet-0", 7, None)


def _job_of(database: str, name: str) -> str:
    """Plan `name`'s job status, as `status --json` shows it."""
    return {p["name"]: p["job"] for p in _fleet_status(database)["plans"]}[name]


def test_a_dead_workers_plan_is_queued_again_while_every_other_worker_is_busy(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker driving fleet-0 is SIGKILLed while the only other worker is busy with a
    long plan (its one slot taken): fleet-0 goes back in the queue within a few heartbeats
    anyway, not once that worker runs out of work; the survivor then drives it and every
    number of the three plans is imported exactly once."""
    monkeypatch.chdir(tmp_path)
    accounts = account_ids(3)
    sandbox.seed(sandbox_accounts(accounts))
    sizes = [(60, 20.0), (150, 4.0), (5, 20.0)]  # fleet-1: a run of 15 s or more
    plans = [write_fleet_plan(tmp_path / "p", i, accounts[i], n, rate)
             for i, (n, rate) in enumerate(sizes)]  # fmt: skip
    added = _add_fleet(database, sandbox, *map(str, plans))
    assert added.returncode == 0, added.stderr
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _worker(database, first_log, concurrency="1")
    wait_for(lambda: _plans_driven_by(first.pid, database, []), 60, "the first to drive")
    second = _worker(database, second_log, concurrency="1")
    busy: list[str] = []
    wait_for(lambda: _plans_driven_by(second.pid, database, busy), 60, "the second to drive")
    assert busy == ["fleet-1"]
    first.kill()
    first.wait()
    wait_for(lambda: _job_of(database, "fleet-0") == "todo", 30, "fleet-0 queued again")
    still: list[str] = []
    assert _plans_driven_by(second.pid, database, still) and still == ["fleet-1"]
    assert second.wait(timeout=240) == 0, second_log.read_text()[-2000:]
    imports = [n for o in sandbox.ledger()["orders"] for n in o["numbers"]]
    expected = {n for i, (count, _) in enumerate(sizes) for n in numbers_of(i, count)}
    assert len(imports) == len(set(imports)) and set(imports) == expected


def _job_row(database: str) -> tuple[str, int | None]:
    """The fleet's one job: (status, worker_id), read from procrastinate's table."""
    with psycopg.connect(database, autocommit=True) as conn:
        row = conn.execute("SELECT status::text, worker_id FROM procrastinate_jobs").fetchone()
    assert row is not None
    return row[0], row[1]


def _no_traceback(*logs: Path) -> None:
    for log in logs:
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def test_a_worker_paused_past_the_timeout_keeps_the_plan_its_run_still_drives(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker paused (SIGSTOP) past --stalled-after-s while its run goes on: a worker
    starting meanwhile prunes it (procrastinate clears the job's worker) and sees the job
    stalled but the
    plan's lease held, so it leaves the job alone (no second run, no attempt spent). Resumed,
    the first worker takes its job back with its next heartbeat and finishes it; both exit 0
    with no traceback."""
    monkeypatch.chdir(tmp_path)
    _one_plan_fleet(database, sandbox, tmp_path, 150, 4)  # a run of 15 s or more
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _worker(database, first_log, concurrency="1")
    driven: list[str] = []
    wait_for(lambda: _plans_driven_by(first.pid, database, driven), 60, "the worker to drive")
    first.send_signal(signal.SIGSTOP)
    try:
        time.sleep(3)  # its heartbeat goes stale: the second worker prunes it as it starts
        second = _worker(database, second_log, concurrency="1")
        wait_for(lambda: _job_row(database)[1] is None, 30, "the paused worker to be pruned")
        time.sleep(4)  # 2 x --stalled-after-s more: the second worker looks again
        assert second.poll() is None, second_log.read_text()
        assert _plans_driven_by(first.pid, database, []), "the run ended during the pause"
    finally:
        first.send_signal(signal.SIGCONT)
    wait_for(lambda: _job_row(database)[1] is not None, 30, "the job to be taken back")
    assert first.wait(timeout=240) == 0, first_log.read_text()[-2000:]
    assert second.wait(timeout=240) == 0, second_log.read_text()[-2000:]
    assert "[fleet-0]" not in second_log.read_text(), second_log.read_text()[-2000:]
    _no_traceback(first_log, second_log)
    (entry,) = _fleet_status(database)["plans"]
    assert (entry["job"], entry["attempts"], entry["succeeded"]) == ("succeeded", 1, 150)
    assert entry["last_worker"].endswith(f":{first.pid}")
    imports = [n for o in sandbox.ledger()["orders"] for n in o["numbers"]]
    assert len(imports) == len(set(imports)) == 150


def test_a_worker_resumed_after_its_job_was_taken_over_says_so_and_leaves_it(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run of a paused worker ends during the pause; the other worker finds the job
    stalled and the lease free, requeues it and finishes it (its run has nothing to do).
    Resumed, the first worker does not finish the job a second time: it says in one line that
    another worker took it over, with no traceback; both exit 0, every number imported once."""
    monkeypatch.chdir(tmp_path)
    _one_plan_fleet(database, sandbox, tmp_path, 20, 20)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _worker(database, first_log, concurrency="1")
    wait_for(lambda: _plans_driven_by(first.pid, database, []), 60, "the worker to drive")
    first.send_signal(signal.SIGSTOP)
    try:
        second = _worker(database, second_log, concurrency="1")
        wait_for(lambda: _job_row(database)[0] == "succeeded", 90, "the job taken over")
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=120) == 0, first_log.read_text()[-2000:]
    assert second.wait(timeout=120) == 0, second_log.read_text()[-2000:]
    assert "[fleet-0] Nothing to do: this plan already finished" in second_log.read_text()
    assert "bwmigrate: worker: plan fleet-0: another worker took its job over" in (
        first_log.read_text()
    ), first_log.read_text()[-2000:]
    _no_traceback(first_log, second_log)
    (entry,) = _fleet_status(database)["plans"]
    assert (entry["job"], entry["succeeded"]) == ("succeeded", 20)
    imports = [n for o in sandbox.ledger()["orders"] for n in o["numbers"]]
    assert len(imports) == len(set(imports)) == 20
