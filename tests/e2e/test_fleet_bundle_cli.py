"""A fleet's plans travel in its database: `fleet add` stores each plan's text and number files
in the registry, and a worker's run reads them from there (`run --plan-from-fleet`). So a
worker needs no plan file, runs exactly what `fleet add` showed (not a later edit), and a
registry made before plans travelled (no `plan_text`, no `plan_files`) keeps working. Real
PostgreSQL, the sandbox process, the CLI as subprocesses; judged by the sandbox's ledger."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgfleet import account_ids, fleet_database, numbers_of, sandbox_accounts, write_fleet_plan
from support import SandboxProcess, run_cli


@pytest.fixture
def database() -> Iterator[str]:
    yield from fleet_database()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    with SandboxProcess(log=tmp_path / "sandbox.log") as sb:
        yield sb


def _add(database: str, sandbox: SandboxProcess, *plans: Path) -> None:
    """`bwmigrate fleet add PLANS --state DATABASE --target SANDBOX --yes`, exit 0."""
    added = run_cli(
        "fleet", "add", *map(str, plans), "--state", database, "--target", sandbox.v2_url, "--yes"
    )
    assert added.returncode == 0, added.stderr


def _work(database: str) -> subprocess.CompletedProcess[str]:
    """`bwmigrate worker --state DATABASE` to its end, exit 0 and no traceback."""
    done = run_cli("worker", "--state", database)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


def _imported(sandbox: SandboxProcess, account: str) -> list[str]:
    """Every number the sandbox's ledger has imported into `account` (sorted; a repeat shows)."""
    orders = sandbox.ledger()["orders"]
    return sorted(n for o in orders if o["account_id"] == account for n in o["numbers"])


def test_a_worker_runs_a_plan_whose_files_are_gone_from_the_registry(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan's folder (plan and number file) deleted after `fleet add`: the worker still
    imports each of the plan's numbers exactly once and exits 0."""
    monkeypatch.chdir(tmp_path)
    (account,) = account_ids(1)
    sandbox.seed(sandbox_accounts([account]))
    plan = write_fleet_plan(tmp_path / "plans", 0, account, 12, 20)
    _add(database, sandbox, plan)
    shutil.rmtree(plan.parent)
    _work(database)
    assert _imported(sandbox, account) == sorted(numbers_of(0, 12))


def test_a_worker_runs_the_plan_fleet_add_showed_not_a_later_edit(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The number file grown and the plan given a second file after `fleet add`: the worker
    imports exactly the numbers `fleet add` counted, none of the edit's."""
    monkeypatch.chdir(tmp_path)
    (account,) = account_ids(1)
    sandbox.seed(sandbox_accounts([account]))
    plan = write_fleet_plan(tmp_path / "plans", 0, account, 10, 20)
    _add(database, sandbox, plan)
    grown = numbers_of(0, 15)
    (plan.parent / "n0.txt").write_text("\n".join(grown) + "\n")
    (plan.parent / "extra.txt").write_text("\n".join(numbers_of(1, 5)) + "\n")
    text = plan.read_text()
    plan.write_text(text.replace('files = ["n0.txt"]', 'files = ["n0.txt", "extra.txt"]'))
    assert plan.read_text() != text
    _work(database)
    assert _imported(sandbox, account) == sorted(numbers_of(0, 10))


def test_a_registry_made_before_plans_travelled_still_adds_and_runs(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry without `plan_text` and `plan_files` (as an older bwmigrate made it): its
    queued plan runs from its file; `fleet add` then adds both, and the new plan runs from
    the database with its folder deleted; every number imported once."""
    monkeypatch.chdir(tmp_path)
    accounts = account_ids(2)
    sandbox.seed(sandbox_accounts(accounts))
    old, new = (write_fleet_plan(tmp_path / f"p{i}", i, a, 5, 20) for i, a in enumerate(accounts))
    _add(database, sandbox, old)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bwm_fleet.plan_files")
        conn.execute("ALTER TABLE bwm_fleet.plans DROP COLUMN IF EXISTS plan_text")
    _work(database)
    assert _imported(sandbox, accounts[0]) == sorted(numbers_of(0, 5))
    _add(database, sandbox, new)
    shutil.rmtree(new.parent)
    _work(database)
    assert _imported(sandbox, accounts[0]) == sorted(numbers_of(0, 5))
    assert _imported(sandbox, accounts[1]) == sorted(numbers_of(1, 5))


def test_plan_from_fleet_needs_a_fleet_database_that_holds_the_plan(
    database: str, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """`run --plan-from-fleet` with a SQLite state, or naming a plan the fleet does not hold:
    exit 2, one line saying what to pass, no traceback, and no state made."""
    (account,) = account_ids(1)
    plan = write_fleet_plan(tmp_path / "plans", 0, account, 5, 20)
    _add(database, sandbox, plan)
    common = ("--target", sandbox.v2_url, "--yes", "--plan-from-fleet")
    sqlite = run_cli("run", str(plan), "--state", str(tmp_path / "s.db"), *common)
    unknown = run_cli("run", str(plan), "--state", f"{database}#fleet-9", *common)
    for done in (sqlite, unknown):
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
    assert "--plan-from-fleet: the plan is read from a fleet's database" in sqlite.stderr
    assert "--state postgresql://HOST/DATABASE#PLAN" in sqlite.stderr
    assert "the fleet holds no stored plan 'fleet-9'" in unknown.stderr, unknown.stderr
    assert not (tmp_path / "s.db").exists()


def _replace(
    database: str, sandbox: SandboxProcess, plan: Path
) -> subprocess.CompletedProcess[str]:
    """`bwmigrate fleet add PLAN --replace --state DATABASE --target SANDBOX --yes`."""
    return run_cli("fleet", "add", str(plan), "--replace", "--state", database,
                   "--target", sandbox.v2_url, "--yes")  # fmt: skip


def _grow(plan: Path, count: int) -> None:
    """Plan `fleet-0`'s number file now holds its first `count` numbers."""
    (plan.parent / "n0.txt").write_text("\n".join(numbers_of(0, count)) + "\n")


def test_fleet_add_replace_swaps_a_waiting_plan_and_is_required_to(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan corrected before any worker ran it: `fleet add` again is refused (exit 2, naming
    --replace); with `--replace` its waiting job runs the corrected plan, once."""
    monkeypatch.chdir(tmp_path)
    (account,) = account_ids(1)
    sandbox.seed(sandbox_accounts([account]))
    plan = write_fleet_plan(tmp_path / "plans", 0, account, 10, 20)
    _add(database, sandbox, plan)
    _grow(plan, 12)
    again = run_cli("fleet", "add", str(plan), "--state", database, "--target", sandbox.v2_url,
                    "--yes")  # fmt: skip
    assert again.returncode == 2 and "fleet add --replace" in again.stderr, again.stderr
    replaced = _replace(database, sandbox, plan)
    assert replaced.returncode == 0, replaced.stderr
    assert "fleet-0: account" in replaced.stderr and "(replaces the plan" in replaced.stderr
    assert "0 plans queued (1 replaced in the job already waiting)" in replaced.stderr
    _work(database)
    assert _imported(sandbox, account) == sorted(numbers_of(0, 12))


def test_fleet_add_replace_queues_again_a_corrected_plan_whose_runs_failed(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan naming a site the account does not have: its runs fail, its job fails, the
    worker exits 3. Corrected and added with `--replace`, it is queued again and imported."""
    monkeypatch.chdir(tmp_path)
    (account,) = account_ids(1)
    sandbox.seed(sandbox_accounts([account]))
    plan = write_fleet_plan(tmp_path / "plans", 0, account, 8, 20)
    good = plan.read_text()
    plan.write_text(good.replace('site_id = "743"', 'site_id = "999"'))
    _add(database, sandbox, plan)
    failed = run_cli("worker", "--state", database)
    assert failed.returncode == 3, failed.stderr[-2000:]
    assert _imported(sandbox, account) == []
    plan.write_text(good)
    replaced = _replace(database, sandbox, plan)
    assert replaced.returncode == 0, replaced.stderr
    assert "1 plan queued;" in replaced.stderr, replaced.stderr
    _work(database)
    assert _imported(sandbox, account) == sorted(numbers_of(0, 8))


def test_fleet_add_replace_refuses_a_plan_that_took_effect_and_changes_nothing(
    database: str, sandbox: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan whose numbers were imported cannot be replaced: exit 2 saying what took effect;
    the stored plan is unchanged (a worker has nothing more to do)."""
    monkeypatch.chdir(tmp_path)
    (account,) = account_ids(1)
    sandbox.seed(sandbox_accounts([account]))
    plan = write_fleet_plan(tmp_path / "plans", 0, account, 6, 20)
    _add(database, sandbox, plan)
    _work(database)
    _grow(plan, 9)
    refused = _replace(database, sandbox, plan)
    assert refused.returncode == 2, refused.stderr
    assert "this plan took effect (6 numbers done or sent" in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1  # before the fleet is shown
    _work(database)
    assert _imported(sandbox, account) == sorted(numbers_of(0, 6))
