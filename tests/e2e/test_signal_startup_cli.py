"""SIGTERM (and SIGINT) at many moments across `run`'s start-up: right after it says it starts,
while the event loop is being created, while the first database and network work begins. Each
lands as exit 130 and one line ("interrupted; state saved"), never "Exception ignored in
BaseEventLoop.__del__" or any traceback, and never a run that ignores it; the state file then
resumes to the end with every number imported exactly once (the sandbox's ledger)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from planfiles import IMPORT_DETAILS
from support import ENV, GRACEFUL_EXIT_S, SandboxProcess, run_args, wait_for

ACCOUNT = "9900012"
# seconds after the "Starting"/"Resuming" line: dense where the event loop is created, then
# sparser across the first requests
OFFSETS_S = [i * 0.00075 for i in range(16)] + [0.015 + i * 0.01 for i in range(8)]


def _plan(folder: Path, numbers: list[str]) -> Path:
    plan = folder / "plan.toml"
    plan.write_text(
        f'name = "sig"\naccount_id = "{ACCOUNT}"\nbatch_size = 2\ncanary = 0\n'
        "[rate]\nrequests_per_s = 200\nmax_orders_in_flight = 2\npoll_interval_s = 0.05\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        + IMPORT_DETAILS
        + "numbers = ["
        + ", ".join(f'"{n}"' for n in numbers)
        + "]\n"
    )
    return plan


def _interrupt_after_start(args: list[str], offset_s: float, signum: int) -> tuple[int, str]:
    """Start the run, wait for its start line, signal it `offset_s` later; (exit, stderr)."""
    child = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert child.stderr is not None
    seen = b""
    while not any(b in seen for b in (b"Starting ", b"Resuming ", b"Nothing to do")):
        line = child.stderr.readline()
        if not line:
            break
        seen += line
    if offset_s:
        time.sleep(offset_s)
    child.send_signal(signum)
    try:
        rest = child.communicate(timeout=GRACEFUL_EXIT_S)[1]
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise AssertionError(
            f"no exit {GRACEFUL_EXIT_S} s after the signal at {offset_s}"
        ) from None
    return child.returncode, (seen + rest).decode("utf-8", "replace")


def test_a_signal_anywhere_in_start_up_is_one_line_and_exit_130(tmp_path: Path) -> None:
    """Before: a SIGTERM inside asyncio.new_event_loop() printed "Exception ignored in
    BaseEventLoop.__del__ ... no attribute '_ssock'" on stderr."""
    sb = SandboxProcess("--order-delay-s", "0.5")
    try:
        numbers = [f"+1919997{i:04d}" for i in range(60)]
        state = tmp_path / "state.db"
        args = run_args(_plan(tmp_path, numbers), sb.v2_url, state)
        problems = []
        codes: Counter[int] = Counter()
        for i, offset in enumerate(OFFSETS_S):
            signum = 15 if i % 3 else 2  # SIGTERM, and every third time SIGINT
            code, err = _interrupt_after_start(args, offset, signum)
            codes[code] += 1
            if code not in (130, 0):
                problems.append(f"signal {signum} at +{offset:.4f} s: exit {code}\n{err}")
            if "Exception ignored" in err or "Traceback" in err:
                problems.append(f"signal {signum} at +{offset:.4f} s:\n{err}")
            elif code == 130 and not err.rstrip().splitlines()[-1].startswith(
                "bwmigrate: interrupted"
            ):
                problems.append(f"signal {signum} at +{offset:.4f} s: last line\n{err}")
        assert problems == [], "\n".join(problems)
        assert codes[130] > len(OFFSETS_S) // 2, codes
        final = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stderr
        seen = Counter(n for o in sb.ledger()["orders"] for n in o["numbers"])
        assert seen == dict.fromkeys(numbers, 1)
    finally:
        sb.stop()


def test_doctor_interrupted_while_waiting_for_the_api_exits_130(tmp_path: Path) -> None:
    """doctor against a sandbox that answers after 5 s, SIGTERM while it waits: exit 130 and
    one line, no traceback (the signal is acted on by the loop, as in run)."""
    sb = SandboxProcess("--fault-latency", "1", "--latency-s", "5")
    try:
        args = [sys.executable, "-m", "orchestrator", "doctor", "--target", sb.v2_url,
                "--account", ACCOUNT, "--verbose"]  # fmt: skip
        env = ENV | {"BWMIGRATE_USERNAME": "sandbox", "BWMIGRATE_PASSWORD": "sandbox"}
        child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert child.stderr is not None
        wait_for(lambda: sb.ledger()["requests"]["total"] >= 1, 60, "doctor's first request")
        child.send_signal(15)  # doctor now waits for an answer that takes 5 s
        err = child.communicate(timeout=60)[1].decode()
    finally:
        sb.stop()
    assert child.returncode == 130, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert err.strip().splitlines()[-1].startswith("bwmigrate: interrupted")
