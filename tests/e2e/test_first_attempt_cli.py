"""A failed first attempt breaks nothing: a target refused before sending, a declined
confirmation, a target that refuses connections or the credentials leave no state file tied to
it (or one the corrected command takes over), and a URL carrying a secret is refused without
echoing it or writing it anywhere. `bwmigrate run` as a subprocess against a sandbox process."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from planfiles import IMPORT_DETAILS
from support import SandboxProcess, wait_for

from orchestrator.plan import compile_plan, parse_plan
from orchestrator.state.store import Store

ACCOUNT = "9900012"
SECRET = "s3cret-in-url"
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")}
ENV = BASE_ENV | {"BWMIGRATE_USERNAME": "sandbox", "BWMIGRATE_PASSWORD": "sandbox"}


def _cli(cwd: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
         ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=env or ENV,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _plan(folder: Path) -> Path:
    plan = folder / "plan.toml"
    plan.write_text(
        f'name = "acme"\naccount_id = "{ACCOUNT}"\nbatch_size = 2\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        + IMPORT_DETAILS
        + 'numbers = ["+19199930001", "+19199930002", "+19199930003"]\n'
    )
    return plan


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _files_under(folder: Path) -> str:
    """Every byte written under `folder` (state, audit, lock files), as text."""
    return "".join(
        p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()
    )


@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{SECRET}@api.example.com/api/v2",
        f"https://api.example.com/api/v2?token={SECRET}",
        f"http://user:{SECRET}@127.0.0.1:9/api/v2",
    ],
)
def test_a_url_carrying_a_secret_is_refused_in_one_line(tmp_path: Path, url: str) -> None:
    """User info or a query string in --target: exit 2, one line that does not repeat the
    secret, and nothing written (before: echoed in "Starting ..." and stored in the state file)."""
    plan = _plan(tmp_path)
    out = _cli(tmp_path, "run", str(plan), "--target", url, "--yes")
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("bwmigrate: error: ")
    assert SECRET not in out.stderr + out.stdout
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://api.example.com/api/v2", "plain HTTP"),
        ("http://127.0.0.1:9/api/v1", "/api/v2"),
        ("http://127.0.0.1:9/", "/api/v2"),
    ],
)
def test_a_target_refused_before_sending_leaves_no_state(tmp_path: Path, url: str, says: str
                                                         ) -> None:  # fmt: skip
    """http:// to a non-loopback host, or a URL not ending in /api/v2: exit 2 and no state file."""
    plan = _plan(tmp_path)
    out = _cli(tmp_path, "run", str(plan), "--target", url, "--yes")
    assert out.returncode == 2, out.stderr
    assert says in out.stderr
    assert not (tmp_path / "state").exists()


@pytest.fixture
def sandbox_proc() -> Iterator[SandboxProcess]:
    with SandboxProcess("--order-delay-s", "0") as sb:
        yield sb


def test_no_confirmation_creates_no_state(tmp_path: Path) -> None:
    """Without a terminal and without --yes the run is refused (exit 2) before any state file
    exists (before: state/acme.db was created, tied to the target, then the run refused)."""
    plan = _plan(tmp_path)
    out = _cli(tmp_path, "run", str(plan), "--target", f"http://127.0.0.1:{_closed_port()}/api/v2")
    assert out.returncode == 2, out.stderr
    assert "without confirmation" in out.stderr
    assert not (tmp_path / "state").exists()


def test_a_declined_confirmation_creates_no_state(tmp_path: Path) -> None:
    """Answering "n" at the prompt (a real terminal) leaves nothing behind."""
    plan = _plan(tmp_path)
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"n\n")
        out = subprocess.run(
            [sys.executable, "-m", "orchestrator", "run", str(plan), "--target",
             f"http://127.0.0.1:{_closed_port()}/api/v2"],
            cwd=tmp_path, env=ENV, stdin=terminal, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        os.close(controller)
        os.close(terminal)
    assert out.returncode == 2, out.stderr
    assert "cancelled; nothing was sent" in out.stderr
    assert not (tmp_path / "state").exists()


def test_the_corrected_target_takes_over_a_state_file_nothing_was_sent_from(
    tmp_path: Path, sandbox_proc: SandboxProcess
) -> None:
    """A first run against a port that refuses connections, then the same command with the
    right URL: the state file is re-targeted (no order was accepted) and the run completes
    (before: "this state file holds a run against http://127.0.0.1:<closed>/api/v2")."""
    plan = _plan(tmp_path)
    wrong = f"http://127.0.0.1:{_closed_port()}/api/v2"
    first = _cli(tmp_path, "run", str(plan), "--target", wrong, "--yes")
    assert first.returncode == 3, first.stderr
    second = _cli(tmp_path, "run", str(plan), "--target", sandbox_proc.v2_url, "--yes")
    assert second.returncode == 0, second.stderr
    assert "which accepted no order" in second.stderr
    imported = sorted(n for o in sandbox_proc.ledger()["orders"] for n in o["numbers"])
    assert imported == ["+19199930001", "+19199930002", "+19199930003"]


def test_a_state_file_stays_tied_to_a_target_that_accepted_orders(
    tmp_path: Path, sandbox_proc: SandboxProcess
) -> None:
    """Once a target accepted an order, the file resumes only against it."""
    plan = _plan(tmp_path)
    first = _cli(tmp_path, "run", str(plan), "--target", sandbox_proc.v2_url, "--yes")
    assert first.returncode == 0, first.stderr
    other = f"http://127.0.0.1:{_closed_port()}/api/v2"
    second = _cli(tmp_path, "run", str(plan), "--target", other, "--yes")
    assert second.returncode == 2
    assert "holds a run against" in second.stderr and "order(s) sent there" in second.stderr


def _submitted(tmp_path: Path) -> int:
    out = _cli(tmp_path, "status", "--state", "state/acme.db", "--json")
    return int(json.loads(out.stdout)["orders"]["submitted"]) if out.returncode == 0 else 0


def test_refused_credentials_then_a_killed_run_then_resume_send_each_number_once(
    tmp_path: Path,
) -> None:
    """Wrong credentials (nothing sent, orders planned), then the right ones SIGKILLed mid-run,
    then wrong ones again on the resume, then the right ones: every number is imported exactly
    once (the sandbox's ledger), and the unsent attempts never count as sent."""
    sb = SandboxProcess("--order-delay-s", "1.5")  # the run lasts long enough to be killed
    try:
        numbers = [f"+1919994{i:04d}" for i in range(40)]
        plan = tmp_path / "plan.toml"
        plan.write_text(
            f'name = "acme"\naccount_id = "{ACCOUNT}"\nbatch_size = 4\ncanary = 0\n'
            "[rate]\nrequests_per_s = 200\nmax_orders_in_flight = 3\npoll_interval_s = 0.05\n"
            "visibility_window_s = 1.0\n"
            '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
            + IMPORT_DETAILS
            + f"numbers = {json.dumps(numbers)}\n"
        )
        wrong = ENV | {"BWMIGRATE_PASSWORD": "wrong"}
        args = ["run", str(plan), "--target", sb.v2_url, "--yes"]
        first = _cli(tmp_path, *args, env=wrong)
        assert first.returncode == 3 and "refused the credentials" in first.stderr
        assert sb.ledger()["orders"] == []
        child = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", *args],
            cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: _submitted(tmp_path) >= 1 or child.poll() is not None, 60, "an order")
        assert child.poll() is None, "the run finished before it could be killed"
        child.kill()
        child.wait(timeout=30)
        refused = _cli(tmp_path, *args, env=wrong)
        assert refused.returncode == 3, refused.stderr
        final = _cli(tmp_path, *args)
        assert final.returncode == 0, final.stderr
        ledger = sb.ledger()
        seen = Counter(n for o in ledger["orders"] for n in o["numbers"])
        assert seen == dict.fromkeys(numbers, 1)
        assert {sb.inventory()[n]["imports"] for n in numbers} == {1}
    finally:
        sb.stop()


def test_a_secret_stored_by_an_older_release_is_never_shown(tmp_path: Path) -> None:
    """A state file whose target holds user info and a token (made before such URLs were
    refused): status shows the target without them (before: printed as stored)."""
    text = _plan(tmp_path).read_text()
    plan = compile_plan(parse_plan(text, str(tmp_path / "plan.toml")), lambda name: b"")
    state = tmp_path / "old.db"
    store = Store.open(state)
    try:
        url = f"https://user:{SECRET}@api.example.com/api/v2?token={SECRET}"
        store.initialize(plan, text, 0.0, facts={"target": url})
    finally:
        store.close()
    for extra in ([], ["--json"]):
        out = _cli(tmp_path, "status", "--state", str(state), *extra)
        assert out.returncode == 0, out.stderr
        assert "https://api.example.com/api/v2" in out.stdout
        assert SECRET not in out.stdout + out.stderr
