"""`bwmigrate run --notify-url URL --listen HOST:PORT` as a subprocess against a sandbox
process that calls back: the run subscribes, follows its orders by callbacks, deletes the
subscription, and keeps the callback secret out of its audit log and state file."""

from __future__ import annotations

import json
import socket
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from planfiles import IMPORT_DETAILS
from support import ACCOUNT, ENV, SandboxProcess, run_args


@pytest.fixture
def sandbox_proc() -> Iterator[SandboxProcess]:
    with SandboxProcess("--order-delay-s", "0.2") as sb:
        yield sb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _plan(folder: Path) -> Path:
    numbers = ", ".join(f'"+1919991{i:04d}"' for i in range(30))
    plan = folder / "plan.toml"
    plan.write_text(
        f'name = "notify"\naccount_id = "{ACCOUNT}"\nbatch_size = 10\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        f"{IMPORT_DETAILS}numbers = [{numbers}]\n"
    )
    return plan


def test_run_with_notifications_subscribes_follows_callbacks_and_unsubscribes(
    sandbox_proc: SandboxProcess, tmp_path: Path
) -> None:
    """Exit 0; the audit log shows one subscription created and deleted and no order read
    (callbacks only; the safety net is 60 s); no Password in the audit log or the state file."""
    port = _free_port()
    state = tmp_path / "state.db"
    args = run_args(
        _plan(tmp_path), sandbox_proc.v2_url, state,
        "--json", "--notify-url", f"http://127.0.0.1:{port}/bandwidth",
        "--listen", f"127.0.0.1:{port}",
    )  # fmt: skip
    run = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["numbers"]["succeeded"] == 30
    audit = (tmp_path / result["audit_log"]).read_text()
    calls: Counter[str] = Counter()
    order_reads, posted = 0, False
    for line in audit.splitlines():
        entry = json.loads(line)
        if entry["type"] == "exchange" and "/subscriptions" in entry["path"]:
            calls[entry["method"]] += 1
        if entry["type"] == "exchange" and "Orders" in entry["path"]:
            posted = posted or entry["method"] == "POST"
            # before the first POST, one list read asks whether the target is the v2 API
            order_reads += posted and entry["method"] == "GET"
    assert (calls["POST"], calls["DELETE"]) == (1, 1)
    assert order_reads == 0  # every order learnt its outcome from its callback
    assert "Password" not in audit
    assert b"Password" not in state.read_bytes()


def test_notify_url_without_listen_is_a_usage_error(tmp_path: Path) -> None:
    """`--notify-url` alone: exit 2, one line naming both options, nothing sent."""
    args = run_args(_plan(tmp_path), "http://127.0.0.1:9/api/v2", tmp_path / "s.db")
    run = subprocess.run(
        [*args, "--notify-url", "https://hooks.example.com/x"],
        env=ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2
    assert "--notify-url and --listen go together" in run.stderr
