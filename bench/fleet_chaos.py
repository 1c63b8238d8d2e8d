"""Fleet chaos: SIGKILL workers at random across a fleet on PostgreSQL until `--kills` kills,
then let one worker finish; judge by the sandbox's ledger and inventory (0 duplicates, 0 lost,
0 unexpected, 0 mismatched), each plan by check_cutover as bench/chaos.py judges a single run.

    nice python bench/fleet_chaos.py --kills 100                  # the issue's acceptance run
    nice python bench/fleet_chaos.py --kills 10 --accounts 4      # a quicker look

Two workers run at all times (`--stalled-after-s 2`); after a seeded random 0.3-1.5 s one of
them is SIGKILLed (its `bwmigrate run` children die with it) and a new one started. The killed
worker's plans go back to the queue when its heartbeat is 2 s old and resume elsewhere.
Exit 0 only when every promise held and the kills happened.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _worker(database: str, folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cli_args("worker", "--state", database, "--concurrency", "4", "--stalled-after-s", "2"),
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder,
    )  # fmt: skip


def judge(verdicts: dict[str, Verdict]) -> dict[str, int]:
    """Duplicates, lost, unexpected and mismatched over every plan and the fleet as a whole
    (pgfleet.judge_fleet: each plan by check_cutover, the witness bench/chaos.py uses)."""
    return {
        "duplicates": sum(len(v.duplicates) for v in verdicts.values()),
        "lost": sum(len(v.lost) for v in verdicts.values()),
        "unexpected": sum(len(v.unexpected) for v in verdicts.values()),
        "mismatched": sum(len(v.mismatched) for v in verdicts.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--numbers", type=int, default=400, help="numbers per plan")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    gen = fleet_database()
    database = next(gen)
    sandbox = SandboxProcess("--rate-limit", "20", "--order-delay-s", "0.2")
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            accounts = account_ids(args.accounts)
            sandbox.seed(sandbox_accounts(accounts))
            plans = [write_fleet_plan(folder / "plans", i, a, args.numbers, 20)
                     for i, a in enumerate(accounts)]  # fmt: skip
            subprocess.run(cli_args("fleet", "add", *map(str, plans), "--state", database,
                                    "--target", sandbox.v2_url, "--yes"),
                           env=ENV, check=True, capture_output=True)  # fmt: skip
            workers, kills = [_worker(database, folder), _worker(database, folder)], 0
            while kills < args.kills and all(w.poll() is None for w in workers):
                time.sleep(rng.uniform(0.3, 1.5))
                victim = workers.pop(rng.randrange(len(workers)))
                if victim.poll() is None:
                    victim.kill()
                    kills += 1
                victim.wait()
                workers.append(_worker(database, folder))
            codes = [w.wait(timeout=1800) for w in workers]
            last = subprocess.run(cli_args("worker", "--state", database), env=ENV, cwd=folder,
                                  capture_output=True, timeout=1800)  # fmt: skip
            verdict = judge(judge_fleet(sandbox, database, plans, accounts, args.numbers))
    finally:
        sandbox.stop()
        for _ in gen:
            pass
    ok = kills == args.kills and not any(verdict.values()) and last.returncode == 0
    print(f"fleet chaos: {args.accounts} accounts x {args.numbers} numbers, {kills} worker kills "
          f"(asked {args.kills}), surviving workers' exits {codes}, last worker "
          f"{last.returncode}; duplicates {verdict['duplicates']}, lost {verdict['lost']}, "
          f"unexpected {verdict['unexpected']}, mismatched {verdict['mismatched']}; "
          f"{time.monotonic() - started:.0f} s; seed {args.seed}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
