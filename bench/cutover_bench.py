"""Benchmark: a 100,000-number cutover against a rate-limited sandbox, beside a naive baseline.

    python bench/cutover_bench.py                       # 100,000 numbers, 20 req/s, 4 s orders
    python bench/cutover_bench.py --numbers 20000       # quicker

In one run:

- engine:   the plan run as `bwmigrate run` runs it (`Cutover`: engine, store, client, gate,
  audit log) imports every number against a sandbox process with `--rate-limit R
  --order-delay-s D`; each exchange is timestamped client-side.
- baseline: what a customer writes by hand: one order at a time, POST then GET every 2 s until
  terminal, on the same sandbox (reset first). It is sequential, so its time per order is
  constant: it runs `--baseline-orders` orders and extrapolates linearly to all (printed as such).
- checkpoint: the store alone, marking every number of a `--numbers` plan submitting, submitted
  and finished (1% failed), order by order: number transitions per second.

- estimate: the dry run's estimate (`orchestrator.plan.estimate`, with `expected_order_s` set to
  the sandbox's order delay) beside the measured makespan and requests, for plans of
  `--estimate-sizes` numbers (default 10, 100, 1000) and for the big plan: the ratio
  estimate / measured, and what the former formula (calls at the rate plus one order time per
  wave, one poll too many per order) said.

Printed: makespan, requests, 429s (all, and after the first 10 s), the request rate achieved in
steady state (from 10 s to the last submit) as a fraction of the limit, numbers/s, the ratio to
the baseline, checkpoint transitions/s, and estimate vs measured per plan size. Targets
(issue 4): >= 90% of the limit in steady state, < 1% of requests answered 429 after the first
10 s, >= 20,000 transitions/s. The figures also go to the `cutover` section of
docs/PERFORMANCE.md (`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import anyio
import httpx
from _docs import command_line, figures_block, machine, write_section

from orchestrator.api.client import BasicCredentials, Exchange
from orchestrator.api.xml_request import build_import_order
from orchestrator.cutover.cutover import Cutover, LiveTarget, Tuning
from orchestrator.cutover.engine import EngineSettings
from orchestrator.plan import CompiledPlan, FailureThreshold, compile_plan, parse_plan
from orchestrator.plan.chain import asks_a2p
from orchestrator.plan.compile import canary_size
from orchestrator.plan.estimate import estimate
from orchestrator.plan.numbers import normalize_numbers
from orchestrator.state.store import FailedNumber, OrderState, Store

ACCOUNT = "9900012"
AUTH = BasicCredentials("sandbox", "sandbox")
NPAS = ["919", "984", "415", "628", "435", "801", "667", "410", "575", "505", "212", "646"]


def valid_numbers(count: int) -> list[str]:
    """`count` distinct valid NANP numbers (checked by bwmigrate's own normaliser)."""
    out: list[str] = []
    for npa in NPAS:
        for nxx in range(201, 1000):
            candidates = [f"+1{npa}{nxx}{line:04d}" for line in range(0, 10000, 7)]
            ok = [n for n in normalize_numbers(candidates) if isinstance(n, str)]
            out.extend(ok)
            if len(out) >= count:
                return out[:count]
    raise SystemExit(f"could not generate {count} numbers")


def plan_text(
    numbers: list[str], batch: int, rate: float, in_flight: int, poll_s: float, order_s: float = 10
) -> str:
    quoted = ",\n".join(f'"{n}"' for n in numbers)
    return (
        f'name = "bench"\naccount_id = "{ACCOUNT}"\nbatch_size = {batch}\n'
        f"[rate]\nrequests_per_s = {rate}\nmax_orders_in_flight = {in_flight}\n"
        f"poll_interval_s = {poll_s}\nexpected_order_s = {order_s}\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        'subscriber = { name = "Bench Inc.", house_number = "1", street_name = "Main", '
        'city = "Cary", state_code = "NC", zip = "27511" }\n'
        'loa_authorizing_person = "Jo Bench"\n'
        f"numbers = [\n{quoted}\n]\n"
    )


class Sandbox:
    """`bwmigrate sandbox` in a child process."""

    def __init__(self, rate: float, delay_s: float) -> None:
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orchestrator",
                "sandbox",
                "--port",
                "0",
                "--rate-limit",
                str(rate),
                "--order-delay-s",
                str(delay_s),
            ],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip().removesuffix("/api/v2")  # the root
        if not self.url.startswith("http"):
            self.log.seek(0)
            raise SystemExit(f"sandbox did not start: {self.log.read()[-2000:]}")

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sandbox/reset", timeout=10).raise_for_status()

    def ledger(self) -> dict[str, object]:
        return httpx.get(f"{self.url}/_sandbox/ledger", timeout=30).json()  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=15)
        self.log.close()


def run_engine(
    sb: Sandbox, text: str, state: Path, rate: float, in_flight: int, poll_s: float
) -> dict[str, float]:
    """Run the plan as `bwmigrate run --target` does (`Cutover`: engine, store, client, gate,
    audit log); return makespan and request-rate figures."""
    plan = compile_plan(parse_plan(text, "bench.toml"), lambda _n: b"")
    stamps: list[tuple[float, str, int | None]] = []

    def on_exchange(x: Exchange) -> None:
        stamps.append((time.monotonic(), x.method, x.status))

    tuning = Tuning(
        settings=EngineSettings(
            max_orders_in_flight=in_flight,
            poll_interval_s=poll_s,
            failure_threshold=FailureThreshold(100, 0),
            seed=1,
        ),
        rate_per_s=rate,
        observe=on_exchange,
    )
    with Cutover.open(plan, state, LiveTarget(f"{sb.url}/api/v2"), plan_text=text) as cutover:
        t0 = time.monotonic()  # the plan is stored: from here on, the run
        result = anyio.run(partial(cutover.run, AUTH, tuning=tuning))
        makespan = time.monotonic() - t0
    assert result.outcome == "done", result.message
    est = estimate(plan)
    counts = result.progress.steps[0]
    assert counts.succeeded == plan.valid_count, counts
    last_post = max(t for t, m, _ in stamps if m == "POST")
    steady = [t for t, _, _ in stamps if t0 + 10 <= t <= last_post]
    steady_rate = len(steady) / max(last_post - (t0 + 10), 1e-9) if steady else float("nan")
    late = [s for t, _, s in stamps if t >= t0 + 10]
    return {
        "makespan_s": makespan,
        "requests": len(stamps),
        "r429": sum(1 for _, _, s in stamps if s == 429),
        "late_requests": len(late),
        "late_429": sum(1 for s in late if s == 429),
        "steady_rate": steady_rate,
        "steady_window_s": last_post - (t0 + 10),
        "numbers": plan.valid_count,
        "orders": sum(len(s.orders) for s in plan.steps),
        "estimate_s": est.eta_s,
        "estimate_requests": est.api_calls,
        "former_estimate_s": former_estimate_s(plan),
    }


def former_estimate_s(plan: CompiledPlan) -> float:
    """What the dry run said before issue 12: every call at the rate (a create and 1 + order
    time / poll interval polls per order), plus one order time per wave."""
    rate = plan.spec.rate
    polls = 1 + math.ceil(rate.expected_order_s / rate.poll_interval_s)
    orders = sum(len(s.orders) for s in plan.steps)
    chained = sum(len(s.orders) for s in plan.steps if s.spec.enable_messaging)
    a2p = sum(len(s.orders) for s in plan.steps if asks_a2p(s.spec))
    held = any(
        len(s.orders) > 1 and canary_size(plan.spec, s.spec, len(s.numbers)) for s in plan.steps
    )
    waves = sum(1 for n in (orders, held, chained, a2p) if n)
    calls = (orders + chained + a2p) * (1 + polls)
    return calls / rate.requests_per_s + waves * rate.expected_order_s


def estimate_rows(
    sb: Sandbox, numbers: list[str], sizes: list[int], args: argparse.Namespace, folder: Path
) -> list[dict[str, float]]:
    """Run a plan of each size (sandbox reset before each); the engine's figures with the
    estimate's beside them."""
    rows = []
    for n in sizes:
        sb.reset()
        text = plan_text(
            numbers[:n], args.batch, args.rate, args.in_flight, args.poll_s, args.order_delay_s
        )
        rows.append(
            run_engine(sb, text, folder / f"est-{n}.db", args.rate, args.in_flight, args.poll_s)
        )
    return rows


def estimate_line(e: dict[str, float]) -> str:
    """One plan's estimate against its measured makespan and requests."""
    return (
        f"{e['numbers']:>7,.0f} numbers {e['orders']:>4.0f} orders: estimate "
        f"{e['estimate_s']:6.1f} s / measured {e['makespan_s']:6.1f} s = "
        f"{e['estimate_s'] / e['makespan_s']:.2f}x; requests {e['estimate_requests']:.0f} / "
        f"{e['requests']:.0f} = {e['estimate_requests'] / e['requests']:.2f}x; former formula "
        f"{e['former_estimate_s']:.1f} s = {e['former_estimate_s'] / e['makespan_s']:.2f}x"
    )


def run_baseline(sb: Sandbox, numbers: list[str], batch: int, orders: int) -> float:
    """Sequential POST + poll every 2 s for `orders` orders; return seconds per order."""
    base = f"{sb.url}/api/v2/accounts/{ACCOUNT}/importTnOrders/messaging"
    auth = (AUTH.username, AUTH.password)
    t0 = time.monotonic()
    with httpx.Client(auth=auth, timeout=30) as http:
        for i in range(orders):
            chunk = numbers[i * batch : (i + 1) * batch]
            body = build_import_order(
                body_form="ExternalTnsOrder",
                customer_order_id=f"naive-{i}",
                site_id="743",
                sip_peer_id="303716",
                loa_type="CARRIER",
                numbers=chunk,
            )
            r = http.post(base, content=body, headers={"Content-Type": "application/xml"})
            while r.status_code == 429:
                time.sleep(1)
                r = http.post(base, content=body, headers={"Content-Type": "application/xml"})
            r.raise_for_status()
            order_id = r.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
            while True:
                time.sleep(2)
                g = http.get(f"{base}/{order_id}")
                if g.status_code == 200 and any(
                    s in g.text for s in ("COMPLETE", "PARTIAL", "FAILED")
                ):
                    break
    return (time.monotonic() - t0) / orders


def checkpoint_rate(numbers: list[str], batch: int, folder: Path) -> tuple[float, float]:
    """Store alone: (insert numbers/s, number transitions/s) through every order's lifecycle."""
    text = plan_text(numbers, batch, 20, 10, 2)
    plan = compile_plan(parse_plan(text, "bench.toml"), lambda _n: b"")
    store = Store.open(folder / "checkpoint.db")
    t0 = time.perf_counter()
    store.initialize(plan, text, now=0.0)
    insert_s = time.perf_counter() - t0
    transitions = 0
    t0 = time.perf_counter()
    for order in store.orders(OrderState.PLANNED):
        store.mark_submitting(order.id, 1.0)
        store.mark_submitted(order.id, f"id-{order.id}", "RECEIVED", 2.0)
        nums = store.order_numbers(order.id)
        failures = [FailedNumber(n, "19006", "no") for n in nums[::100]]
        store.record_outcome(order.id, "PARTIAL", failures, None, [], 3.0)
        transitions += 2 * len(nums)  # pending->in_order, in_order->succeeded/failed
    rate = transitions / (time.perf_counter() - t0)
    store.close()
    return len(numbers) / insert_s, rate


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--numbers", type=int, default=100_000)
    p.add_argument("--rate", type=float, default=20.0, help="sandbox limit = engine rate (req/s)")
    p.add_argument("--order-delay-s", type=float, default=4.0)
    p.add_argument("--batch", type=int, default=250)
    p.add_argument("--in-flight", type=int, default=64)
    p.add_argument("--poll-s", type=float, default=2.0)
    p.add_argument("--baseline-orders", type=int, default=15)
    p.add_argument(
        "--estimate-sizes",
        default="10,100,1000",
        help="plan sizes (numbers, comma-separated) whose estimate is checked beside the big one",
    )
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    args = p.parse_args()
    machine_line = machine()
    sizes = [int(n) for n in args.estimate_sizes.split(",") if n.strip()]
    numbers = valid_numbers(max([args.numbers, *sizes]))
    sb = Sandbox(args.rate, args.order_delay_s)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            text = plan_text(
                numbers[: args.numbers], args.batch, args.rate, args.in_flight, args.poll_s,
                args.order_delay_s,
            )  # fmt: skip
            eng = run_engine(sb, text, folder / "state.db", args.rate, args.in_flight, args.poll_s)
            ledger = sb.ledger()
            small = estimate_rows(sb, numbers, sizes, args, folder)
            sb.reset()
            per_order = run_baseline(sb, numbers, args.batch, args.baseline_orders)
            insert_rate, transition_rate = checkpoint_rate(numbers[: args.numbers], 1000, folder)
    finally:
        sb.stop()
    orders = int(eng["orders"])
    baseline = per_order * orders
    print(
        f"machine: {os.cpu_count()} cores; numbers {eng['numbers']:,.0f} in {orders} orders "
        f"of {args.batch}; limit {args.rate:g} req/s; order delay {args.order_delay_s:g} s; "
        f"in flight {args.in_flight}"
    )
    print(
        f"engine:   makespan {eng['makespan_s']:.1f} s, {eng['numbers'] / eng['makespan_s']:,.0f}"
        f" numbers/s, requests {eng['requests']:.0f}, 429s {eng['r429']:.0f} "
        f"({eng['late_429']:.0f} of {eng['late_requests']:.0f} after 10 s = "
        f"{100 * eng['late_429'] / max(eng['late_requests'], 1):.2f}%)"
    )
    print(
        f"          steady state ({eng['steady_window_s']:.0f} s): {eng['steady_rate']:.2f} req/s"
        f" = {100 * eng['steady_rate'] / args.rate:.1f}% of the limit; sandbox saw max "
        f"{ledger['max_requests_in_any_1s_window']} requests in any 1 s"
    )
    print(
        f"baseline: {per_order:.2f} s per order (measured on {args.baseline_orders} orders), "
        f"extrapolated makespan {baseline:,.0f} s for {orders} orders"
    )
    print(f"ratio baseline/engine makespan: {baseline / eng['makespan_s']:.1f}x")
    print(
        f"checkpoint: insert {insert_rate:,.0f} numbers/s; {transition_rate:,.0f} number "
        "transitions/s (submitting, submitted, outcome with 1% failed, order by order)"
    )
    print("estimate vs measured (expected_order_s = the sandbox's order delay):")
    for e in [*small, eng]:
        print(f"  {estimate_line(e)}")
    late_pct = 100 * eng["late_429"] / max(eng["late_requests"], 1)
    figures = [
        ("numbers / orders", f"{eng['numbers']:,.0f} in {orders} orders of {args.batch}"),
        (
            "limit / order delay / in flight",
            f"{args.rate:g} req/s / {args.order_delay_s:g} s / {args.in_flight}",
        ),
        (
            "engine makespan",
            f"{eng['makespan_s']:.1f} s ({eng['numbers'] / eng['makespan_s']:,.0f} numbers/s)",
        ),
        (
            "requests / 429s",
            f"{eng['requests']:.0f} / {eng['r429']:.0f} "
            f"({late_pct:.2f}% of requests after the first 10 s)",
        ),
        (
            "steady-state request rate",
            f"{eng['steady_rate']:.2f} req/s = "
            f"{100 * eng['steady_rate'] / args.rate:.1f}% of the limit",
        ),
        (
            "baseline (sequential, poll every 2 s)",
            f"{per_order:.2f} s per order over {args.baseline_orders} orders; "
            f"{baseline:,.0f} s extrapolated",
        ),
        ("ratio baseline / engine makespan", f"{baseline / eng['makespan_s']:.1f}x"),
        (
            "checkpoint",
            f"insert {insert_rate:,.0f} numbers/s; {transition_rate:,.0f} number transitions/s",
        ),
        *(
            (
                f"estimate / measured, {e['numbers']:,.0f} numbers ({e['orders']:.0f} orders)",
                f"{e['estimate_s']:.1f} s / {e['makespan_s']:.1f} s = "
                f"{e['estimate_s'] / e['makespan_s']:.2f}x; requests "
                f"{e['estimate_requests']:.0f} / {e['requests']:.0f}; former formula "
                f"{e['former_estimate_s'] / e['makespan_s']:.2f}x",
            )
            for e in [*small, eng]
        ),
    ]
    if not args.no_docs:
        block = figures_block(command_line(), figures, machine_line=machine_line)
        print(f"wrote {write_section('PERFORMANCE.md', 'cutover', block)}")


if __name__ == "__main__":
    main()
