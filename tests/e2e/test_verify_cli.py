"""`bwmigrate snapshot`, `run --verify` and `bwmigrate verify` as subprocesses: the journey plan
-> snapshot -> run -> verify against a sandbox process, a number flipped behind the run's back
(a TN option order sent straight to the sandbox) reported with its field, and a rehearsal
verified inside its own run."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from planfiles import IMPORT_DETAILS
from support import ACCOUNT, ENV, SandboxProcess, cli_args, run_args

IMPORTS = [f"+1919448{i:04d}" for i in range(12)]


@pytest.fixture
def sandbox_proc() -> Iterator[SandboxProcess]:
    sb = SandboxProcess("--order-delay-s", "0.05")
    try:
        yield sb
    finally:
        sb.stop()


def _plan(folder: Path) -> Path:
    plan = folder / "plan.toml"
    quoted = ", ".join(f'"{n}"' for n in IMPORTS)
    plan.write_text(
        f'name = "journey"\naccount_id = "{ACCOUNT}"\nbatch_size = 5\ncanary = 0\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\nexpected_order_s = 0.1\n"
        '[[steps]]\nkind = "import"\nname = "move"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        f"{IMPORT_DETAILS}enable_messaging = true\nnumbers = [{quoted}]\n"
    )
    return plan


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_args(*args), capture_output=True, text=True, env=ENV, timeout=300)


def _sms_off(sb: SandboxProcess, number: str) -> None:
    body = (
        "<TnOptionOrder><CustomerOrderId>behind-the-back</CustomerOrderId><TnOptionGroups>"
        f"<TnOptionGroup><Sms>off</Sms><TelephoneNumbers><TelephoneNumber>{number}"
        "</TelephoneNumber></TelephoneNumbers></TnOptionGroup></TnOptionGroups></TnOptionOrder>"
    )
    r = httpx.post(
        f"{sb.v2_url}/accounts/{ACCOUNT}/tnoptions",
        content=body,
        auth=("sandbox", "sandbox"),
        headers={"Content-Type": "application/xml"},
    )
    assert r.status_code == 201, r.text
    deadline_polls = 200
    while sb.inventory()[number]["sms_enabled"] and deadline_polls:
        deadline_polls -= 1  # the sandbox completes the order after its order delay
    assert not sb.inventory()[number]["sms_enabled"]


def test_snapshot_run_verify_then_a_flipped_number_drifts(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """snapshot keeps 12 numbers from one in-service page; the run that follows does not
    snapshot again and, with --verify, finds every number as planned (exit 0); after an SMS-off
    order sent straight to the sandbox, `verify --json --out` exits 1 naming the number, the
    step, the field, expected and actual; an existing --out file is refused without --force."""
    plan, state = _plan(tmp_path), tmp_path / "journey.db"
    snap = _cli("snapshot", str(plan), "--target", sandbox_proc.v2_url, "--state", str(state),
                "--json")  # fmt: skip
    assert snap.returncode == 0, snap.stderr
    kept = json.loads(snap.stdout)
    assert (kept["numbers"], kept["read_by_pages"], kept["requests"]["total"]) == (12, 12, 1)
    run = subprocess.run(run_args(plan, sandbox_proc.v2_url, state, "--verify", "--json"),
                         capture_output=True, text=True, env=ENV, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert "snapshot" not in summary  # taken ahead: the run went straight to its first order
    assert summary["verify"]["numbers"]["matched"] == 12
    _sms_off(sandbox_proc, IMPORTS[3])
    out = tmp_path / "verify.json"
    verify = _cli("verify", "--state", str(state), "--json", "--out", str(out))
    assert verify.returncode == 1, verify.stderr
    result = json.loads(verify.stdout)
    assert result["numbers"] == {"checked": 12, "matched": 11, "drifted": 1, "unreadable": 0,
                                 "not_checked": 0}  # fmt: skip
    assert result["drift"] == [{"number": IMPORTS[3], "step": "move:sms-on", "field": "sms",
                                "expected": "true", "actual": "false"}]  # fmt: skip
    assert json.loads(out.read_text()) == result
    again = _cli("verify", "--state", str(state), "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1  # refused before any request


def test_a_rehearsal_verifies_inside_its_run_with_no_drift(tmp_path: Path) -> None:
    """`run --sandbox --verify`: the embedded sandbox is snapshotted before the first order and
    read back after the last: every number matches (exit 0). `verify` on the rehearsal's state
    file afterwards says in one line why it cannot (its sandbox is gone), exit 2."""
    plan, state = _plan(tmp_path), tmp_path / "r.db"
    run = _cli("run", str(plan), "--sandbox", "--state", str(state), "--verify", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["snapshot"]["numbers"] == 12 and summary["snapshot"]["complete"]
    assert summary["verify"]["numbers"]["matched"] == 12
    assert summary["verify"]["drift"] == []
    later = _cli("verify", "--state", str(state))
    assert later.returncode == 2
    assert "rehearsal" in later.stderr and "Traceback" not in later.stderr
