"""The fleet mode of bench/chaos.py (`--fleet`): SIGKILL workers at random across a fleet on
PostgreSQL until `kills` kills, then let one worker finish; judge by the sandbox's ledger and
inventory (0 duplicates, 0 lost, 0 unexpected, 0 mismatched), each plan by check_cutover as
chaos.py judges a single run.

Two workers run at all times (`--stalled-after-s 2`); after a seeded random 0.3-1.5 s one of
them is SIGKILLed (its `bwmigrate run` children die with it) and a new one started. The killed
worker's plans go back to the queue when its heartbeat is 2 s old and resume elsewhere. With
`pauses`, some ticks SIGSTOP a worker for 2.5-6 s instead (late, not dead: its runs go on and
keep their plans; a run that ended meanwhile may be taken over), and no worker may print a
traceback. The
sandbox limits every account to 20 req/s and injects the faults it is given (chaos.py passes
its own: 5xx, 429, resets, latency, orders created whose answer is lost).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

from pgfleet import (  # noqa: E402
    account_ids,
    fleet_database,
    judge_fleet,
    sandbox_accounts,
    write_fleet_plan,
)
from support import ENV, SandboxProcess, Verdict, cli_args  # noqa: E402

LIMIT_PER_S = 20.0


def _worker(database: str, folder: Path) -> subprocess.Popen[bytes]:
    """A worker; its stdout and stderr kept in `folder`/logs/worker-<pid>.log."""
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    with (logs / "starting.log").open("ab") as out:
        proc = subprocess.Popen(
            cli_args("worker", "--state", database, "--concurrency", "4",
                     "--stalled-after-s", "2"),
            env=ENV, stdout=out, stderr=subprocess.STDOUT, cwd=folder,
        )  # fmt: skip
    (logs / "starting.log").rename(logs / f"worker-{proc.pid}.log")
    return proc


def _totals(verdicts: dict[str, Verdict]) -> dict[str, int]:
    """Duplicates, lost, unexpected and mismatched over every plan and the fleet as a whole
    (pgfleet.judge_fleet: each plan by check_cutover, the witness bench/chaos.py uses)."""
    return {
        "duplicates": sum(len(v.duplicates) for v in verdicts.values()),
        "lost": sum(len(v.lost) for v in verdicts.values()),
        "unexpected": sum(len(v.unexpected) for v in verdicts.values()),
        "mismatched": sum(len(v.mismatched) for v in verdicts.values()),
    }


class _Chaos:
    """Two workers at all times. Every seeded random 0.3-1.5 s, one of them is SIGKILLed and
    replaced, or (while `pauses` are left, one tick in three) SIGSTOPped for 2.5-6 s, past
    --stalled-after-s, then SIGCONTed: a worker that was late, not dead."""

    def __init__(self, database: str, folder: Path, rng: random.Random) -> None:
        self.database, self.folder, self.rng = database, folder, rng
        self.workers = [_worker(database, folder), _worker(database, folder)]
        self.paused: dict[int, float] = {}  # pid -> when to SIGCONT
        self.kills = self.pauses = 0

    def tick(self, kills: int, pauses: int) -> None:
        time.sleep(self.rng.uniform(0.3, 1.5))
        self._resume(time.monotonic())
        if self.pauses < pauses and self.rng.random() < 1 / 3:
            awake = [w for w in self.workers if w.pid not in self.paused and w.poll() is None]
            if awake:
                victim = self.rng.choice(awake)
                victim.send_signal(signal.SIGSTOP)
                self.paused[victim.pid] = time.monotonic() + self.rng.uniform(2.5, 6.0)
                self.pauses += 1
            return
        if self.kills >= kills:
            return
        victim = self.workers.pop(self.rng.randrange(len(self.workers)))
        if victim.poll() is None:
            victim.kill()
            self.kills += 1
        victim.wait()
        self.paused.pop(victim.pid, None)
        self.workers.append(_worker(self.database, self.folder))

    def _resume(self, now: float, *, every: bool = False) -> None:
        for w in self.workers:
            if w.pid in self.paused and (every or self.paused[w.pid] <= now):
                w.send_signal(signal.SIGCONT)
                del self.paused[w.pid]

    def finish(self) -> list[int]:
        """Wake any paused worker; the survivors' exits (their logs' tails when not 0)."""
        self._resume(0.0, every=True)
        codes = [w.wait(timeout=1800) for w in self.workers]
        for w, code in zip(self.workers, codes, strict=True):
            if code != 0:
                tail = (self.folder / "logs" / f"worker-{w.pid}.log").read_text(errors="replace")
                print(f"worker {w.pid} exited {code}; its last lines:\n{tail[-3000:]}", flush=True)
        return codes


def _chaos(
    database: str, folder: Path, rng: random.Random, kills: int, pauses: int
) -> tuple[int, int, list[int]]:
    """Kill and pause workers until `kills` kills and `pauses` pauses (or the fleet is done
    first); the kills, the pauses and the survivors' exits."""
    chaos = _Chaos(database, folder, rng)
    while (chaos.kills < kills or chaos.pauses < pauses) and all(
        w.poll() is None for w in chaos.workers
    ):
        chaos.tick(kills, pauses)
    return chaos.kills, chaos.pauses, chaos.finish()


def _log_lines(folder: Path) -> dict[str, int]:
    """What every worker's log says of the pauses: tracebacks (none expected) and plans taken
    over while their worker was paused (the one line `worker` prints)."""
    text = "".join(p.read_text(errors="replace") for p in (folder / "logs").glob("*.log"))
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "taken_over": text.count("another worker took its job over"),
    }


def run_fleet_chaos(
    seed: int,
    kills: int,
    accounts: int,
    numbers: int,
    sandbox_args: list[str],
    work: Path,
    pauses: int = 0,
) -> dict[str, Any]:
    """The fleet experiment: `numbers` numbers split over `accounts` plans, its files (plans,
    every worker's output in logs/) in `work`; its figures."""
    rng = random.Random(seed)
    per_plan = -(-numbers // accounts)
    gen = fleet_database()
    database = next(gen)
    sandbox = SandboxProcess("--rate-limit", str(LIMIT_PER_S), "--order-delay-s", "0.2",
                             "--seed", str(seed), *sandbox_args)  # fmt: skip
    started = time.monotonic()
    try:
        ids = account_ids(accounts)
        sandbox.seed(sandbox_accounts(ids))
        plans = [write_fleet_plan(work / "plans", i, a, per_plan, LIMIT_PER_S)
                 for i, a in enumerate(ids)]  # fmt: skip
        subprocess.run(cli_args("fleet", "add", *map(str, plans), "--state", database,
                                "--target", sandbox.v2_url, "--yes"),
                       env=ENV, check=True, capture_output=True)  # fmt: skip
        done, paused, codes = _chaos(database, work, rng, kills, pauses)
        last = subprocess.run(cli_args("worker", "--state", database), env=ENV, cwd=work,
                              capture_output=True, timeout=1800)  # fmt: skip
        (work / "logs" / "last-worker.log").write_bytes(last.stdout + last.stderr)
        verdicts = judge_fleet(sandbox, database, plans, ids, per_plan)
        ledger = sandbox.ledger()
    finally:
        sandbox.stop()
        for _ in gen:
            pass
    totals, lines = _totals(verdicts), _log_lines(work)
    return {
        "seed": seed, "accounts": accounts, "numbers": per_plan * accounts,
        "per_plan": per_plan, "kills": done, "asked_kills": kills,
        "pauses": paused, "asked_pauses": pauses,
        "survivor_exits": codes, **lines,
        "last_exit": last.returncode, "orders_accepted": verdicts["fleet"].ledger_orders,
        "requests": ledger["requests"]["total"],
        "requests_by_status": ledger["requests"]["by_status"],
        "rows": sum(v.rows for v in verdicts.values()), **totals,
        "elapsed_s": round(time.monotonic() - started, 1),
        # every plan finishes with no failed number: a worker that ends says 0, survivors too
        "ok": done == kills and paused == pauses and not any(totals.values())
        and last.returncode == 0 and all(code == 0 for code in codes)
        and lines["tracebacks"] == 0,
    }  # fmt: skip
