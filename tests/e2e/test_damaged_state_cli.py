"""A damaged state file (a real one, made by a real run, with a corrupted interior page) is one
line naming the file and what to do, exit 2, for every command that reads it; `status` shows
what it can still read. Never a traceback, never exit 1 ("some numbers failed")."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from planfiles import IMPORT_DETAILS
from support import ENV, SandboxProcess, run_args

ACCOUNT = "9900012"
INTERIOR_TABLE_PAGE = 0x05  # b-tree page type byte of an interior table page


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """A plan and the state file of its finished run, with the `numbers` table's root (an
    interior page) overwritten."""
    folder = tmp_path_factory.mktemp("damaged")
    numbers = [f"+1919995{i:04d}" for i in range(600)]
    (folder / "n.csv").write_text("TN\n" + "\n".join(n[2:] for n in numbers) + "\n")
    plan = folder / "plan.toml"
    plan.write_text(
        f'name = "dmg"\naccount_id = "{ACCOUNT}"\nbatch_size = 200\ncanary = 0\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        + IMPORT_DETAILS
        + 'files = [{ path = "n.csv", column = "TN" }]\n'
    )
    state = folder / "state.db"
    sb = SandboxProcess("--order-delay-s", "0")
    try:
        done = subprocess.run(run_args(plan, sb.v2_url, state), env=ENV, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
    finally:
        sb.stop()
    assert done.returncode == 0, done.stderr
    wal = Path(f"{state}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # every page is in the main file
    with sqlite3.connect(state) as db:
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name='numbers'").fetchone()[0]
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(state.read_bytes())
    start = (root - 1) * page_size
    assert data[start] == INTERIOR_TABLE_PAGE
    data[start + 8 : start + page_size] = b"\xa5" * (page_size - 8)
    state.write_bytes(bytes(data))
    yield plan, state, sb.v2_url


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], env=ENV,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def _assert_one_line(out: subprocess.CompletedProcess[str], state: Path) -> str:
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"bwmigrate: error: {state}: the state file is damaged")
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ["report"],
        ["report", "--format", "json"],
        ["rollback", "--out", "undo.toml"],
    ],
    ids=["report", "report-json", "rollback"],
)
def test_reading_commands_say_the_file_is_damaged(
    damaged: tuple[Path, Path, str], command: list[str]
) -> None:
    """report and rollback: exit 2, one line naming the file, restore it or run status (before:
    a sqlite3.DatabaseError traceback and exit 1)."""
    _plan, state, _url = damaged
    line = _assert_one_line(_cli(*command, "--state", str(state)), state)
    assert "restore it from a backup" in line and f"bwmigrate status --state {state}" in line


def test_resuming_on_a_damaged_file_says_so(damaged: tuple[Path, Path, str]) -> None:
    """run (a resume against the same target, now gone): the same one line, exit 2."""
    plan, state, url = damaged
    _assert_one_line(_cli(*run_args(plan, url, state)[3:]), state)


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_status_shows_what_it_can_still_read(
    damaged: tuple[Path, Path, str], as_json: bool
) -> None:
    """status reads each part on its own: the orders and runs are shown, the numbers' counts
    (on the damaged page) are named as unreadable in its one error line."""
    _plan, state, _url = damaged
    out = _cli("status", "--state", str(state), *(["--json"] if as_json else []))
    line = _assert_one_line(out, state)
    assert "could not read its counts" in line and "restore the file from a backup" in line
    if as_json:
        assert '"unreadable": [\n    "counts"\n  ]' in out.stdout
        assert '"done": 3' in out.stdout
    else:
        assert "Orders: done 3." in out.stdout
