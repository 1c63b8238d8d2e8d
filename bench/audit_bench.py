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

    python bench/audit_bench.py --cutover 20000 --batch 100

adds a whole cutover (engine + in-process sandbox, unpaced, SMS chained) with and without the
audit log, `--repeats` times each, interleaved: the ratio of the median wall times. The writer
thread still shares the GIL, so this is where its CPU shows. The figures also go to the `audit`
section of docs/PERFORMANCE.md (`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _docs import command_line, figures_block, machine, write_section

from orchestrator.api.client import Exchange
from orchestrator.state.audit import AuditLog, audit_segments, exchange_fields


def exchanges(count: int, numbers: int) -> list[Exchange]:
    """`count` exchanges: every tenth an order POST, the others polls of it."""
    tns = [f"+1919{2000000 + i:07d}" for i in range(numbers)]
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


def cutover_s(numbers: int, batch: int, audit: bool, sandbox: Any) -> float:
    """Wall time of one unpaced cutover of `numbers` imports against the running sandbox: the
    engine on `open_api`'s client and gate, with or without the audit log on its hook."""
    import anyio

    from orchestrator.api.client import BasicCredentials
    from orchestrator.cutover.connection import ApiAccess, open_api, open_audit
    from orchestrator.cutover.engine import Engine, EngineSettings
    from orchestrator.plan import FailureThreshold, compile_plan, parse_plan
    from orchestrator.state.store import Store

    listed = ",".join(f'"+1919{2000000 + i:07d}"' for i in range(numbers))
    text = (
        f'name = "bench"\naccount_id = "9900012"\nbatch_size = {batch}\n[[steps]]\n'
        f'kind = "import"\nsite_id = "743"\nenable_messaging = true\nnumbers = [{listed}]\n'
        'subscriber = { name = "Bench Inc.", house_number = "1", street_name = "Main", '
        'city = "Cary", state_code = "NC", zip = "27511" }\n'
        'loa_authorizing_person = "Jo Bench"\n'
    )
    plan = compile_plan(parse_plan(text, "bench.toml"), lambda name: b"")
    sandbox.reset()
    access = ApiAccess(
        f"{sandbox.base_url}/api/v2", BasicCredentials("sandbox", "sandbox"), public=True
    )
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        store = Store.open(Path(tmp) / "s.db")
        stack.callback(store.close)
        store.initialize(plan, text, 0.0)
        settings = EngineSettings(
            max_orders_in_flight=8,
            poll_interval_s=0.01,
            poll_cap_s=0.02,
            failure_threshold=FailureThreshold(100.0, 0),
        )
        log = None
        if audit:
            path = Path(tmp) / "s.db.audit.jsonl"
            log = stack.enter_context(open_audit(path, access, context={}, session={}))

        async def run() -> str:
            async with open_api(access, "9900012", rate_per_s=1000.0, audit=log) as api:
                return (await Engine(store, api.client, api.gate, settings).run()).reason

        started = time.perf_counter()
        reason = anyio.run(run)
        if log is not None:
            log.close()
        elapsed = time.perf_counter() - started
    assert reason == "done", reason
    return elapsed


def cutover_ratio(numbers: int, batch: int, repeats: int) -> list[tuple[str, str]]:
    """Print the median cutover time with and without the audit log, and their ratio; return
    them as figures."""
    from orchestrator.sandbox import SandboxConfig, run_sandbox

    times: dict[bool, list[float]] = {False: [], True: []}
    with run_sandbox(SandboxConfig(order_delay_s=0.05)) as sandbox:
        for _ in range(repeats):
            for audit in (False, True):
                times[audit].append(cutover_s(numbers, batch, audit, sandbox))
        requests = sandbox.app.ledger.to_json()["requests"]["total"]
    plain, audited = (statistics.median(times[a]) for a in (False, True))
    print(f"cutover of {numbers} numbers in orders of {batch} ({requests} requests):")
    print(f"without audit {plain:6.2f} s, with audit {audited:6.2f} s: {audited / plain:.3f}x")
    return [
        (
            "whole cutover (unpaced, in-process sandbox)",
            f"{numbers:,} numbers in orders of {batch}, {requests:,} requests; median of {repeats}",
        ),
        ("cutover without / with audit", f"{plain:.2f} s / {audited:.2f} s"),
        ("ratio with / without audit (cutover)", f"{audited / plain:.3f}x"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchanges", type=int, default=20000)
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument("--cutover", type=int, default=0, help="also a whole cutover (numbers)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    args = parser.parse_args()
    machine_line = machine()  # before the run: the load average is the machine's, not ours
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
    writer_rate = args.exchanges / (drain_s + queued * args.exchanges / 1e6)
    print(
        f"writer: {writer_rate:.0f} exchanges/s to disk; "
        f"{size / args.exchanges:.0f} bytes per exchange"
    )
    figures = [
        ("exchanges", f"{args.exchanges:,} (orders of {args.numbers:,} numbers)"),
        ("baseline hook (append to a list)", f"{baseline:.2f} us per exchange"),
        (
            "queued `AuditLog.record` (what `run` uses)",
            f"{queued:.2f} us ({queued / baseline:.1f}x baseline)",
        ),
        (
            "inline (the writer's work in the hook)",
            f"{inline_us:.2f} us ({inline_us / baseline:.1f}x baseline)",
        ),
        ("inline / queued", f"{inline_us / queued:.0f}x"),
        (
            "writer thread",
            f"{writer_rate:,.0f} exchanges/s to disk; "
            f"{size / args.exchanges:,.0f} bytes per exchange",
        ),
    ]
    if args.cutover:
        figures += cutover_ratio(args.cutover, args.batch, args.repeats)
    if not args.no_docs:
        block = figures_block(command_line(), figures, machine_line=machine_line)
        print(f"wrote {write_section('PERFORMANCE.md', 'audit', block)}")


if __name__ == "__main__":
    main()
