"""Fleet throughput: many accounts, each limited by the sandbox, driven by 1, 2, 4 workers on
one PostgreSQL; and the state's transition rate on PostgreSQL vs SQLite in the same run.

    python bench/fleet_bench.py                                  # 50 accounts x 20 req/s
    python bench/fleet_bench.py --accounts 12 --numbers 60       # a quicker look

For each worker count: a fresh database, `fleet add` of `--accounts` plans (one per account,
each importing `--numbers` numbers in orders of 5 at the account's limit), the sandbox limiting
every account to `--limit-per-s`, then that many `bwmigrate worker` processes (each with
concurrency accounts/workers) until the fleet is done. Printed: aggregate requests/s (the
sandbox's ledger over the workers' wall time) as a fraction of the sum of the limits, CPU
seconds per request (every worker and run process, from getrusage of the reaped children).
Then the state alone: `--orders` orders taken through intent -> submitted -> outcome on a
SQLite file and on a PostgreSQL schema, one thread, transitions/s.

Needs the PostgreSQL server of the tests (BWMIGRATE_TEST_PG, default 127.0.0.1:5432 `test`).
`nice` it on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "e2e")]

from pgfleet import account_ids, fleet_database, sandbox_accounts, write_fleet_plan  # noqa: E402
from pgstate import drop_plans, unique_location  # noqa: E402
from support import ENV, SandboxProcess, cli_args  # noqa: E402


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_fleet(workers: int, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    """One fleet on a fresh database driven by `workers` workers; its figures."""
    gen = fleet_database()
    database = next(gen)
    sandbox = SandboxProcess("--rate-limit", str(args.limit_per_s), "--order-delay-s", "0.2")
    try:
        accounts = account_ids(args.accounts)
        sandbox.seed(sandbox_accounts(accounts))
        plans = [write_fleet_plan(folder / f"w{workers}", i, a, args.numbers, args.limit_per_s)
                 for i, a in enumerate(accounts)]  # fmt: skip
        subprocess.run(cli_args("fleet", "add", *map(str, plans), "--state", database,
                                "--target", sandbox.v2_url, "--yes"),
                       env=ENV, check=True, capture_output=True)  # fmt: skip
        before_requests = sandbox.ledger()["requests"]["total"]
        concurrency = str(-(-args.accounts // workers))
        cpu0, t0 = _children_cpu_s(), time.monotonic()
        procs = [subprocess.Popen(cli_args("worker", "--state", database, "--concurrency",
                                           concurrency),
                                  env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  cwd=folder)
                 for _ in range(workers)]  # fmt: skip
        codes = [p.wait() for p in procs]
        wall_s, cpu_s = time.monotonic() - t0, _children_cpu_s() - cpu0
        requests = sandbox.ledger()["requests"]["total"] - before_requests
    finally:
        sandbox.stop()
        for _ in gen:
            pass
    limit_sum = args.accounts * args.limit_per_s
    return {"workers": workers, "exit": max(codes), "wall_s": wall_s, "requests": requests,
            "req_per_s": requests / wall_s, "fraction": requests / wall_s / limit_sum,
            "cpu_ms_per_request": 1000 * cpu_s / max(requests, 1)}  # fmt: skip


def state_transitions(orders: int) -> dict[str, float]:
    """Transitions/s of intent -> submitted -> outcome, SQLite file vs PostgreSQL schema."""
    from planfiles import IMPORT_DETAILS

    from orchestrator.plan import compile_plan, parse_plan
    from orchestrator.state.store import Store

    numbers = ", ".join(f'"+1919555{i:04d}"' for i in range(orders))
    text = (f'name = "bench"\naccount_id = "9900012"\nbatch_size = 1\n[[steps]]\n'
            f'kind = "import"\nname = "imp"\nsite_id = "743"\n{IMPORT_DETAILS}'
            f"numbers = [{numbers}]\n")  # fmt: skip
    plan = compile_plan(parse_plan(text, "bench.toml"), lambda _name: b"")
    out: dict[str, float] = {}
    loc = unique_location()
    with tempfile.TemporaryDirectory() as tmp:
        for label, where in (("sqlite", Path(tmp) / "bench.db"), ("postgresql", loc)):
            store = Store.open(where)
            store.acquire_lease(pid=os.getpid(), host="bench", command="bench", now=1.0)
            store.initialize(plan, text, 1.0)
            ids = [o.id for o in store.orders()]
            t0 = time.perf_counter()
            for n, order_id in enumerate(ids):
                store.mark_submitting(order_id, 2.0)
                store.mark_submitted(order_id, f"r{n}", "RECEIVED", 3.0)
                store.record_outcome(order_id, "COMPLETE", [], None, [], 4.0)
            out[label] = 3 * len(ids) / (time.perf_counter() - t0)
            store.close()
    drop_plans(loc)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--numbers", type=int, default=100, help="numbers per plan")
    parser.add_argument("--limit-per-s", type=float, default=20)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--orders", type=int, default=500, help="orders for the state bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (int(w) for w in args.workers.split(",")):
            r = run_fleet(workers, args, Path(tmp))
            print(f"{r['workers']} worker(s): {r['requests']} requests in {r['wall_s']:.1f} s = "
                  f"{r['req_per_s']:.1f} req/s, {r['fraction']:.0%} of the {args.accounts} x "
                  f"{args.limit_per_s:g} req/s limits; {r['cpu_ms_per_request']:.1f} ms CPU per "
                  f"request; worst exit {r['exit']}", flush=True)  # fmt: skip
    rates = state_transitions(args.orders)
    print(
        f"state transitions/s (one writer): SQLite {rates['sqlite']:.0f}, "
        f"PostgreSQL {rates['postgresql']:.0f}"
    )


if __name__ == "__main__":
    main()
