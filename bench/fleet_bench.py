"""Fleet throughput: many accounts, each limited by the sandbox, driven by 1, 2, 4 workers on
one PostgreSQL; and the state's transition rate on PostgreSQL vs SQLite in the same run.

    python bench/fleet_bench.py                                  # 50 accounts x 20 req/s
    python bench/fleet_bench.py --accounts 12 --numbers 60       # a quicker look

For each worker count: a fresh database, `fleet add` of `--accounts` plans (one per account,
each importing `--numbers` numbers in orders of 5 at the account's limit), the sandbox limiting
every account to `--limit-per-s`, then that many `bwmigrate worker` processes (each with
concurrency accounts/workers) until the fleet is done. Printed: aggregate requests/s (the
sandbox's ledger over the workers' wall time) as a fraction of the sum of the limits, CPU
per request of every worker and run process (getrusage of the reaped children), of the
sandbox and of the PostgreSQL server (its processes' /proc counters, reaped backends
included), and how many of the machine's cores they kept busy together.
Then one plan's run alone at 100 and 1,000 numbers: its CPU as a fixed part and a part
per request, PostgreSQL's CPU and commits per request (the server's CPU is the whole
server's: run it on a quiet machine). Then the state alone: `--orders` orders taken through
intent -> submitted -> outcome on a SQLite file and on a PostgreSQL schema, by one writer and
by eight at once (a plan each), transitions/s; and a plan of `--plan-numbers` numbers stored
on SQLite, on PostgreSQL by COPY (the bulk path) and on PostgreSQL row by row (the
baseline), numbers/s.

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
import threading
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


_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[str, int, float, float]:
    """(command, parent pid, own CPU s, reaped children's CPU s) of a live process."""
    text = Path(f"/proc/{pid}/stat").read_text()
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    own = (int(fields[11]) + int(fields[12])) * _TICK_S  # utime, stime
    reaped = (int(fields[13]) + int(fields[14])) * _TICK_S  # cutime, cstime
    return comm, int(fields[1]), own, reaped


def postgres_cpu_s() -> float:
    """CPU seconds used so far by the PostgreSQL server on this machine: the postmaster with
    its reaped backends, plus the backends alive now (0 when it cannot be seen from here)."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = _proc_stat(int(entry.name))
            except (OSError, ValueError):
                continue
    pg = {pid: st for pid, st in stats.items() if st[0] == "postgres"}
    roots = [pid for pid, st in pg.items() if st[1] not in pg]
    return sum(pg[r][2] + pg[r][3] for r in roots) + sum(
        st[2] for pid, st in pg.items() if pid not in roots
    )


def sandbox_cpu_s(sandbox: SandboxProcess) -> float:
    """CPU seconds the sandbox process has used so far."""
    return _proc_stat(sandbox.proc.pid)[2]


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
        sandbox0, pg0 = sandbox_cpu_s(sandbox), postgres_cpu_s()
        procs = [subprocess.Popen(cli_args("worker", "--state", database, "--concurrency",
                                           concurrency),
                                  env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  cwd=folder)
                 for _ in range(workers)]  # fmt: skip
        codes = [p.wait() for p in procs]
        wall_s, cpu_s = time.monotonic() - t0, _children_cpu_s() - cpu0
        sandbox_s, pg_s = sandbox_cpu_s(sandbox) - sandbox0, postgres_cpu_s() - pg0
        requests = sandbox.ledger()["requests"]["total"] - before_requests
    finally:
        sandbox.stop()
        for _ in gen:
            pass
    limit_sum = args.accounts * args.limit_per_s
    return {"workers": workers, "exit": max(codes), "wall_s": wall_s, "requests": requests,
            "req_per_s": requests / wall_s, "fraction": requests / wall_s / limit_sum,
            "cpu_ms_per_request": 1000 * cpu_s / max(requests, 1),
            "sandbox_ms_per_request": 1000 * sandbox_s / max(requests, 1),
            "pg_ms_per_request": 1000 * pg_s / max(requests, 1),
            "cores": (cpu_s + sandbox_s + pg_s) / wall_s}  # fmt: skip


def run_costs(small: int, large: int, limit_per_s: float) -> dict[str, float]:
    """One plan's run alone (state on PostgreSQL), at `small` and at `large` numbers: the
    run's CPU split into a fixed part (start, plan, preflight, snapshot) and a part per
    request (the difference of the two runs over the difference of their requests), and
    PostgreSQL's CPU and commits per request."""
    gen = fleet_database()
    database = next(gen)
    sandbox = SandboxProcess("--rate-limit", str(limit_per_s), "--order-delay-s", "0.2")
    figures: list[tuple[int, float, float, int]] = []
    try:
        accounts = account_ids(2)
        sandbox.seed(sandbox_accounts(accounts))
        with tempfile.TemporaryDirectory() as tmp:
            for i, count in enumerate((small, large)):
                plan = write_fleet_plan(Path(tmp), i, accounts[i], count, limit_per_s)
                r0, c0 = sandbox.ledger()["requests"]["total"], _children_cpu_s()
                pg0, commits0 = postgres_cpu_s(), _commits(database)
                subprocess.run(cli_args("run", str(plan), "--state", database, "--target",
                                        sandbox.v2_url, "--yes", "--quiet"),
                               env=ENV, check=True, capture_output=True, cwd=tmp)  # fmt: skip
                figures.append((sandbox.ledger()["requests"]["total"] - r0,
                                _children_cpu_s() - c0, postgres_cpu_s() - pg0,
                                _commits(database) - commits0))  # fmt: skip
    finally:
        sandbox.stop()
        for _ in gen:
            pass
    (req1, cpu1, _, _), (req2, cpu2, pg2, commits2) = figures
    per_request = (cpu2 - cpu1) / (req2 - req1)
    return {
        "small_requests": req1,
        "large_requests": req2,
        "run_ms_per_request": 1000 * per_request,
        "run_fixed_s": cpu1 - per_request * req1,
        "pg_ms_per_request": 1000 * pg2 / req2,
        "commits_per_request": commits2 / req2,
    }


def _commits(database: str) -> int:
    """Transactions committed so far in this database (pg_stat_database; counted late by a
    few hundred ms, which a run of several seconds absorbs)."""
    import psycopg

    name = database.rsplit("/", 1)[1]
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def state_transitions(orders: int, writers: int) -> dict[str, float]:
    """Transitions/s of intent -> submitted -> outcome (each committed), SQLite vs PostgreSQL:
    `writers` threads, each on its own plan (a state file, or a plan's schema) as the runs of
    a fleet are, `orders` orders each; all start together."""
    from planfiles import IMPORT_DETAILS

    from orchestrator.plan import compile_plan, parse_plan
    from orchestrator.state.store import Store

    numbers = ", ".join(f'"+1919555{i:04d}"' for i in range(orders))
    text = (f'name = "bench"\naccount_id = "9900012"\nbatch_size = 1\n[[steps]]\n'
            f'kind = "import"\nname = "imp"\nsite_id = "743"\n{IMPORT_DETAILS}'
            f"numbers = [{numbers}]\n")  # fmt: skip
    plan = compile_plan(parse_plan(text, "bench.toml"), lambda _name: b"")
    out: dict[str, float] = {}
    locations = [unique_location() for _ in range(writers)]
    with tempfile.TemporaryDirectory() as tmp:
        files = [Path(tmp) / f"bench{i}.db" for i in range(writers)]
        for label, places in (("sqlite", files), ("postgresql", locations)):
            stores = [Store.open(where) for where in places]
            for store in stores:
                store.acquire_lease(pid=os.getpid(), host="bench", command="bench", now=1.0)
                store.initialize(plan, text, 1.0)
            start = threading.Barrier(writers + 1)

            def drive(store: Store, start: threading.Barrier) -> None:
                ids = [o.id for o in store.orders()]
                start.wait()
                for n, order_id in enumerate(ids):
                    store.mark_submitting(order_id, 2.0)
                    store.mark_submitted(order_id, f"r{n}", "RECEIVED", 3.0)
                    store.record_outcome(order_id, "COMPLETE", [], None, [], 4.0)

            threads = [threading.Thread(target=drive, args=(st, start)) for st in stores]
            for t in threads:
                t.start()
            start.wait()
            t0 = time.perf_counter()
            for t in threads:
                t.join()
            out[label] = 3 * orders * writers / (time.perf_counter() - t0)
            for store in stores:
                store.close()
    drop_plans(*locations)
    return out


def state_initialize(numbers: int) -> dict[str, float]:
    """Numbers/s of storing a plan of `numbers` numbers (batch 100): SQLite, PostgreSQL with
    its bulk path (COPY) and, as the baseline in the same run, PostgreSQL row by row."""
    from planfiles import IMPORT_DETAILS

    from orchestrator.plan import compile_plan, parse_plan
    from orchestrator.state import postgres
    from orchestrator.state.store import Store

    listed = ", ".join(f'"+1919{i // 10000 + 200:03d}{i % 10000:04d}"' for i in range(numbers))
    text = (f'name = "bench-init"\naccount_id = "9900012"\nbatch_size = 100\n[[steps]]\n'
            f'kind = "import"\nname = "imp"\nsite_id = "743"\n{IMPORT_DETAILS}'
            f"numbers = [{listed}]\n")  # fmt: skip
    plan = compile_plan(parse_plan(text, "bench.toml"), lambda _name: b"")
    out: dict[str, float] = {}
    copy_from = postgres.COPY_FROM_ROWS
    with tempfile.TemporaryDirectory() as tmp:
        cases = (("sqlite", Path(tmp) / "init.db", copy_from),
                 ("postgresql_copy", unique_location(), copy_from),
                 ("postgresql_rows", unique_location(), 10**12))  # fmt: skip
        for label, where, threshold in cases:
            postgres.COPY_FROM_ROWS = threshold
            store = Store.open(where)
            store.acquire_lease(pid=os.getpid(), host="bench", command="bench", now=1.0)
            t0 = time.perf_counter()
            store.initialize(plan, text, 1.0)
            out[label] = numbers / (time.perf_counter() - t0)
            store.close()
            if not isinstance(where, Path):
                drop_plans(where)
    postgres.COPY_FROM_ROWS = copy_from
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--numbers", type=int, default=100, help="numbers per plan")
    parser.add_argument("--limit-per-s", type=float, default=20)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--orders", type=int, default=500, help="orders for the state bench")
    parser.add_argument("--plan-numbers", type=int, default=100_000,
                        help="numbers of the plan stored by the initialize bench")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (int(w) for w in args.workers.split(",")):
            r = run_fleet(workers, args, Path(tmp))
            print(f"{r['workers']} worker(s): {r['requests']} requests in {r['wall_s']:.1f} s = "
                  f"{r['req_per_s']:.1f} req/s, {r['fraction']:.0%} of the {args.accounts} x "
                  f"{args.limit_per_s:g} req/s limits; CPU per request: workers and runs "
                  f"{r['cpu_ms_per_request']:.1f} ms, sandbox {r['sandbox_ms_per_request']:.1f} "
                  f"ms, PostgreSQL {r['pg_ms_per_request']:.2f} ms; {r['cores']:.2f} cores busy; "
                  f"worst exit {r['exit']}", flush=True)  # fmt: skip
    c = run_costs(100, 1000, args.limit_per_s)
    print(f"one run alone ({c['small_requests']} and {c['large_requests']} requests): "
          f"{c['run_ms_per_request']:.1f} ms CPU per request + {c['run_fixed_s']:.2f} s fixed; "
          f"PostgreSQL {c['pg_ms_per_request']:.2f} ms CPU and "
          f"{c['commits_per_request']:.2f} commits per request", flush=True)  # fmt: skip
    for writers in (1, 8):
        rates = state_transitions(args.orders, writers)
        print(
            f"state transitions/s ({writers} writer(s), a plan each, each transition committed): "
            f"SQLite {rates['sqlite']:.0f}, PostgreSQL {rates['postgresql']:.0f}"
        )
    init = state_initialize(args.plan_numbers)
    ratio = init["postgresql_copy"] / init["postgresql_rows"]
    print(
        f"storing a plan of {args.plan_numbers:,} numbers: SQLite {init['sqlite']:,.0f}/s, "
        f"PostgreSQL with COPY {init['postgresql_copy']:,.0f}/s, row by row "
        f"{init['postgresql_rows']:,.0f}/s (COPY {ratio:.1f}x)"
    )


if __name__ == "__main__":
    main()
