"""Benchmark: what the sandbox sustains, so it is never the bottleneck of the engine's benches.

    python bench/sandbox_bench.py                  # 2000 creates, 4000 GETs, 100k-order index
    python bench/sandbox_bench.py --creates 500 --gets 1000 --orders 20000   # quicker

The sandbox runs as `bwmigrate sandbox --port 0` in a child process (its own interpreter, as
in a rehearsal); this process drives it over keep-alive HTTP from `--concurrency` threads.
Printed, in one run:

- baseline: GET /_sandbox/health (no auth, no XML): the HTTP floor of this machine;
- creates/s: POST importTnOrders/messaging (1 number each, Basic auth, 201 + XML);
- GETs/s:    GET importTnOrders/messaging/{id} and GET ...?customerOrderId=... (half each);
- each as a ratio to the baseline;
- index: in-process `list_orders(customerOrderId=...)` time with --orders orders in the state,
  as a ratio to the same lookup with 1,000 orders (about 1.0 means O(1), not a scan).

Target (issue 3): at least 500 GET/s on this machine. The figures also go to the `sandbox`
section of docs/PERFORMANCE.md (`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from _docs import command_line, figures_block, machine, write_section

from orchestrator.sandbox.clock import ManualClock
from orchestrator.sandbox.config import SandboxConfig
from orchestrator.sandbox.model import ApiVersion, ImportRequest, OrderKind
from orchestrator.sandbox.orders import OrderFilter
from orchestrator.sandbox.state import SandboxState

ACCOUNT_PATH = "/api/v2/accounts/9900012"
AUTH = ("sandbox", "sandbox")


def body(i: int) -> str:
    return (
        f"<ExternalTnsOrder><CustomerOrderId>bench-{i}</CustomerOrderId><SiteId>743</SiteId>"
        f"<LoaType>CARRIER</LoaType><TelephoneNumbers><TelephoneNumber>+1919{i:07d}"
        "</TelephoneNumber></TelephoneNumbers></ExternalTnsOrder>"
    )


def drive(url: str, count: int, workers: int, call: Callable[[httpx.Client, int], None]) -> float:
    """Run `call(client, i)` for i in range(count) on `workers` threads (one keep-alive client
    each); return calls per second. Sync clients: httpx's async client costs more CPU than the
    sandbox does, and this machine has two cores."""
    local = threading.local()

    def run(i: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, auth=AUTH, timeout=30)
        call(client, i)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(min(count, 50))))  # connect and warm up
        start = time.perf_counter()
        list(pool.map(run, range(count)))
        return count / (time.perf_counter() - start)


def http_bench(url: str, creates: int, gets: int, workers: int) -> dict[str, float]:
    ids: list[str] = []

    def health(client: httpx.Client, _: int) -> None:
        client.get("/_sandbox/health").raise_for_status()

    def create(client: httpx.Client, i: int) -> None:
        r = client.post(f"{ACCOUNT_PATH}/importTnOrders/messaging", content=body(i))
        assert r.status_code == 201, r.text
        ids.append(r.headers["location"].rsplit("/", 1)[1])

    def get(client: httpx.Client, i: int) -> None:
        if i % 2:
            r = client.get(f"{ACCOUNT_PATH}/importTnOrders/messaging/{ids[i % len(ids)]}")
        else:
            r = client.get(
                f"{ACCOUNT_PATH}/importTnOrders/messaging",
                params={"customerOrderId": f"bench-{i % len(ids)}"},
            )
        assert r.status_code == 200, r.text

    baseline = drive(url, gets, workers, health)
    created = drive(url, creates, workers, create)
    return {"baseline": baseline, "creates": created, "gets": drive(url, gets, workers, get)}


def index_ratio(orders: int) -> tuple[float, float]:
    """Seconds per customerOrderId lookup with 1,000 orders and with `orders` orders."""
    state = SandboxState(SandboxConfig(order_delay_s=0.0), ManualClock())

    def fill(upto: int, start: int) -> None:
        for i in range(start, upto):
            req = ImportRequest(
                root="ExternalTnsOrder",
                numbers=(f"+1919{i:07d}",),
                customer_order_id=f"bench-{i}",
                site_id="743",
            )
            state.create_import("9900012", req, ApiVersion.V2, "bench")

    def lookup_s() -> float:
        start = time.perf_counter()
        for i in range(1000):
            state.list_orders(
                (OrderKind.IMPORT,),
                "9900012",
                OrderFilter(customer_order_id=f"bench-{i * 7 % 1000}"),
            )
        return (time.perf_counter() - start) / 1000

    fill(1000, 0)
    small = lookup_s()
    fill(orders, 1000)
    return small, lookup_s()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--gets", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=2, help="client threads")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    args = parser.parse_args()
    machine_line = machine()  # before the sandbox loads the machine

    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "sandbox", "--port", "0", "--order-delay-s", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().removesuffix("/api/v2")  # the root
        rates = http_bench(url, args.creates, args.gets, args.concurrency)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    base = rates["baseline"]
    print(f"sandbox at {url} (child process); {args.concurrency} client threads, keep-alive")
    print(f"baseline GET /_sandbox/health: {base:8.0f} req/s")
    print(
        f"creates (POST import, 201):    {rates['creates']:8.0f} req/s "
        f"({rates['creates'] / base:.2f} x baseline)"
    )
    print(
        f"GETs (order by id / by coid):  {rates['gets']:8.0f} req/s "
        f"({rates['gets'] / base:.2f} x baseline)"
    )
    small, large = index_ratio(args.orders)
    print(
        f"customerOrderId lookup: {small * 1e6:.1f} us at 1,000 orders, {large * 1e6:.1f} us "
        f"at {args.orders:,} orders (ratio {large / small:.2f})"
    )
    if not args.no_docs:
        figures = [
            ("client", f"{args.concurrency} threads, keep-alive, sandbox in a child process"),
            ("baseline `GET /_sandbox/health`", f"{base:,.0f} req/s"),
            (
                "creates (POST import, 201)",
                f"{rates['creates']:,.0f} req/s ({rates['creates'] / base:.2f}x baseline)",
            ),
            (
                "GETs (order by id / by customerOrderId)",
                f"{rates['gets']:,.0f} req/s ({rates['gets'] / base:.2f}x baseline)",
            ),
            (
                "customerOrderId lookup (in process)",
                f"{small * 1e6:.1f} us at 1,000 orders, {large * 1e6:.1f} us at "
                f"{args.orders:,} (ratio {large / small:.2f})",
            ),
        ]
        block = figures_block(command_line(), figures, machine_line=machine_line)
        print(f"wrote {write_section('PERFORMANCE.md', 'sandbox', block)}")


if __name__ == "__main__":
    main()
