"""`bwmigrate doctor` as a subprocess: its exit codes, its lines, and its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestrator.sandbox import RunningSandbox

ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")}


def _doctor(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "doctor", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_embedded_sandbox_passes_with_exit_0(tmp_path: Path) -> None:
    """`doctor --sandbox --json`: no check fails, exit 0, one object with every check."""
    out = _doctor(tmp_path, ENV, "--sandbox", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["ok"] is True
    assert {c["name"] for c in report["checks"] if c["ok"] is False} == set()
    assert {"reachable", "account", "clock"} <= {c["name"] for c in report["checks"]}


def test_refused_credentials_exit_3_with_the_fix(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """A wrong password: a ✗ line saying what to check, and exit 3."""
    env = ENV | {"BWMIGRATE_USERNAME": "sandbox", "BWMIGRATE_PASSWORD": "wrong"}
    out = _doctor(tmp_path, env, "--target", f"{sandbox.base_url}/api/v2", "--account", "9900012")
    assert out.returncode == 3, out.stdout + out.stderr
    failed = [line for line in out.stdout.splitlines() if line.startswith("✗")]
    assert failed == [
        "✗ credentials accepted: HTTP 401 Unauthorized — fix: check BWMIGRATE_USERNAME and "
        "BWMIGRATE_PASSWORD"
    ]


def test_missing_credentials_exit_3_and_a_missing_account_is_bad_usage(tmp_path: Path) -> None:
    """No credentials is a failed check (3); no account to check is a usage error (2)."""
    out = _doctor(tmp_path, ENV, "--target", "https://api.example.invalid/api/v2", "--account", "1")
    assert out.returncode == 3
    assert out.stdout.splitlines()[1].startswith("✗ credentials: no API credentials")
    usage = _doctor(tmp_path, ENV, "--target", "https://api.example.invalid/api/v2")
    assert usage.returncode == 2 and "--account" in usage.stderr
