"""Benchmark: how a cutover follows its orders, side by side: per-order polling, batched reads.

    python bench/status_reads_bench.py                      # 100,000 numbers, 400 orders of 250
    python bench/status_reads_bench.py --batch 5000 --numbers 1000000

In one run, against one sandbox process (`--rate-limit R --order-delay-s D`, reset between
modes), the same plan is run as `bwmigrate run` runs it (`Cutover`) in each mode:

- per_order: the former polling, one GET per open order per poll (the in-run baseline);
- batched:   shared order-list reads (the default, `orchestrator.cutover.status_reader`);
- notify:    order notifications (`run --notify-url --listen`): the sandbox calls back to the
             run's listener on 127.0.0.1; the safety-net reads every 60 s.

With `--share S` the plan states the account's limit (= the sandbox's) and the run's share
(`[rate] account_limit_per_s`, `share`) instead of running at the whole limit.

Printed per mode: requests, requests per order, list reads and GETs by id, 429s (all, after the
first 10 s), makespan, the floor (POSTs / the run's rate + one order time) and makespan / floor,
and the dry run's estimate for that mode. Targets (issue 13): batched reads <= 1.5 requests per
order, notifications <= 1.1, makespan <= 1.15x the floor, no 429 after the first 10 s with a
share below 100 %. The figures go to the `status-reads-<batch>` section of docs/PERFORMANCE.md
(`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import re
import socket
import tempfile
import time
from functools import partial
from pathlib import Path

import anyio
from _docs import command_line, figures_block, machine, write_section
from cutover_bench import AUTH, Sandbox, plan_text, valid_numbers

from orchestrator.api.client import Exchange
from orchestrator.cutover.cutover import Cutover, LiveTarget, Tuning
from orchestrator.cutover.engine import EngineSettings, NotifySettings
from orchestrator.plan import FailureThreshold, compile_plan, parse_plan
from orchestrator.plan.estimate import estimate

MODES = ("per_order", "batched", "notify")
_BY_ID = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def budget_text(text: str, rate: float, share: float | None) -> str:
    """The bench plan with its rate stated as a budget (the account's limit and a share)."""
    if share is None:
        return text
    return text.replace(
        f"requests_per_s = {rate}\n", f"account_limit_per_s = {rate}\nshare = {share}\n"
    )


def run_mode(sb: Sandbox, text: str, state: Path, mode: str, args: argparse.Namespace) -> dict:
    """One run of the plan in `mode`; its figures."""
    plan = compile_plan(parse_plan(text, "bench.toml"), lambda _n: b"")
    stamps: list[tuple[float, str, str, int | None]] = []

    def on_exchange(x: Exchange) -> None:
        stamps.append((time.monotonic(), x.method, x.path, x.status))

    tuning = Tuning(
        settings=EngineSettings(
            max_orders_in_flight=args.in_flight,
            poll_interval_s=args.poll_s,
            failure_threshold=FailureThreshold(100, 0),
            seed=1,
            status_reads="batched" if mode == "notify" else mode,
            notify=_notify_settings() if mode == "notify" else None,
        ),
        observe=on_exchange,
    )
    with Cutover.open(plan, state, LiveTarget(f"{sb.url}/api/v2"), plan_text=text) as cutover:
        t0 = time.monotonic()
        result = anyio.run(partial(cutover.run, AUTH, tuning=tuning))
        makespan = time.monotonic() - t0
    assert result.outcome == "done", result.message
    orders = sum(len(s.orders) for s in plan.steps)
    posts = sum(1 for _, m, _, s in stamps if m == "POST" and s == 201)
    rate = plan.spec.rate.requests_per_s
    floor = posts / rate + args.order_delay_s
    est = estimate(plan, order_s=args.order_delay_s, status_reads=mode)  # notify: as batched
    gets = [(t, p, s) for t, m, p, s in stamps if m == "GET"]
    return {
        "mode": mode,
        "orders": orders,
        "numbers": plan.valid_count,
        "rate": rate,
        "requests": len(stamps),
        "per_order": len(stamps) / orders,
        "by_id": sum(1 for _, p, _ in gets if _BY_ID.search(p)),
        "lists": sum(1 for _, p, _ in gets if not _BY_ID.search(p) and "/subscriptions" not in p),
        "subscription_calls": sum(1 for _, _, p, _ in stamps if "/subscriptions" in p),
        "r429": sum(1 for *_, s in stamps if s == 429),
        "late_429": sum(1 for t, *_, s in stamps if s == 429 and t >= t0 + 10),
        "makespan_s": makespan,
        "floor_s": floor,
        "estimate_s": est.eta_s,
        "estimate_requests": est.api_calls,
    }


def _notify_settings() -> NotifySettings:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return NotifySettings(url=f"http://127.0.0.1:{port}/bw", host="127.0.0.1", port=port)


def line(r: dict) -> str:
    return (
        f"{r['mode']:>9}: requests {r['requests']:,} ({r['per_order']:.2f} per order; "
        f"{r['lists']:,} list reads, {r['by_id']:,} GETs by id, {r['subscription_calls']} "
        f"subscription calls), 429s {r['r429']} "
        f"({r['late_429']} after 10 s); makespan {r['makespan_s']:.1f} s, floor "
        f"{r['floor_s']:.1f} s -> {r['makespan_s'] / r['floor_s']:.2f}x the floor; estimate "
        f"{r['estimate_s']:.1f} s, {r['estimate_requests']:,} requests"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--numbers", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=250)
    p.add_argument("--rate", type=float, default=20.0, help="the sandbox's (account's) limit")
    p.add_argument("--share", type=float, default=None, help="the run's share of the limit")
    p.add_argument("--order-delay-s", type=float, default=4.0)
    p.add_argument("--in-flight", type=int, default=400)
    p.add_argument("--poll-s", type=float, default=2.0)
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument(
        "--canary",
        type=int,
        default=0,
        help="the plan's canary (default 0: the floor then holds one order time, not two)",
    )
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    args = p.parse_args()
    machine_line = machine()
    numbers = valid_numbers(args.numbers)
    text = plan_text(
        numbers, args.batch, args.rate, args.in_flight, args.poll_s, args.order_delay_s
    )
    text = budget_text(text, args.rate, args.share)
    if args.canary is not None:
        text = f"canary = {args.canary}\n" + text
    rows = []
    sb = Sandbox(args.rate, args.order_delay_s)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i, mode in enumerate(m.strip() for m in args.modes.split(",")):
                sb.reset()
                rows.append(run_mode(sb, text, Path(tmp) / f"state-{i}.db", mode, args))
                print(line(rows[-1]), flush=True)
    finally:
        sb.stop()
    share = "whole limit" if args.share is None else f"share {args.share:g}"
    setup = (
        f"{rows[0]['numbers']:,} numbers in {rows[0]['orders']} orders of {args.batch}; limit "
        f"{args.rate:g} req/s ({share}: the run's rate {rows[0]['rate']:g}); order delay "
        f"{args.order_delay_s:g} s; in flight {args.in_flight}; poll interval {args.poll_s:g} s"
    )
    print(setup)
    if not args.no_docs:
        figures = [("setup", setup), *((r["mode"], line(r).split(": ", 1)[1]) for r in rows)]
        block = figures_block(command_line(), figures, machine_line=machine_line)
        section = f"status-reads-{args.batch}" + ("" if args.share is None else "-share")
        print(f"wrote {write_section('PERFORMANCE.md', section, block)}")


if __name__ == "__main__":
    main()
