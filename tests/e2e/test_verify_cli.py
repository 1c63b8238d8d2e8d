"""`bwmigrate snapshot`, `run --verify` and `bwmigrate verify` as subprocesses: the journey plan
-> snapshot -> run -> verify against a sandbox process, a number flipped behind the run's back
(a TN option order sent straight to the sandbox) reported with its field, and a rehearsal
verified inside its own run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from planfiles import write_cut_plan, write_import_plan
from support import ACCOUNT, SandboxProcess, run_cli, run_plan, seed_of_planted

IMPORTS = [f"+1919448{i:04d}" for i in range(12)]


@pytest.fixture
def sandbox_proc() -> Iterator[SandboxProcess]:
    with SandboxProcess("--order-delay-s", "0.05") as sb:
        yield sb


def _plan(folder: Path) -> Path:
    return write_import_plan(folder / "plan.toml", "journey", ACCOUNT, IMPORTS)


def test_snapshot_run_verify_then_a_flipped_number_drifts(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """snapshot keeps 12 numbers from one in-service page; the run that follows does not
    snapshot again and, with --verify, finds every number as planned (exit 0); after an SMS-off
    order sent straight to the sandbox, `verify --json --out` exits 1 naming the number, the
    step, the field, expected and actual; an existing --out file is refused without --force."""
    plan, state = _plan(tmp_path), tmp_path / "journey.db"
    snap = run_cli("snapshot", str(plan), "--target", sandbox_proc.v2_url, "--state", str(state),
                   "--json")  # fmt: skip
    assert snap.returncode == 0, snap.stderr
    kept = json.loads(snap.stdout)
    assert (kept["numbers"], kept["read_by_pages"], kept["requests"]["total"]) == (12, 12, 1)
    run = run_plan(plan, sandbox_proc.v2_url, state, "--verify", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert "snapshot" not in summary  # taken ahead: the run went straight to its first order
    assert summary["verify"]["numbers"]["matched"] == 12
    sandbox_proc.turn_sms_off(IMPORTS[3])
    out = tmp_path / "verify.json"
    verify = run_cli("verify", "--state", str(state), "--json", "--out", str(out))
    assert verify.returncode == 1, verify.stderr
    result = json.loads(verify.stdout)
    assert result["numbers"] == {"checked": 12, "matched": 11, "drifted": 1, "unreadable": 0,
                                 "not_checked": 0}  # fmt: skip
    assert result["drift"] == [{"number": IMPORTS[3], "step": "move:sms-on", "field": "sms",
                                "expected": "true", "actual": "false"}]  # fmt: skip
    assert json.loads(out.read_text()) == result
    again = run_cli("verify", "--state", str(state), "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1  # refused before any request


def test_a_rehearsal_verifies_inside_its_run_with_no_drift(tmp_path: Path) -> None:
    """`run --sandbox --verify`: the embedded sandbox is snapshotted before the first order and
    read back after the last: every number matches (exit 0), progress on stderr; with
    --no-snapshot none is taken. `verify` on the rehearsal's state file afterwards says in one
    line why it cannot (its sandbox is gone), exit 2."""
    plan, state = _plan(tmp_path), tmp_path / "r.db"
    run = run_cli("run", str(plan), "--sandbox", "--state", str(state), "--verify", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["snapshot"]["numbers"] == 12 and summary["snapshot"]["complete"]
    assert summary["verify"]["numbers"]["matched"] == 12
    assert summary["verify"]["drift"] == []
    assert "Snapshot: 12 of 12 numbers kept" in run.stderr
    bare = run_cli("run", str(plan), "--sandbox", "--state", str(tmp_path / "b.db"), "--json",
                   "--no-snapshot")  # fmt: skip
    assert bare.returncode == 0 and "snapshot" not in json.loads(bare.stdout)
    later = run_cli("verify", "--state", str(state))
    assert later.returncode == 2
    assert "rehearsal" in later.stderr and "Traceback" not in later.stderr


def test_a_rollback_from_the_snapshot_restores_the_planted_settings(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """Planted before the run: three numbers hosted on site 486 / peer 500025 with SMS on (the
    plan removes them) and three in-service numbers with SMS on and A2P campaign CAMP0001 class
    M (the plan turns SMS off, which drops the campaign). The rollback written from the run's
    snapshot, without --site-id, re-imports the first three where they were with SMS on and
    turns SMS back on with the campaign for the others; run with --verify it reports 0 drift,
    and the sandbox's inventory shows the planted settings again."""
    hosted = [f"+1919449{i:04d}" for i in range(3)]
    in_service = [f"+1919450{i:04d}" for i in range(3)]
    sandbox_proc.seed(seed_of_planted(hosted, in_service))
    planted = {n: sandbox_proc.inventory()[n] for n in (*hosted, *in_service)}
    plan = write_cut_plan(tmp_path / "cut.toml", ACCOUNT, hosted, in_service)
    state = tmp_path / "cut.db"
    run = run_plan(plan, sandbox_proc.v2_url, state, "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["snapshot"]["read_by_details"] == 6
    after_run = sandbox_proc.inventory()
    assert all(n not in after_run for n in hosted)
    assert {after_run[n]["campaign_id"] for n in in_service} == {None}
    out = tmp_path / "undo" / "undo.toml"
    written = run_cli("rollback", "--state", str(state), "--out", str(out), "--json")
    assert written.returncode == 0, written.stderr
    steps = {s["step"]: s["numbers"] for s in json.loads(written.stdout)["steps"]}
    assert steps == {"restore-import-1": 3, "restore-messaging-1": 3}
    text = out.read_text()
    assert 'site_id = "486"' in text and 'sip_peer_id = "500025"' in text
    assert 'a2p = { campaign_id = "CAMP0001", message_class = "M" }' in text
    form = 'body_form = "ExternalTnsOrder"'  # the subscriber is not in the snapshot
    out.write_text(text.replace(f"# {form}", form))
    undo = run_plan(out, sandbox_proc.v2_url, tmp_path / "undo.db", "--verify", "--json")
    assert undo.returncode == 0, undo.stderr
    verified = json.loads(undo.stdout)["verify"]
    assert verified["numbers"]["matched"] == 6 and verified["drift"] == []
    restored = sandbox_proc.inventory()
    keys = ("kind", "site_id", "sip_peer_id", "sms_enabled", "campaign_id", "message_class")
    assert {n: {k: restored[n][k] for k in keys} for n in planted} == {
        n: {k: planted[n][k] for k in keys} for n in planted
    }
