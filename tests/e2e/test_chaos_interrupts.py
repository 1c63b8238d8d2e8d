"""Interrupts and kills that hit `bwmigrate run` before the engine runs: while the plan is
compiled and stored, an interrupt is exit 130 and one line, like an interrupt mid-run (never
click's "Aborted!" with exit 1, which reads as "finished with failed numbers", never a process
killed by SIGTERM); a kill while the state file is being created leaves a file the next run
can use.
"""

from __future__ import annotations

import importlib
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from planfiles import IMPORT_DETAILS
from support import ENV, SandboxProcess, cli_args, run_args, wait_for

from orchestrator import cli
from orchestrator.errors import StateFileError
from orchestrator.plan import compile_plan, parse_plan
from orchestrator.state.store import Store


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_before_the_engine_starts_exits_130_with_one_line(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """Ctrl-C or SIGTERM while `run` stores a big plan: exit 130, one line, file intact."""
    numbers = "\n".join(f"+1919{200 + i // 10000}{i % 10000:04d}" for i in range(60_000))
    (tmp_path / "big.txt").write_text(numbers + "\n")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'name = "big"\naccount_id = "9900012"\nbatch_size = 5000\n'
        '[[steps]]\nkind = "remove"\nfiles = ["big.txt"]\n'
    )
    state = tmp_path / "state.db"
    sb = SandboxProcess()
    try:
        child = subprocess.Popen(
            run_args(plan, sb.v2_url, state),
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The lease file appears once the plan is compiled; storing 60,000 numbers follows.
        wait_for(lambda: Path(f"{state}.lock").exists(), 60, "the run to take its lease")
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
        sent = sb.ledger()["requests"]["total"]
    finally:
        sb.stop()
    assert child.returncode == 130, err
    assert "Traceback" not in err and "Aborted!" not in err
    assert err.rstrip().splitlines()[-1].startswith("bwmigrate: interrupted"), err
    assert sent == 0
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    status = subprocess.run(
        cli_args("status", "--state", str(state), "--json"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr


def test_state_file_whose_creation_was_killed_is_completed_by_the_next_run(tmp_path: Path) -> None:
    """A kill between creating the tables and writing the schema version must not brick the
    state file: the next run finishes creating it and runs the plan."""
    state = tmp_path / "state.db"
    Store.open(state).close()
    with sqlite3.connect(state) as db:  # what such a kill left: some tables, an empty meta
        db.execute("DELETE FROM meta")
        db.execute("DROP TABLE steps")
        db.execute("DROP TABLE runs")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'name = "partial"\naccount_id = "9900012"\n'
        '[[steps]]\nkind = "import"\nsite_id = "743"\nnumbers = ["+19195550100"]\n' + IMPORT_DETAILS
    )
    sb = SandboxProcess("--order-delay-s", "0")
    try:
        out = subprocess.run(
            [*run_args(plan, sb.v2_url, state), "--json"],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
        orders = sb.ledger()["orders"]
    finally:
        sb.stop()
    assert out.returncode == 0, out.stderr
    assert [o["numbers"] for o in orders] == [["+19195550100"]]


def test_sigterm_inside_an_import_is_delivered_once_the_import_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGTERM landing in a (lazy) import stops the command right after it, not as the
    RuntimeError Python 3.11 makes of an exception raised under a class's __set_name__."""
    (tmp_path / "interrupted_module.py").write_text(
        "import dataclasses, os, signal\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "@dataclasses.dataclass\nclass Late:\n    x: int = dataclasses.field(default=1)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    previous = signal.signal(signal.SIGTERM, cli._interrupt)
    try:
        module = importlib.import_module("interrupted_module")
        assert module.Late().x == 1
        with pytest.raises(KeyboardInterrupt):
            wait_for(lambda: False, 10, "the SIGTERM delivered again after the import")
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.modules.pop("interrupted_module", None)


class _DiskFullFacts(dict[str, str]):
    """Meta facts whose writing fails, as a crash between two commits would cut it short."""

    def items(self) -> Any:
        raise sqlite3.OperationalError("database or disk is full")


def test_a_stored_plan_never_lacks_the_target_it_was_started_against(tmp_path: Path) -> None:
    """The plan and the run's target are one transaction: when recording the target fails,
    no plan is stored either (a plan without a target would resume against any --target)."""
    text = (
        'name = "t"\naccount_id = "9900012"\n'
        '[[steps]]\nkind = "remove"\nnumbers = ["+14158714245"]\n'
    )
    plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")
    store = Store.open(tmp_path / "state.db")
    try:
        with pytest.raises(StateFileError, match="free disk space"):
            store.initialize(plan, text, 0.0, facts=_DiskFullFacts(target="https://a/api/v2"))
        assert "plan_hash" not in store.meta()
        assert store.initialize(plan, text, 0.0, facts={"target": "https://a/api/v2"})
        assert store.meta()["target"] == "https://a/api/v2"
    finally:
        store.close()
