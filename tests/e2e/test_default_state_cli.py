"""Which state file `status`, `report` and `rollback` read without `--state`, after the README's
own flow (a rehearsal, then the real run, both with default state paths), and the exact
commands the end of a run suggests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from planfiles import IMPORT_DETAILS
from support import SandboxProcess

ACCOUNT = "9900012"
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")}
ENV = BASE_ENV | {"BWMIGRATE_USERNAME": "sandbox", "BWMIGRATE_PASSWORD": "sandbox"}


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def after_the_readme_flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A folder where `run --sandbox` then `run --target` ran with default state paths; the
    real run's stderr."""
    folder = tmp_path_factory.mktemp("flow")
    (folder / "plan.toml").write_text(
        f'name = "acme"\naccount_id = "{ACCOUNT}"\nbatch_size = 2\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\nexpected_order_s = 0.2\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        + IMPORT_DETAILS
        + 'numbers = ["+19199960001", "+19199960002", "+19199960003"]\n'
    )
    rehearsal = _cli(folder, "run", "plan.toml", "--sandbox")
    assert rehearsal.returncode == 0, rehearsal.stderr
    sb = SandboxProcess("--order-delay-s", "0")
    try:
        real = _cli(folder, "run", "plan.toml", "--target", sb.v2_url, "--yes")
    finally:
        sb.stop()
    assert real.returncode == 0, real.stderr
    assert sorted(p.name for p in (folder / "state").glob("*.db")) == [
        "acme.db",
        "acme.rehearsal.db",
    ]
    yield folder, real.stderr


def test_status_prefers_the_real_run_and_says_so(after_the_readme_flow: tuple[Path, str]) -> None:
    """Before: "several state files in state/ (...); pass --state" (exit 2) after the README's
    own flow."""
    folder, _ = after_the_readme_flow
    out = _cli(folder, "status", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["state"] == "state/acme.db"
    assert "using state/acme.db" in out.stderr and "state/acme.rehearsal.db" in out.stderr


@pytest.mark.parametrize("command", [["report"], ["rollback", "--out", "undo.toml", "--force"]])
def test_report_and_rollback_prefer_the_real_run(
    after_the_readme_flow: tuple[Path, str], command: list[str]
) -> None:
    """The same choice for every command that reads a state file."""
    folder, _ = after_the_readme_flow
    out = _cli(folder, *command)
    assert out.returncode == 0, out.stderr
    assert "using state/acme.db" in out.stderr


def test_the_end_of_a_run_names_the_exact_commands(after_the_readme_flow: tuple[Path, str]) -> None:
    """The hint at the end of a run carries --state for both commands it suggests."""
    _, stderr = after_the_readme_flow
    assert "`bwmigrate report --state state/acme.db` lists every number" in stderr
    assert "`bwmigrate report --state state/acme.db --audit` every request" in stderr


def test_two_real_runs_still_need_state(tmp_path: Path) -> None:
    """No guessing between two real runs' files: one line, exit 2, naming both."""
    (tmp_path / "state").mkdir()
    for name in ("a.db", "b.db", "a.rehearsal.db"):
        (tmp_path / "state" / name).write_bytes(b"")
    out = _cli(tmp_path, "status")
    assert out.returncode == 2
    assert "state/a.db" in out.stderr and "state/b.db" in out.stderr and "--state" in out.stderr
