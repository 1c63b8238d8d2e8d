"""`bwmigrate sandbox` as a subprocess: the v2 base URL first on stdout, serves, stops cleanly."""

from __future__ import annotations

import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

START_DEADLINE_S = 20.0


def _first_line(proc: subprocess.Popen[str]) -> str:
    """Read stdout's first line within a deadline (no sleeps)."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if selector.select(timeout=deadline - time.monotonic()):
                return proc.stdout.readline().strip()
    raise AssertionError("bwmigrate sandbox printed no URL in time")


@contextmanager
def sandbox_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The sandbox as a child process, and its root URL (the first line without `/api/v2`)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, _first_line(proc).removesuffix("/api/v2")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_prints_the_v2_url_serves_and_exits_zero_on_signal(stop):
    """The first stdout line is the v2 base URL every command takes (`--target`), and the only
    stdout line; stderr names the side endpoints; a signal stops it with 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        v2 = _first_line(proc)
        assert v2.startswith("http://127.0.0.1:") and v2.endswith("/api/v2"), v2
        r = httpx.get(v2 + "/accounts/9900012/tnoptions", auth=("sandbox", "sandbox"))
        assert r.status_code == 200
        root = v2.removesuffix("/api/v2")
        assert httpx.get(root + "/_sandbox/health").json() == {"ok": True}
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out == ""  # nothing after the first line
    for side in ("GET /_sandbox/ledger", "GET /_sandbox/inventory", "POST /_sandbox/seed",
                 "POST /_sandbox/reset"):  # fmt: skip
        method, path = side.split()
        assert f"{method} {root}{path}" in err, err


def test_seed_file_and_options_apply(tmp_path: Path):
    """A seed file adds inventory; --rate-limit makes the sandbox answer 429."""
    seed = tmp_path / "seed.toml"
    seed.write_text('[[numbers]]\nnumber = "+19195550100"\nsms_enabled = true\n')
    with sandbox_process("--seed-file", str(seed), "--rate-limit", "1") as (proc, url):
        numbers = httpx.get(url + "/_sandbox/inventory").json()["numbers"]
        assert [n["number"] for n in numbers] == ["+19195550100"]
        auth = ("sandbox", "sandbox")
        statuses = {
            httpx.get(url + "/api/v2/accounts/9900012/tnoptions", auth=auth).status_code
            for _ in range(3)
        }
        assert 429 in statuses
        proc.terminate()
        assert proc.wait(timeout=15) == 0


def test_bad_seed_file_is_one_line_and_exit_2(tmp_path: Path):
    """An invalid seed file is reported in one line with exit code 2, no traceback."""
    seed = tmp_path / "seed.toml"
    seed.write_text('[[numbers]]\nnumber = "919"\n')
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "sandbox", "--seed-file", str(seed)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "seed.toml" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_lists_the_fault_options():
    """`--help` documents the fault options."""
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    for option in (
        "--seed-file",
        "--rate-limit",
        "--seed",
        "--order-delay-s",
        "--fault-5xx",
        "--fault-reset",
        "--fault-drop",
        "--drop-mode",
        "--fault-slow-order",
        "--list-lag-s",
    ):
        assert option in done.stdout


def test_list_lag_option_hides_new_orders_from_lists():
    """`--list-lag-s` (an hour, so the wall clock cannot reach it) keeps a new order out of the
    list by customerOrderId while GET by id answers it at once."""
    with sandbox_process("--list-lag-s", "3600", "--order-delay-s", "0") as (proc, url):
        api = f"{url}/api/v2/accounts/9900012/removeImportedTnOrders/messaging"
        auth = ("sandbox", "sandbox")
        body = (
            "<RemoveImportedTnOrder><CustomerOrderId>lag-cli</CustomerOrderId><TelephoneNumbers>"
            "<TelephoneNumber>+19195550100</TelephoneNumber></TelephoneNumbers>"
            "</RemoveImportedTnOrder>"
        )
        created = httpx.post(api, content=body, auth=auth)
        assert created.status_code == 201
        assert httpx.get(created.headers["location"], auth=auth).status_code == 200
        listed = httpx.get(api, params={"customerOrderId": "lag-cli"}, auth=auth)
        assert "<TotalCount>0</TotalCount>" in listed.text
        proc.terminate()
        assert proc.wait(timeout=15) == 0
