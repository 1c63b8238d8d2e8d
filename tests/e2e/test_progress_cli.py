"""Progress when stderr is not a terminal (nohup, CI, a log file): `run` prints a plain line every
period (BWMIGRATE_PROGRESS_EVERY_S, set low here) with counts, rate and ETA, even while nothing
finishes; `--quiet` prints none, `--verbose` adds every step's counts; `plan --check --verbose`
prints each checked batch."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from planfiles import IMPORT_DETAILS
from support import SandboxProcess

from orchestrator.sandbox import RunningSandbox

ACCOUNT = "9900012"
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")}
ENV = BASE_ENV | {
    "BWMIGRATE_USERNAME": "sandbox",
    "BWMIGRATE_PASSWORD": "sandbox",
    "BWMIGRATE_PROGRESS_EVERY_S": "0.2",
}
LINE = re.compile(
    r"^progress: \d+/6 numbers done \(\d+ failed\), \d+ orders? in flight, \d+ requests "
    r"\(\d+\.\d/s, \d+ rate-limited\), \d+s elapsed, ETA (unknown|\d+s|\d+m\d\ds)$"
)


@pytest.fixture(scope="module")
def slow_sandbox() -> Iterator[SandboxProcess]:
    """Orders take 1.5 s: a run lasts long enough for several progress lines."""
    with SandboxProcess("--order-delay-s", "1.5") as sb:
        yield sb


def _plan(folder: Path, prefix: str) -> Path:
    numbers = ", ".join(f'"+1919998{prefix}{i:03d}"' for i in range(6))
    plan = folder / "plan.toml"
    plan.write_text(
        f'name = "prog"\naccount_id = "{ACCOUNT}"\nbatch_size = 2\ncanary = 0\n'
        "[rate]\nrequests_per_s = 200\nmax_orders_in_flight = 3\npoll_interval_s = 0.1\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        + IMPORT_DETAILS
        + f"numbers = [{numbers}]\n"
    )
    return plan


def _run(
    folder: Path, sb: SandboxProcess, prefix: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    args = ["run", str(_plan(folder, prefix)), "--target", sb.v2_url, "--yes", *extra]
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=folder, env=ENV,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_a_run_without_a_terminal_prints_plain_progress_lines(
    tmp_path: Path, slow_sandbox: SandboxProcess
) -> None:
    """Before: nothing between "Starting" and the end."""
    out = _run(tmp_path, slow_sandbox, "1")
    assert out.returncode == 0, out.stderr
    lines = [x for x in out.stderr.splitlines() if x.startswith("progress:")]
    assert len(lines) >= 3, out.stderr
    assert all(LINE.match(x) for x in lines), lines
    assert lines[0].startswith("progress: 0/6 numbers done"), lines  # said while nothing is done


def test_quiet_prints_no_progress(tmp_path: Path, slow_sandbox: SandboxProcess) -> None:
    """--quiet: the result and errors only."""
    out = _run(tmp_path, slow_sandbox, "2", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "progress:" not in out.stderr and "Starting" not in out.stderr
    assert "all orders finished" in out.stderr


def test_verbose_adds_every_steps_counts(tmp_path: Path, slow_sandbox: SandboxProcess) -> None:
    """--verbose: each progress line is followed by one line per step."""
    out = _run(tmp_path, slow_sandbox, "3", "--verbose")
    assert out.returncode == 0, out.stderr
    assert re.search(r"^progress: .*\n  import-1: \d+/6 done, ", out.stderr, re.M), out.stderr


def test_quiet_and_verbose_together_are_refused(
    tmp_path: Path, slow_sandbox: SandboxProcess
) -> None:
    """One or the other: exit 2 before anything is written."""
    out = _run(tmp_path, slow_sandbox, "4", "--quiet", "--verbose")
    assert out.returncode == 2 and "--quiet and --verbose" in out.stderr
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(("flag", "shown"), [("--verbose", True), ("--quiet", False)])
def test_plan_check_batches_are_shown_with_verbose(
    tmp_path: Path, slow_sandbox: SandboxProcess, flag: str, shown: bool
) -> None:
    """plan --check without a terminal: --verbose prints each checked batch, --quiet none."""
    plan = _plan(tmp_path, "5")
    out = subprocess.run(
        [sys.executable, "-m", "orchestrator", "plan", str(plan), "--check", "--target",
         slow_sandbox.v2_url, flag],
        cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert ("importTnChecker: import-1 6/6" in out.stderr) is shown, out.stderr


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_doctor_verbose_shows_each_request_and_quiet_only_what_did_not_pass(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """doctor --verbose: one stderr line per request as answered; --quiet: the lines of checks
    that did not pass, no header (here a check has no headroom data: '!')."""
    args = ["doctor", "--target", f"{sandbox.base_url}/api/v2", "--account", ACCOUNT]
    loud = _cli(tmp_path, *args, "--verbose")
    assert loud.returncode == 0, loud.stderr + loud.stdout
    assert re.search(r"^doctor: GET /api/v2/accounts/9900012/\S+ -> 200 in ", loud.stderr, re.M)
    normal = _cli(tmp_path, *args)
    assert "doctor: GET" not in normal.stderr and normal.stdout.startswith("bwmigrate doctor:")
    quiet = _cli(tmp_path, *args, "--quiet")
    assert quiet.returncode == 0
    assert not quiet.stdout.startswith("bwmigrate doctor:") and "✓" not in quiet.stdout


def test_convert_from_api_verbose_shows_each_listing_page(
    tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """convert --from-api --verbose: a stderr line per listing page; --quiet: none."""
    creds = sandbox.config.credentials
    body = (
        "<ExternalTnsOrder><SiteId>743</SiteId><Action>IMPORT</Action><TelephoneNumbers>"
        "<TelephoneNumber>9198064286</TelephoneNumber></TelephoneNumbers></ExternalTnsOrder>"
    )
    r = httpx.post(f"{sandbox.base_url}/api/v1/accounts/{ACCOUNT}/externalTns", content=body,
                   auth=(creds.username, creds.password))  # fmt: skip
    assert r.status_code == 201
    args = ["convert", "--from-api", f"{sandbox.base_url}/api/v1", "--account", ACCOUNT]
    loud = _cli(tmp_path, *args, "--out", "a.toml", "--verbose")
    assert loud.returncode == 0, loud.stderr
    assert "externalTns: 1 page read, 1 of 1 orders" in loud.stderr
    quiet = _cli(tmp_path, *args, "--out", "b.toml", "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert "externalTns:" not in quiet.stderr


def test_a_bad_progress_period_is_refused_before_any_state(
    tmp_path: Path, slow_sandbox: SandboxProcess
) -> None:
    """BWMIGRATE_PROGRESS_EVERY_S that is not a positive number: exit 2, one line, no state."""
    args = ["run", str(_plan(tmp_path, "6")), "--target", slow_sandbox.v2_url, "--yes"]
    out = subprocess.run([sys.executable, "-m", "orchestrator", *args], cwd=tmp_path,
                         env=ENV | {"BWMIGRATE_PROGRESS_EVERY_S": "soon"}, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 2 and "BWMIGRATE_PROGRESS_EVERY_S" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "state").exists()
