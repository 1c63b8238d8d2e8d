"""`report`, `rollback`, `verify` and `status` per plan on the shared PostgreSQL state: a plan
run against a sandbox process with `--state postgresql://...#PLAN`, then each command on the
same URL, judged by the sandbox's ledger and inventory."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pgstate import pg_location_in
from planfiles import write_cut_plan, write_import_plan
from support import ACCOUNT, ENV, SandboxProcess, cli_args, run_cli, run_plan, seed_of_planted

from orchestrator.state.postgres import PgLocation

IMPORTS = [f"+1919451{i:04d}" for i in range(7)]


@pytest.fixture
def sandbox_proc() -> Iterator[SandboxProcess]:
    with SandboxProcess("--order-delay-s", "0.05") as sb:
        yield sb


@pytest.fixture
def pg_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PgLocation]:
    """A unique plan schema in the test database; audit logs go to tmp_path/state."""
    yield from pg_location_in(tmp_path, monkeypatch)


def _run_plan(sb: SandboxProcess, folder: Path, state: str) -> None:
    plan = write_import_plan(folder / "plan.toml", "pgplan", ACCOUNT, IMPORTS)
    run = run_plan(plan, sb.v2_url, state, "--json")
    assert run.returncode == 0, run.stderr


def test_report_rollback_verify_and_status_of_a_plan_on_postgresql(
    sandbox_proc: SandboxProcess, pg_state: PgLocation, tmp_path: Path
) -> None:
    """After a run on PostgreSQL: `report --format json` shows every number in the order the
    sandbox's ledger holds it in (by order id and CustomerOrderId); `rollback --out` writes a
    plan removing the 7 imports; `verify --json` finds 0 drift (exit 0); `status --json` shows
    the plan done with its 14 numbers; after an SMS-off order sent straight to the sandbox,
    `verify` exits 1 naming the number and field; `report --html` writes the page."""
    state = str(pg_state)
    _run_plan(sandbox_proc, tmp_path, state)
    report = run_cli("report", "--state", state, "--format", "json")
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)
    in_ledger = {
        (n, o["order_id"], o["customer_order_id"])
        for o in sandbox_proc.ledger()["orders"] for n in o["numbers"]
    }  # fmt: skip
    assert {(r["number"], r["order_id"], r["customer_order_id"]) for r in rows} == in_ledger
    assert len(rows) == len(in_ledger) == 2 * len(IMPORTS)
    assert {r["status"] for r in rows} == {"succeeded"}
    out = tmp_path / "undo" / "undo.toml"
    rollback = run_cli("rollback", "--state", state, "--out", str(out), "--json")
    assert rollback.returncode == 0, rollback.stderr
    steps = json.loads(rollback.stdout)["steps"]
    assert [(s["kind"], s["numbers"], s["undoes"]) for s in steps] == [("remove", 7, ["move"])]
    assert out.exists() and "pgplan-rollback" in out.read_text()
    verify = run_cli("verify", "--state", state, "--json")
    assert verify.returncode == 0, verify.stderr
    checked = json.loads(verify.stdout)
    assert checked["numbers"]["matched"] == len(IMPORTS) and checked["drift"] == []
    status = run_cli("status", "--state", state, "--json")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["numbers"]["succeeded"] == shown["numbers"]["total"] == 2 * len(IMPORTS)
    assert (shown["plan"]["name"], shown["running"], shown["runs"]) == ("pgplan", False, 1)
    sandbox_proc.turn_sms_off(IMPORTS[2])
    drifted = run_cli("verify", "--state", state, "--json")
    assert drifted.returncode == 1, drifted.stderr
    assert json.loads(drifted.stdout)["drift"] == [{"number": IMPORTS[2], "step": "move:sms-on",
                                                    "field": "sms", "expected": "true",
                                                    "actual": "false"}]  # fmt: skip
    html = tmp_path / "report.html"
    page = run_cli("report", "--state", state, "--html", str(html))
    assert page.returncode == 0, page.stderr
    assert IMPORTS[0] in html.read_text()


def test_status_serve_draws_a_plan_on_postgresql(
    sandbox_proc: SandboxProcess, pg_state: PgLocation, tmp_path: Path
) -> None:
    """`status --serve --state postgresql://...#PLAN`: the live page answers 200 with the
    plan's counts, read from its schema."""
    state = str(pg_state)
    _run_plan(sandbox_proc, tmp_path, state)
    serving = cli_args("status", "--serve", "--state", state)
    with subprocess.Popen(serving, env=ENV, stdout=subprocess.PIPE, text=True) as serve:
        try:
            assert serve.stdout is not None
            url = serve.stdout.readline().strip()
            assert url.startswith("http://"), url
            answer = httpx.get(url, timeout=60)
            assert answer.status_code == 200, answer.text
            assert "pgplan" in answer.text and 'data-step="all"' in answer.text
        finally:
            serve.terminate()
            serve.wait(timeout=30)


def test_a_rollback_from_a_snapshot_in_postgresql_restores_what_was_there(
    sandbox_proc: SandboxProcess, pg_state: PgLocation, tmp_path: Path
) -> None:
    """A run removing 3 numbers hosted on site 486 / peer 500025 and turning SMS off (dropping
    campaign CAMP0001) for 3 others, on PostgreSQL: `rollback` reads the snapshot from the
    plan's schema and writes the re-import where they were and SMS on with the campaign."""
    hosted = [f"+1919452{i:04d}" for i in range(3)]
    in_service = [f"+1919453{i:04d}" for i in range(3)]
    sandbox_proc.seed(seed_of_planted(hosted, in_service))
    plan = write_cut_plan(tmp_path / "cut.toml", ACCOUNT, hosted, in_service)
    state = str(pg_state)
    run = run_plan(plan, sandbox_proc.v2_url, state, "--json")
    assert run.returncode == 0, run.stderr
    out = tmp_path / "undo.toml"
    written = run_cli("rollback", "--state", state, "--out", str(out), "--json")
    assert written.returncode == 0, written.stderr
    steps = {s["step"]: s["numbers"] for s in json.loads(written.stdout)["steps"]}
    assert steps == {"restore-import-1": 3, "restore-messaging-1": 3}
    text = out.read_text()
    assert 'site_id = "486"' in text and 'sip_peer_id = "500025"' in text
    assert 'a2p = { campaign_id = "CAMP0001", message_class = "M" }' in text
