"""Chaos: kill a real cutover at random moments against a faulty API; resume; prove nothing broke.

    python bench/chaos.py --kills 100                 # 10,000 numbers (the acceptance run)
    python bench/chaos.py --kills 10 --numbers 2000   # a quicker look
    python bench/chaos.py --kills 100 --seed 1234     # replay: same plan, faults, kill schedule
    python bench/chaos.py --fleet --kills 100         # a fleet on PostgreSQL: workers SIGKILLed
    python bench/chaos.py --fleet --kills 100 --pauses 30   # ... and SIGSTOPped past the timeout

What it does, all as child processes (`nice` it on a shared machine):

1. writes a plan of `--numbers` numbers using every step kind: an import with
   `enable_messaging` (and its chained SMS-on TN option orders), a plain import, a removal,
   SMS off, SMS on with A2P; number files in mixed formats with junk lines and duplicates;
2. starts `bwmigrate sandbox` with faults: a rate limit below the plan's rate (429 bursts at
   every start), random 429s, 5xx, connection resets, latency, slow orders, order lists that
   show a new order only 3 s after it was created (the plan's visibility window is 8 s), and
   orders that are created but whose answer is lost ("drop after commit") - as a truncated
   reply for the first half of the kills, then as a hang until the client times out; seeds the
   removal and messaging steps need and failure rules for about 1 % of each step;
3. runs `bwmigrate run --target ... --yes` and interrupts it after a seeded random delay:
   SIGKILL, or SIGTERM for about 15 % of the interruptions (which must end with exit 130 and
   no traceback), until `--kills` SIGKILLs were sent; then resumes until the run finishes;
4. judges the outcome by the sandbox's ledger and inventory and by `bwmigrate report`:
   every planned number in exactly one terminal state (lost otherwise); no number in two
   accepted orders of one step, no number imported twice (duplicates); no accepted order the
   tool does not know, report rows = plan numbers + plan-invalid entries (unexpected); the
   report agrees with the sandbox (mismatched).

It prints kills, resumes, duplicates, lost, unexpected, elapsed and the seed, and rewrites the
`chaos` section of docs/RELIABILITY.md (`--no-docs` to skip). Exit 0 only when every promise
held and the requested number of kills happened. The seed fixes the plan, the sandbox's fault
sequence and the kill schedule; the exact interleaving still depends on timing, so a replay
reproduces the conditions of a failure, not every byte of it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import support  # noqa: E402
from _docs import command_line, figures_block, machine, write_section  # noqa: E402

FAULTS = {
    "error_rate": 0.02,
    "throttle_rate": 0.02,
    "reset_rate": 0.01,
    "latency_rate": 0.05,
    "latency_s": 0.2,
    "drop_after_commit_rate": 0.05,
    "drop_mode": "reset",
    "hang_s": 60.0,  # longer than the client's 30 s read timeout: the client gives up first
    "slow_order_rate": 0.05,
    "slow_order_s": 4.0,
    "list_lag_s": 3.0,  # order lists show a new order 3 s late (reconcile must look again)
}


@dataclass(frozen=True)
class Settings:
    """Sizes and paces of one chaos run."""

    numbers: int = 10_000
    kills: int = 100
    batch_size: int = 20
    rate_per_s: float = 20.0
    sandbox_limit_per_s: float = 16.0
    in_flight: int = 8
    poll_interval_s: float = 0.3
    order_delay_s: float = 1.0
    visibility_window_s: float = 8.0  # the plan's window, above the sandbox's list lag
    notify: bool = False  # follow orders by order notifications, with callback faults


# Callback faults of the notification mode (`--notify`): lost, doubled and late callbacks, and
# a receiver that is down while the run is killed (the sandbox retries once).
CALLBACK_FAULTS = ["--callback-drop", "0.1", "--callback-duplicate", "0.1",
                   "--callback-reorder", "0.1", "--callback-retries", "1"]  # fmt: skip
SAFETY_NET_S = 3.0  # the notification mode's safety-net interval (lost callbacks cost this)


def notify_args(port: int) -> list[str]:
    """The `bwmigrate run` options of the notification mode (the same port on every resume:
    the resumed run adopts the subscription its killed predecessor left)."""
    return ["--notify-url", f"http://127.0.0.1:{port}/bandwidth", "--listen",
            f"127.0.0.1:{port}", "--safety-net-s", str(SAFETY_NET_S)]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fault_args(faults: dict[str, Any]) -> list[str]:
    """The `bwmigrate sandbox` fault options for these faults."""
    options = {
        "--fault-5xx": "error_rate", "--fault-429": "throttle_rate", "--fault-reset": "reset_rate",
        "--fault-latency": "latency_rate", "--latency-s": "latency_s",
        "--fault-drop": "drop_after_commit_rate", "--drop-mode": "drop_mode",
        "--fault-slow-order": "slow_order_rate", "--slow-order-s": "slow_order_s",
        "--list-lag-s": "list_lag_s",
    }  # fmt: skip
    return [arg for option, key in options.items() for arg in (option, str(faults[key]))]


def sandbox_args(seed: int, s: Settings, faults: dict[str, Any]) -> list[str]:
    """The `bwmigrate sandbox` options for these settings and faults."""
    return ["--seed", str(seed), "--order-delay-s", str(s.order_delay_s),
            "--rate-limit", str(s.sandbox_limit_per_s), *fault_args(faults)]  # fmt: skip


def check_plan(plan: support.ChaosPlan) -> None:
    """The dry run must see the plan as generated (else the generator, not bwmigrate, is wrong)."""
    out = subprocess.run(
        [sys.executable, "-m", "orchestrator", "plan", str(plan.path), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    numbers = json.loads(out.stdout)["numbers"]
    want = (plan.valid_count, sum(plan.invalid.values()))
    if (numbers["valid"], numbers["invalid"]) != want:
        raise SystemExit(f"generated plan compiles to {numbers}, expected valid/invalid {want}")


def run_chaos(seed: int, s: Settings, work: Path) -> dict[str, Any]:
    """The whole experiment; returns its figures."""
    rng = random.Random(seed)
    plan = support.write_chaos_plan(
        work / "plan",
        s.numbers,
        rng,
        batch_size=s.batch_size,
        rate_per_s=s.rate_per_s,
        in_flight=s.in_flight,
        poll_interval_s=s.poll_interval_s,
        visibility_window_s=s.visibility_window_s,
    )
    check_plan(plan)
    extra = CALLBACK_FAULTS if s.notify else []
    sb = support.SandboxProcess(*sandbox_args(seed, s, FAULTS), *extra, log=work / "sandbox.log")
    try:
        sb.seed(plan.seed)
        switched = False

        def on_run(log: support.KillLog) -> None:
            nonlocal switched
            if not switched and log.kills >= s.kills // 2:
                sb.seed({"faults": FAULTS | {"drop_mode": "hang"}})
                switched = True

        args = support.run_args(
            plan.path, sb.v2_url, work / "state.db", "--json", "--seed", str(seed),
            *(notify_args(free_port()) if s.notify else []),
        )  # fmt: skip
        started = time.monotonic()
        log = support.kill_and_resume(args, rng, s.kills, work / "runs.log", on_run=on_run)
        elapsed = time.monotonic() - started
        rows = support.read_report(work / "state.db")
        ledger = sb.ledger()
        verdict = support.check_cutover(plan, rows, ledger, sb.inventory())
    finally:
        sb.stop()
    problems = log.problems + list(support.iter_report_problems(rows))
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return {
        "seed": seed,
        "mode": "notifications (callback faults)" if s.notify else "batched reads",
        "numbers": plan.valid_count,
        "report_rows": verdict.rows,
        "statuses": statuses,
        "orders_accepted": verdict.ledger_orders,
        "requests": ledger["requests"]["total"],
        "requests_by_status": ledger["requests"]["by_status"],
        "kills": log.kills,
        "sigterms": log.sigterms,
        "resumes": log.resumes,
        "exit_codes": dict(sorted(log.exit_codes.items())),
        "duplicates": len(verdict.duplicates),
        "lost": len(verdict.lost),
        "unexpected": len(verdict.unexpected),
        "mismatched": len(verdict.mismatched),
        "problems": problems,
        "verdict": verdict.summary(),
        "elapsed_s": round(elapsed, 1),
        "ok": verdict.ok and not problems and log.kills >= s.kills,
    }


def print_figures(f: dict[str, Any]) -> None:
    """The figures, one per line (stdout)."""
    for key in (
        "seed",
        "mode",
        "numbers",
        "report_rows",
        "orders_accepted",
        "requests",
        "kills",
        "sigterms",
        "resumes",
        "duplicates",
        "lost",
        "unexpected",
        "mismatched",
        "elapsed_s",
        "statuses",
        "exit_codes",
        "requests_by_status",
    ):
        print(f"{key:>18}: {f[key]}")
    for p in f["problems"]:
        print(f"problem: {p}")
    print("RESULT:", "OK" if f["ok"] else f"FAILED ({f['verdict']})")


def write_docs(f: dict[str, Any], command: str, machine_line: str) -> Path:
    """Rewrite the `chaos` section of docs/RELIABILITY.md."""
    figures = [
        ("result", "all promises held" if f["ok"] else f"FAILED: {f['verdict']}"),
        ("seed", str(f["seed"])),
        ("mode", f["mode"]),
        ("numbers planned (valid)", f"{f['numbers']:,}"),
        ("report rows (incl. chained step and plan-invalid)", f"{f['report_rows']:,}"),
        ("outcomes", ", ".join(f"{k} {v:,}" for k, v in sorted(f["statuses"].items()))),
        ("orders accepted by the sandbox", f"{f['orders_accepted']:,}"),
        ("API requests", f"{f['requests']:,}"),
        ("answers", ", ".join(f"{k}: {v:,}" for k, v in f["requests_by_status"].items())),
        ("SIGKILLs", str(f["kills"])),
        ("SIGTERMs (graceful, exit 130)", str(f["sigterms"])),
        ("resumes", str(f["resumes"])),
        ("exit codes", ", ".join(f"{k}: {v}" for k, v in f["exit_codes"].items())),
        ("duplicates", str(f["duplicates"])),
        ("lost", str(f["lost"])),
        ("unexpected", str(f["unexpected"])),
        ("report vs sandbox mismatches", str(f["mismatched"])),
        ("elapsed (kill loop and resumes)", f"{f['elapsed_s']:.0f} s"),
    ]
    block = figures_block(command, figures, machine_line=machine_line)
    section = "chaos-notify" if f["mode"].startswith("notifications") else "chaos"
    return write_section("RELIABILITY.md", section, block)


def main() -> int:
    """Parse options, run, print, write the docs section; exit 0 when every promise held."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=Settings.kills, help="SIGKILLs to send")
    p.add_argument("--numbers", type=int, default=Settings.numbers, help="valid plan numbers")
    p.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    p.add_argument("--batch-size", type=int, default=Settings.batch_size)
    p.add_argument("--workdir", type=Path, default=None, help="keep files here (default: tmp)")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/RELIABILITY.md")
    p.add_argument(
        "--notify",
        action="store_true",
        help="follow orders by order notifications; the sandbox drops, duplicates and reorders "
        "callbacks (section chaos-notify)",
    )
    p.add_argument(
        "--fleet",
        action="store_true",
        help="a fleet on PostgreSQL instead of one run: --numbers split over --accounts plans, "
        "two workers, one SIGKILLed every 0.3-1.5 s (section chaos-fleet)",
    )
    p.add_argument("--accounts", type=int, default=8, help="with --fleet: plans (one each)")
    p.add_argument(
        "--pauses",
        type=int,
        default=0,
        help="with --fleet: also SIGSTOP a worker this many times, 2.5-6 s each (late, not dead)",
    )
    a = p.parse_args()
    machine_line = machine()  # before the run: the load average is the machine's, not ours
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "big")
    print(f"chaos: seed {seed} (replay with --seed {seed})", flush=True)
    if a.fleet:
        return fleet_main(a, seed, machine_line)
    work = a.workdir or Path(tempfile.mkdtemp(prefix="bwmigrate-chaos-"))
    s = Settings(numbers=a.numbers, kills=a.kills, batch_size=a.batch_size, notify=a.notify)
    figures = run_chaos(seed, s, work)
    print_figures(figures)
    if not a.no_docs:
        print(f"wrote {write_docs(figures, command_line(), machine_line)}")
    if figures["ok"] and a.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"files kept in {work} (plan, state.db, runs.log, sandbox.log)")
    return 0 if figures["ok"] else 1


# The fleet's faults: the single run's, with orders created but unanswered as a truncated
# reply only (a 60 s hang would stall a worker's slot, not test anything more).
FLEET_FAULTS = FAULTS | {"drop_mode": "reset"}


def fleet_main(a: argparse.Namespace, seed: int, machine_line: str) -> int:
    """`--fleet`: the experiment of bench/_fleet_chaos.py; print, write the docs section."""
    from _fleet_chaos import LIMIT_PER_S, run_fleet_chaos

    work = a.workdir or Path(tempfile.mkdtemp(prefix="bwmigrate-fleet-chaos-"))
    f = run_fleet_chaos(
        seed, a.kills, a.accounts, a.numbers, fault_args(FLEET_FAULTS), work, a.pauses
    )
    verdict = "all promises held" if f["ok"] else "FAILED"
    figures = [
        ("result", verdict),
        ("seed", str(seed)),
        (f"plans (accounts, each limited to {LIMIT_PER_S:g} req/s)", str(f["accounts"])),
        ("numbers (per plan)", f"{f['numbers']:,} ({f['per_plan']:,})"),
        ("report rows", f"{f['rows']:,}"),
        ("orders accepted by the sandbox", f"{f['orders_accepted']:,}"),
        ("API requests", f"{f['requests']:,}"),
        ("answers", ", ".join(f"{k}: {v:,}" for k, v in f["requests_by_status"].items())),
        ("worker SIGKILLs (asked)", f"{f['kills']} ({f['asked_kills']})"),
        ("worker pauses past the timeout (asked)", f"{f['pauses']} ({f['asked_pauses']})"),
        ("plans taken over from a paused worker", str(f["taken_over"])),
        ("tracebacks in the workers' output", str(f["tracebacks"])),
        ("surviving workers' exits; last worker's exit",
         f"{', '.join(map(str, f['survivor_exits']))}; {f['last_exit']}"),
        ("duplicates", str(f["duplicates"])),
        ("lost", str(f["lost"])),
        ("unexpected", str(f["unexpected"])),
        ("report vs sandbox mismatches", str(f["mismatched"])),
        ("elapsed", f"{f['elapsed_s']:.0f} s"),
    ]  # fmt: skip
    for key, value in figures:
        print(f"{key:>45}: {value}")
    print("RESULT:", "OK" if f["ok"] else "FAILED")
    if not a.no_docs:
        block = figures_block(command_line(), figures, machine_line=machine_line)
        print(f"wrote {write_section('RELIABILITY.md', 'chaos-fleet', block)}")
    if f["ok"] and a.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"files kept in {work} (plans, logs/worker-PID.log of every worker)")
    return 0 if f["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
