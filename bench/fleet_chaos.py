"""Fleet chaos: SIGKILL workers at random across a fleet on PostgreSQL until `--kills` kills,
then let one worker finish; judge by the sandbox's ledger and inventory (0 duplicates, 0 lost,
0 unexpected), as bench/chaos.py judges a single run.

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
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

from pgfleet import (  # noqa: E402
    account_ids,
    fleet_database,
    numbers_of,
    sandbox_accounts,
    write_fleet_plan,
)
from support import ENV, SandboxProcess, cli_args  # noqa: E402


def _worker(database: str, folder: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cli_args("worker", "--state", database, "--concurrency", "4", "--stalled-after-s", "2"),
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder,
    )  # fmt: skip


def judge(sandbox: SandboxProcess, accounts: list[str], numbers: int) -> dict[str, int]:
    """Duplicates (a number in two orders or imported twice), lost (never imported), and
    unexpected (an ordered number nobody planned)."""
    in_orders: Counter[str] = Counter()
    for order in sandbox.ledger()["orders"]:
        in_orders.update(order["numbers"])
    inventory = sandbox.inventory()
    planned = {n: a for i, a in enumerate(accounts) for n in numbers_of(i, numbers)}
    dup = sum(1 for n in planned if in_orders[n] > 1 or inventory.get(n, {}).get("imports", 0) > 1)
    lost = sum(
        1
        for n, a in planned.items()
        if inventory.get(n, {}).get("imports") != 1 or inventory[n]["account_id"] != a
    )
    unexpected = sum(1 for n in in_orders if n not in planned)  # fmt: skip
    return {"duplicates": dup, "lost": lost, "unexpected": unexpected}


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
            verdict = judge(sandbox, accounts, args.numbers)
    finally:
        sandbox.stop()
        for _ in gen:
            pass
    ok = kills == args.kills and not any(verdict.values()) and last.returncode == 0
    print(f"fleet chaos: {args.accounts} accounts x {args.numbers} numbers, {kills} worker kills "
          f"(asked {args.kills}), surviving workers' exits {codes}, last worker "
          f"{last.returncode}; duplicates {verdict['duplicates']}, lost {verdict['lost']}, "
          f"unexpected {verdict['unexpected']}; {time.monotonic() - started:.0f} s; seed "
          f"{args.seed}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
