"""No output option overwrites an input: `report --out`, `plan --out`, `rollback --out` and
`convert --out` refuse the state file, its audit log, the plan and its number files (also
through a symlink or a hard link), and replace another existing file only with `--force`
(issue 12 item 4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from planfiles import IMPORT_DETAILS

from orchestrator.sandbox import RunningSandbox

ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")} | {
    "BWMIGRATE_USERNAME": "sandbox",
    "BWMIGRATE_PASSWORD": "sandbox",
}


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _plan(folder: Path) -> Path:
    (folder / "numbers.txt").write_text("+14352150001\n+14352150002\n")
    plan = folder / "p.toml"
    plan.write_text(
        'name = "p"\naccount_id = "9900012"\n[rate]\nrequests_per_s = 200\n'
        'poll_interval_s = 0.05\n[[steps]]\nkind = "import"\nsite_id = "743"\n'
        f'{IMPORT_DETAILS}files = ["numbers.txt"]\n'
    )
    return plan


def _ran(folder: Path, sandbox: RunningSandbox) -> tuple[Path, Path]:
    """A plan and the state file of a finished run of it."""
    plan = _plan(folder)
    done = _cli(folder, "run", "p.toml", "--target", f"{sandbox.base_url}/api/v2", "--yes")
    assert done.returncode == 0, done.stderr
    return plan, folder / "state" / "p.db"


def _refused(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 with one line on stderr naming `words`, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


def test_report_refuses_the_state_file_its_audit_log_and_the_plan(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """`report --out` onto the state file, a symlink or hard link to it, its audit log, the plan
    or a number file is refused, even with --force, and leaves each file as it was."""
    _plan_path, state = _ran(tmp_path, sandbox)
    (tmp_path / "link.db").symlink_to(state)
    os.link(state, tmp_path / "hard.db")
    targets = {
        "state/p.db": "state file",
        "link.db": "state file",
        "hard.db": "state file",
        "state/p.db.audit.jsonl": "audit log",
        "p.toml": "the plan",
        "numbers.txt": "number file",
    }
    before = {name: (tmp_path / name).read_bytes() for name in targets}
    for name, role in targets.items():
        _refused(_cli(tmp_path, "report", "--state", "state/p.db", "--out", name, "--force"),
                 name, role)  # fmt: skip
    assert {name: (tmp_path / name).read_bytes() for name in targets} == before
    assert _cli(tmp_path, "status", "--state", str(state)).returncode == 0
    for name, role in targets.items():  # the HTML report is an output too
        _refused(_cli(tmp_path, "report", "--state", "state/p.db", "--html", name, "--force"),
                 name, role)  # fmt: skip
    assert {name: (tmp_path / name).read_bytes() for name in targets} == before


def test_report_asks_for_force_to_replace_an_existing_file(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """An existing report is kept without --force and replaced with it."""
    _ran(tmp_path, sandbox)
    (tmp_path / "r.csv").write_text("keep me\n")
    _refused(_cli(tmp_path, "report", "--state", "state/p.db", "--out", "r.csv"), "--force")
    assert (tmp_path / "r.csv").read_text() == "keep me\n"
    done = _cli(tmp_path, "report", "--state", "state/p.db", "--out", "r.csv", "--force")
    assert done.returncode == 0, done.stderr
    assert "+14352150001" in (tmp_path / "r.csv").read_text()


@pytest.mark.parametrize("name", ["p.toml", "numbers.txt", "alias.toml"])
def test_plan_refuses_to_write_over_the_plan_or_its_number_files(tmp_path: Path, name: str) -> None:
    """`plan --out` onto the plan, a number file or a symlink to the plan is refused."""
    _plan(tmp_path)
    (tmp_path / "alias.toml").symlink_to(tmp_path / "p.toml")
    before = (tmp_path / "p.toml").read_bytes(), (tmp_path / "numbers.txt").read_bytes()
    _refused(_cli(tmp_path, "plan", "p.toml", "--out", name, "--force"), name)
    assert ((tmp_path / "p.toml").read_bytes(), (tmp_path / "numbers.txt").read_bytes()) == before


def test_plan_out_asks_for_force_and_never_writes_over_a_state_file(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """`plan --out` onto an existing file needs --force; onto a state file (which plan does not
    know) it is refused even with --force."""
    _plan_path, state = _ran(tmp_path, sandbox)
    kept = state.read_bytes()
    _refused(_cli(tmp_path, "plan", "p.toml", "--out", "state/p.db", "--force"), "SQLite")
    assert state.read_bytes() == kept
    (tmp_path / "c.jsonl").write_text("old\n")
    _refused(_cli(tmp_path, "plan", "p.toml", "--out", "c.jsonl"), "--force")
    assert (tmp_path / "c.jsonl").read_text() == "old\n"
    assert _cli(tmp_path, "plan", "p.toml", "--out", "c.jsonl", "--force").returncode == 0
    assert (tmp_path / "c.jsonl").read_text().startswith('{"type": "plan"')


def test_rollback_refuses_to_write_over_the_plan_it_undoes(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """`rollback --out` onto the run's own plan is refused even with --force."""
    _ran(tmp_path, sandbox)
    before = (tmp_path / "p.toml").read_bytes()
    _refused(_cli(tmp_path, "rollback", "--state", "state/p.db", "--out", "p.toml", "--force"),
             "the plan")  # fmt: skip
    assert (tmp_path / "p.toml").read_bytes() == before


def test_convert_refuses_to_write_over_an_input(tmp_path: Path) -> None:
    """`convert --out` naming one of its own inputs is refused even with --force."""
    source = tmp_path / "list.toml"  # a number list, whatever its name
    source.write_text("+14352150001\n")
    _refused(
        _cli(tmp_path, "convert", "list.toml", "--list-step", "remove", "--account", "1",
             "--out", "list.toml", "--force"),
        "list.toml",
    )  # fmt: skip
    assert source.read_text() == "+14352150001\n"


def test_an_audit_log_option_never_appends_to_the_plan_or_a_state_file(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """`plan --check --audit` and `doctor --audit` refuse the plan, its number files and a
    state file (a log is appended to: JSON lines in a plan or a database would break it)."""
    _plan_path, _state = _ran(tmp_path, sandbox)
    before = {p: (tmp_path / p).read_bytes() for p in ("p.toml", "numbers.txt", "state/p.db")}
    target = f"{sandbox.base_url}/api/v2"
    for args, word in [
        (("plan", "p.toml", "--check", "--target", target, "--audit", "p.toml"), "the plan"),
        (("plan", "p.toml", "--check", "--target", target, "--audit", "numbers.txt"), "number"),
        (("doctor", "--target", target, "--plan", "p.toml", "--audit", "p.toml"), "the plan"),
        (("doctor", "--target", target, "--account", "9900012", "--audit", "state/p.db"),
         "SQLite"),
    ]:  # fmt: skip
        _refused(_cli(tmp_path, *args), "--audit", word)
    assert {p: (tmp_path / p).read_bytes() for p in before} == before
