"""Benchmark: what the audit log costs the event loop, per API exchange.

    python bench/audit_bench.py                  # 20000 exchanges, orders of 1000 numbers
    python bench/audit_bench.py --exchanges 5000 --numbers 5000

The exchanges are realistic: one in ten is an order POST carrying `--numbers` numbers (201
answer), the rest are polls of that order (a GET whose answer lists the same numbers, as the
v2 API's order GET does, with a few per-number errors on the terminal one). Printed, per
exchange, on the thread that calls the client's `on_exchange` hook (the event loop):

- baseline: a hook that only appends the exchange to a list;
- queued:   `AuditLog.record` (stamp the time, put on a queue; a writer thread does the rest);
- inline:   doing the writer's work in the hook (read numbers and codes, format, write);
- each as a ratio to the baseline, plus the writer thread's throughput (exchanges/s to disk)
  and the log's bytes per exchange.

`queued` is what `run` uses; `inline` is what it would cost the event loop not to.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from orchestrator.audit import AuditLog, audit_segments, exchange_fields
from orchestrator.client import Exchange


def exchanges(count: int, numbers: int) -> list[Exchange]:
    """`count` exchanges: every tenth an order POST, the others polls of it."""
    tns = [f"+1919{i:07d}" for i in range(numbers)]
    listed = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in tns)
    post_body = (
        f"<ImportTnOrder><CustomerOrderId>bench</CustomerOrderId><SiteId>743</SiteId>"
        f"<TelephoneNumbers>{listed}</TelephoneNumbers></ImportTnOrder>"
    ).encode()
    answer = (
        "<ImportTnOrderResponse><ImportTnOrder><OrderId>abc</OrderId>"
        "<ProcessingStatus>{status}</ProcessingStatus>"
        f"<TelephoneNumbers>{listed}</TelephoneNumbers>{{errors}}"
        "</ImportTnOrder></ImportTnOrderResponse>"
    )
    errors = (
        "<Errors><Error><Code>19006</Code><Description>Bandwidth numbers.</Description>"
        f"<TelephoneNumbers><TelephoneNumber>{tns[0]}</TelephoneNumber></TelephoneNumbers>"
        "</Error></Errors>"
    )
    created = answer.format(status="RECEIVED", errors="<Errors/>").encode()
    polled = answer.format(status="PROCESSING", errors="<Errors/>").encode()
    done = answer.format(status="PARTIAL", errors=errors).encode()
    path = "/api/v2/accounts/9900012/importTnOrders/messaging"
    out: list[Exchange] = []
    for i in range(count):
        if i % 10 == 0:
            out.append(
                Exchange("POST", path, 201, None, 0.01, f"bench-{i}", "abc", post_body, created)
            )
        else:
            body = done if i % 10 == 9 else polled
            out.append(Exchange("GET", f"{path}/abc", 200, None, 0.005, None, "abc", None, body))
    return out


def per_call_us(items: list[Exchange], call: Callable[[Exchange], object]) -> float:
    """Microseconds per call of `call` over every exchange."""
    started = time.perf_counter()
    for x in items:
        call(x)
    return (time.perf_counter() - started) / len(items) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=20000)
    parser.add_argument("--numbers", type=int, default=1000)
    args = parser.parse_args()
    items = exchanges(args.exchanges, args.numbers)

    sink: list[Exchange] = []
    baseline = per_call_us(items, sink.append)

    with tempfile.TemporaryDirectory() as tmp:
        log = AuditLog(Path(tmp) / "q.jsonl")
        queued = per_call_us(items, log.record)
        started = time.perf_counter()
        summary = log.close()
        drain_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in audit_segments(summary.path))

        with (Path(tmp) / "i.jsonl").open("w", encoding="utf-8") as fh:

            def inline(x: Exchange) -> None:
                fh.write(json.dumps(exchange_fields(x), separators=(",", ":")) + "\n")
                fh.flush()

            inline_us = per_call_us(items, inline)

    print(f"{args.exchanges} exchanges, orders of {args.numbers} numbers")
    print(f"baseline  {baseline:8.2f} us per exchange on the event loop")
    print(f"queued    {queued:8.2f} us  ({queued / baseline:6.1f}x baseline)   <- run uses this")
    print(f"inline    {inline_us:8.2f} us  ({inline_us / baseline:6.1f}x baseline)")
    print(f"inline / queued: {inline_us / queued:.0f}x")
    print(
        f"writer: {args.exchanges / (drain_s + queued * args.exchanges / 1e6):.0f} exchanges/s "
        f"to disk; {size / args.exchanges:.0f} bytes per exchange"
    )


if __name__ == "__main__":
    main()
