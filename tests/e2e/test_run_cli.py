"""`bwmigrate run` as a subprocess against a sandbox subprocess: kill -9 and resume, Ctrl-C,
the lease, the confirmation gate, and what a finished run does on a re-run.

The sandbox runs as its own process (`bwmigrate sandbox --port 0`), so killing the CLI kills
only the client side, exactly like a crashed cutover against the real API. The sandbox process
and the CLI invocations come from tests/e2e/support.py (shared with the chaos tests).
"""

from __future__ import annotations

import csv
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from planfiles import IMPORT_DETAILS
from support import ENV, SandboxProcess, read_report, run_args

ACCOUNT = "9900012"


@pytest.fixture
def sandbox_proc(request: pytest.FixtureRequest) -> Iterator[SandboxProcess]:
    args = getattr(request, "param", ("--order-delay-s", "0.2"))
    with SandboxProcess(*args) as sb:
        yield sb


def _write_plan(folder: Path, imports: int, removes: list[str], batch: int = 10) -> Path:
    numbers = [f"+1919991{i:04d}" for i in range(imports)]
    (folder / "import.csv").write_text("TN\n" + "\n".join(n[2:] for n in numbers) + "\n")
    (folder / "remove.txt").write_text("\n".join(removes) + "\n")
    remove = '[[steps]]\nkind = "remove"\nfiles = ["remove.txt"]\n' if removes else ""
    plan = folder / "plan.toml"
    plan.write_text(
        f'name = "e2e"\naccount_id = "{ACCOUNT}"\nbatch_size = {batch}\n'
        "[rate]\nrequests_per_s = 200\nmax_orders_in_flight = 6\npoll_interval_s = 0.05\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        f"{IMPORT_DETAILS}enable_messaging = true\n"
        'files = [{ path = "import.csv", column = "TN" }]\n' + remove
    )
    return plan


def _run_args(plan: Path, sb: SandboxProcess, state: Path, *extra: str) -> list[str]:
    return run_args(plan, sb.v2_url, state, *extra)


def _wait_until_submitted(state: Path, orders: int, timeout_s: float = 60) -> None:
    """Poll `status` until the run has `orders` orders submitted (so it is mid-run)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        out = subprocess.run(
            [sys.executable, "-m", "orchestrator", "status", "--state", str(state), "--json"],
            capture_output=True,
            text=True,
        )
        if out.returncode == 0 and json.loads(out.stdout)["orders"]["submitted"] >= orders:
            return
        time.sleep(0.1)
    raise AssertionError(f"the run never submitted {orders} orders")


def _report(state: Path) -> list[dict[str, Any]]:
    return read_report(state)


def _assert_exactly_once(sb: SandboxProcess, imported: list[str]) -> None:
    ledger = sb.ledger()
    for kind in ("import", "remove", "tnoptions"):
        seen = Counter(n for o in ledger["orders"] if o["kind"] == kind for n in o["numbers"])
        twice = sorted(n for n, c in seen.items() if c > 1)
        assert not twice, f"{kind}: in two orders: {twice[:5]}"
    inv = sb.inventory()
    assert {inv[n]["imports"] for n in imported} == {1}


def test_sigkill_mid_run_several_times_then_resume_loses_nothing_and_sends_nothing_twice(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """SIGKILL the CLI at random moments, resume until done: every number ends exactly once."""
    removes = [f"+1415871{i:04d}" for i in range(30)]
    sandbox_proc.seed(
        {"numbers": [{"number": n, "kind": "imported", "account": ACCOUNT} for n in removes]}
    )
    plan = _write_plan(tmp_path, 200, removes)
    state = tmp_path / "state.db"
    rng = random.Random(1234)
    kills = 0
    for _ in range(4):
        child = subprocess.Popen(
            _run_args(plan, sandbox_proc, state),
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.6, 1.6))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=30)
    assert kills >= 2, "the run finished too fast to be killed; slow the sandbox down"
    final = subprocess.run(
        _run_args(plan, sandbox_proc, state, "--json"),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    assert summary["numbers"] == {
        "total": 430,
        "succeeded": 430,
        "failed": 0,
        "skipped": 0,
        "needs_action": 0,
        "unknown": 0,
        "pending": 0,
    }
    rows = _report(state)
    assert len(rows) == 430
    assert Counter(r["status"] for r in rows) == {"succeeded": 430}
    imported = [f"+1919991{i:04d}" for i in range(200)]
    assert {r["number"] for r in rows if r["step"] == "import-1"} == set(imported)
    _assert_exactly_once(sandbox_proc, imported)
    known = {r["customer_order_id"] for r in rows}
    unknown = [o for o in sandbox_proc.ledger()["orders"] if o["customer_order_id"] not in known]
    assert unknown == [], "orders the tool does not know about"


@pytest.mark.parametrize("sandbox_proc", [("--order-delay-s", "2")], indirect=True)
def test_sigint_stops_with_130_and_the_same_command_resumes(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """Ctrl-C exits 130 with state saved; re-running the command finishes the plan."""
    plan = _write_plan(tmp_path, 60, [])
    plan.write_text(
        plan.read_text().replace('[[steps]]\nkind = "remove"\nfiles = ["remove.txt"]\n', "")
    )
    state = tmp_path / "state.db"
    child = subprocess.Popen(
        _run_args(plan, sandbox_proc, state),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_until_submitted(state, 1)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130, err
    assert "state saved" in err and "Traceback" not in err
    final = subprocess.run(
        _run_args(plan, sandbox_proc, state, "--json"),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert final.returncode == 0, final.stderr
    assert json.loads(final.stdout)["numbers"]["succeeded"] == 120
    _assert_exactly_once(sandbox_proc, [f"+1919991{i:04d}" for i in range(60)])


@pytest.mark.parametrize("sandbox_proc", [("--order-delay-s", "30")], indirect=True)
def test_second_run_on_the_same_state_file_exits_4_at_once(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """While one run holds the state file, a second one exits 4 with who holds it."""
    plan = _write_plan(tmp_path, 20, [])
    state = tmp_path / "state.db"
    first = subprocess.Popen(
        _run_args(plan, sandbox_proc, state),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_submitted(state, 1)  # the first run holds the lease and is mid-run
        second = subprocess.run(
            _run_args(plan, sandbox_proc, state),
            env=ENV,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 4
        assert "in use by pid" in second.stderr and "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)


def test_finished_run_sends_no_request_and_says_so(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """Re-running a finished plan sends nothing and reports the stored outcome."""
    plan = _write_plan(tmp_path, 10, [])
    state = tmp_path / "state.db"
    first = subprocess.run(
        _run_args(plan, sandbox_proc, state), env=ENV, capture_output=True, text=True, timeout=60
    )
    assert first.returncode == 0, first.stderr
    before = sandbox_proc.ledger()["requests"]["total"]
    again = subprocess.run(
        _run_args(plan, sandbox_proc, state), env=ENV, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0
    assert "Nothing to do" in again.stderr
    assert sandbox_proc.ledger()["requests"]["total"] == before


def test_changed_plan_is_refused_on_resume(sandbox_proc: SandboxProcess, tmp_path: Path) -> None:
    """Editing the plan after a run started is refused with exit 2 and a clear message."""
    plan = _write_plan(tmp_path, 10, [])
    state = tmp_path / "state.db"
    subprocess.run(
        _run_args(plan, sandbox_proc, state), env=ENV, capture_output=True, timeout=60, check=True
    )
    plan.write_text(plan.read_text().replace('site_id = "743"', 'site_id = "486"'))
    again = subprocess.run(
        _run_args(plan, sandbox_proc, state), env=ENV, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 2
    assert "the plan changed after the run started" in again.stderr
    assert "Traceback" not in again.stderr


def test_run_canary_option_cuts_the_first_order_and_is_part_of_the_plan(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """`run --canary 3` sends each import step's first order with 3 numbers, the rest in
    batch_size orders; resuming with another --canary is refused as a changed plan."""
    plan = _write_plan(tmp_path, 25, [])
    state = tmp_path / "state.db"
    done = subprocess.run(
        _run_args(plan, sandbox_proc, state, "--canary", "3"),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    imports = [o for o in sandbox_proc.ledger()["orders"] if o["kind"] == "import"]
    sizes = {o["customer_order_id"][-5:]: len(o["numbers"]) for o in imports}
    assert sizes == {"00000": 3, "00001": 10, "00002": 10, "00003": 2}
    again = subprocess.run(
        _run_args(plan, sandbox_proc, state, "--canary", "4"),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2
    assert "a different `run --canary` changes it too" in again.stderr


def test_live_target_without_yes_is_refused_when_not_interactive(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """A non-sandbox target needs --yes when stdin is not a terminal; nothing is sent."""
    plan = _write_plan(tmp_path, 10, [])
    args = [a for a in _run_args(plan, sandbox_proc, tmp_path / "s.db") if a != "--yes"]
    out = subprocess.run(
        args, env=ENV, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert out.returncode == 2
    assert "pass --yes" in out.stderr
    assert sandbox_proc.ledger()["requests"]["total"] == 0


def test_missing_credentials_are_a_clear_error(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """Without BWMIGRATE_* credentials a live run explains which variables to set."""
    plan = _write_plan(tmp_path, 10, [])
    env = {k: v for k, v in ENV.items() if not k.startswith("BWMIGRATE_")}
    out = subprocess.run(
        _run_args(plan, sandbox_proc, tmp_path / "s.db"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "BWMIGRATE_CLIENT_ID" in out.stderr and "Traceback" not in out.stderr


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("sandbox_proc", [("--order-delay-s", "30")], indirect=True)
def test_status_during_a_run_shows_live_counts(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """While a run waits on slow orders, status (read-only) shows it running, with requests."""
    plan = _write_plan(tmp_path, 40, [])
    state = tmp_path / "state.db"
    child = subprocess.Popen(
        _run_args(plan, sandbox_proc, state, "--canary", "0"),  # four equal orders, none held
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        doc: dict[str, Any] = {}
        while time.monotonic() < deadline:
            out = _cli("status", "--state", str(state), "--json")
            if out.returncode == 0:
                doc = json.loads(out.stdout)
                if doc["requests"]["total"] >= 4:
                    break
            time.sleep(0.2)
        assert doc["running"] is True
        assert doc["requests"]["total"] >= 4  # 4 creates, then polls, saved during the run
        assert doc["numbers"]["total"] == 80 and doc["numbers"]["pending"] == 80
        assert doc["orders"]["submitted"] == 4
        assert doc["budget"]["share_per_s"] == 200 and doc["budget"]["in_use_per_s"] > 0
        text = _cli("status", "--state", str(state)).stdout
        assert "Budget: 200 req/s; in use" in text
    finally:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 130
    after = json.loads(_cli("status", "--state", str(state), "--json").stdout)
    assert after["running"] is False


def test_report_csv_json_and_legacy_numbers(sandbox_proc: SandboxProcess, tmp_path: Path) -> None:
    """report writes one row per number and step; legacy prints +1 numbers as 10 digits."""
    plan = _write_plan(tmp_path, 12, [])
    (tmp_path / "import.csv").write_text((tmp_path / "import.csv").read_text() + "6.67229E+09\n")
    state = tmp_path / "state.db"
    run = subprocess.run(
        _run_args(plan, sandbox_proc, state), env=ENV, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1, run.stderr  # one invalid input
    csv_out = tmp_path / "r.csv"
    assert (
        _cli(
            "report", "--state", str(state), "--number-format", "legacy", "--out", str(csv_out)
        ).returncode
        == 0
    )
    with csv_out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 + 12 + 1
    assert {r["number"] for r in rows if r["step"] == "import-1" and r["number"]} == {
        f"919991{i:04d}" for i in range(12)
    }
    bad = [r for r in rows if r["status"] == "failed"]
    assert [(b["input"], b["error_code"], b["source"]) for b in bad] == [
        ("6.67229E+09", "INVALID_INPUT", "import.csv:14")
    ]
    ok = next(r for r in rows if r["step"] == "import-1:sms-on")
    assert ok["order_id"] and ok["customer_order_id"].endswith("-I01-00000-M")
    as_json = json.loads(_cli("report", "--state", str(state), "--format", "json").stdout)
    assert len(as_json) == 25 and as_json[0]["number"].startswith("+1919991")
