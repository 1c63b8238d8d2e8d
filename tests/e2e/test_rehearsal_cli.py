"""`bwmigrate run PLAN --sandbox`: the quick start's rehearsal, and resuming a killed one."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Outcome of plans/example.toml with plans/example/rehearsal.toml: six invalid inputs, two
# imports refused (19006, their SMS on skipped), one removal (5158), one TN option (5076), two
# duplicates dropped (skipped rows, never sent). 608 rows: the plan's 348 (340 valid numbers, 6
# invalid inputs and 2 duplicates over five steps), plus the chained steps hosted-us:sms-on
# (220) and support-sms-on:a2p (40).
EXPECTED = {
    "total": 608,
    "succeeded": 594,
    "failed": 10,
    "skipped": 4,
    "needs_action": 0,
    "unknown": 0,
    "pending": 0,
}


def _status(state: Path, cwd: Path) -> dict[str, int]:
    """The numbers of a state file as `bwmigrate status --json` reads them."""
    out = subprocess.run(
        [sys.executable, "-m", "orchestrator", "status", "--state", str(state), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=True,
    )
    numbers: dict[str, int] = json.loads(out.stdout)["numbers"]
    return numbers


def _example(tmp_path: Path) -> Path:
    """A copy of the example plan, paced faster so the test stays quick."""
    shutil.copytree(REPO / "plans", tmp_path / "plans")
    plan = tmp_path / "plans" / "example.toml"
    text = plan.read_text()
    text = text.replace("requests_per_s = 10 ", "requests_per_s = 40 ")
    text = text.replace("expected_order_s = 3", "expected_order_s = 1")
    plan.write_text(text)
    return plan


def _run(plan: Path, state: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "orchestrator",
        "run",
        str(plan),
        "--sandbox",
        "--state",
        str(state),
        *extra,
    ]


def test_example_rehearsal_ends_with_the_planted_failures(tmp_path: Path) -> None:
    """The quick start's rehearsal exits 1 with exactly the failures the example plants."""
    plan = _example(tmp_path)
    out = subprocess.run(
        _run(plan, tmp_path / "r.db", "--json"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 1, out.stderr
    summary = json.loads(out.stdout)
    assert summary["numbers"] == EXPECTED
    assert _status(tmp_path / "r.db", tmp_path) == EXPECTED
    steps = {s["step"]: s for s in summary["steps"]}
    assert steps["hosted-us:sms-on"]["skipped"] == 2
    assert steps["support-sms-on:a2p"]["succeeded"] == 40
    assert steps["release-old-campaign"]["failed"] == 2  # one invalid input, one 5158


def test_killed_rehearsal_resumes_to_the_same_outcome(tmp_path: Path) -> None:
    """SIGKILL a rehearsal mid-run; the same command finishes it with the same outcome."""
    plan = _example(tmp_path)
    state = tmp_path / "r.db"
    child = subprocess.Popen(
        _run(plan, state), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path
    )
    time.sleep(2.5)
    assert child.poll() is None, "the rehearsal finished before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    out = subprocess.run(
        _run(plan, state, "--json"), capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.returncode == 1, out.stderr
    numbers = json.loads(out.stdout)["numbers"]
    assert numbers == EXPECTED
    assert _status(state, tmp_path) == EXPECTED
    again = subprocess.run(
        _run(plan, state), capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert "Nothing to do" in again.stderr
