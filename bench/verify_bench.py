"""Benchmark: snapshot and verify of a 100,000-number plan against a rate-limited sandbox, the
in-service pages beside per-number reads, in one run.

    python bench/verify_bench.py                     # 100,000 numbers, 20 req/s
    python bench/verify_bench.py --numbers 20000     # quicker

In one run, against one `bwmigrate sandbox --rate-limit R` process whose account already holds
`--others` numbers of its own on the plan's site (so the pages carry numbers the plan does not
name):

- snapshot: `bwmigrate snapshot`'s library call (`cutover.readback.snapshot_plan`) on a plan
  importing `--numbers` external numbers into site 743 (on the account or not, and the site: the
  fields the pages cover);
- the run itself (`Cutover`, batches of 5,000, not timed here: bench/cutover_bench.py measures
  the engine), which finds the snapshot taken;
- verify: `bwmigrate verify`'s library call (`cutover.readback.verify_state`): the account's and
  the site's in-service pages;
- per number: tndetails for `--sample` of the planned numbers through the same kind of gate,
  the way a verify reads fields the pages do not cover; time and requests extrapolated linearly
  to every planned number (printed as such).

Printed (and written to the `verify` section of docs/PERFORMANCE.md unless `--no-docs`):
requests per number, time, and time over the rate-limit floor (requests / limit) of each.
Target (issue 14): at most 0.1 requests per number for the fields the pages cover.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from functools import partial
from pathlib import Path

import anyio
import httpx
from _docs import command_line, figures_block, machine, write_section
from cutover_bench import AUTH, Sandbox, valid_numbers

from orchestrator.cutover.before_after import BeforeAfter
from orchestrator.cutover.connection import ApiAccess, open_api
from orchestrator.cutover.cutover import Cutover, LiveTarget, Tuning
from orchestrator.cutover.engine import EngineSettings
from orchestrator.cutover.readback import snapshot_plan, verify_state
from orchestrator.cutover.reading import NumberReader
from orchestrator.plan import FailureThreshold, compile_plan, parse_plan

ACCOUNT = "9900012"
OTHERS_FROM = "+13125550000"  # the account's own numbers (not in the plan)


def plan_text(numbers: list[str], rate: float) -> str:
    quoted = ",\n".join(f'"{n}"' for n in numbers)
    return (
        f'name = "verify-bench"\naccount_id = "{ACCOUNT}"\nbatch_size = 5000\ncanary = 0\n'
        f"[rate]\nrequests_per_s = {rate}\nmax_orders_in_flight = 20\npoll_interval_s = 1\n"
        "expected_order_s = 1\n"
        '[[steps]]\nkind = "import"\nname = "move"\nsite_id = "743"\n'
        'subscriber = { name = "Bench Inc.", house_number = "1", street_name = "Main", '
        'city = "Cary", state_code = "NC", zip = "27511" }\n'
        'loa_authorizing_person = "Jo Bench"\n'
        f"numbers = [\n{quoted}\n]\n"
    )


def run_cutover(url: str, text: str, state: Path, rate: float) -> None:
    """The run between snapshot and verify (its snapshot is already taken)."""
    plan = compile_plan(parse_plan(text, "bench.toml"), lambda _n: b"")
    tuning = Tuning(
        settings=EngineSettings(
            max_orders_in_flight=20, poll_interval_s=1.0,
            failure_threshold=FailureThreshold(100, 0), seed=1,
        ),
        rate_per_s=rate,
    )  # fmt: skip
    with Cutover.open(plan, state, LiveTarget(url), plan_text=text) as cutover:
        cutover.checks = BeforeAfter(snapshot=True)
        result = anyio.run(partial(cutover.run, AUTH, tuning=tuning))
    assert result.outcome == "done", result.message
    assert cutover.checks.snapshotted is None, "the snapshot should have been taken already"


async def per_number(url: str, numbers: list[str], rate: float) -> tuple[float, int]:
    """tndetails for each number through a gate at `rate`: (seconds, requests)."""
    async with open_api(ApiAccess(url, AUTH), ACCOUNT, rate_per_s=rate) as api:
        reader = NumberReader(api.client, api.gate, ACCOUNT)
        t0 = time.monotonic()
        states, unreadable = await reader.details(numbers)
        elapsed = time.monotonic() - t0
    assert not unreadable and len(states) == len(numbers), unreadable
    return elapsed, reader.counters.details


def page_answer_s(url: str) -> float:
    """How long the sandbox takes to answer one 2,500-number page of site 743 (median of 3,
    spaced under the limit): the sandbox's own cost per page, which pages cannot overlap
    (each names the next)."""
    times = []
    for _ in range(3):
        time.sleep(0.2)
        t0 = time.monotonic()
        r = httpx.get(f"{url}/accounts/{ACCOUNT}/sites/743/inserviceNumbers",
                      params={"page": "2", "size": "2500"}, auth=("sandbox", "sandbox"),
                      timeout=60)  # fmt: skip
        times.append(time.monotonic() - t0)
        r.raise_for_status()
    return sorted(times)[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--numbers", type=int, default=100_000)
    ap.add_argument("--others", type=int, default=100_000, help="the account's own numbers")
    ap.add_argument("--rate", type=float, default=20.0, help="the sandbox's and the plan's limit")
    ap.add_argument("--sample", type=int, default=400, help="numbers read one by one")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    numbers = valid_numbers(args.numbers)
    sb = Sandbox(args.rate, 1.0)
    try:
        seed = {"numbers": [{"number": OTHERS_FROM, "count": args.others}]}
        httpx.post(f"{sb.url}/_sandbox/seed", json=seed, timeout=120).raise_for_status()
        url = f"{sb.url}/api/v2"
        access = ApiAccess(url, AUTH)
        text = plan_text(numbers, args.rate)
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp) / "bench.db"
            plan = compile_plan(parse_plan(text, "bench.toml"), lambda _n: b"")
            with Cutover.open(plan, state, LiveTarget(url), plan_text=text):
                pass  # the plan stored, as `bwmigrate snapshot` does
            t0 = time.monotonic()
            snap = anyio.run(partial(snapshot_plan, state, access))
            snap_s = time.monotonic() - t0
            assert snap.complete and snap.by_pages == args.numbers, snap.as_json()
            run_cutover(url, text, state, args.rate)
            t0 = time.monotonic()
            ver = anyio.run(partial(verify_state, state, access))
            ver_s = time.monotonic() - t0
            assert ver.matched == args.numbers and not ver.drift, ver.as_json()["numbers"]
        sample = numbers[: args.sample]
        one_s, one_requests = anyio.run(per_number, url, sample, args.rate)
        page_s = page_answer_s(url)
    finally:
        sb.stop()
    figures = report(args, snap_s, snap.requests, ver_s, ver.pages + ver.details,
                     one_s, one_requests)  # fmt: skip
    figures.append(("sandbox answer time of one 2,500-number page (median of 3)",
                    f"{page_s:.3f} s"))  # fmt: skip
    for k, v in figures:
        print(f"{k}: {v}")
    if not args.no_docs:
        write_section("PERFORMANCE.md", "verify",
                      figures_block(command_line(), figures, machine_line=machine()))  # fmt: skip


def report(
    args: argparse.Namespace,
    snap_s: float, snap_requests: int, ver_s: float, ver_requests: int,
    one_s: float, one_requests: int,
) -> list[tuple[str, str]]:  # fmt: skip
    n, rate = args.numbers, args.rate

    def floor(requests: int) -> float:
        return requests / rate

    def line(seconds: float, requests: int) -> str:
        return (
            f"{requests:,} requests = {requests / n:.4f} per number; {seconds:.1f} s = "
            f"{seconds / max(floor(requests), 1e-9):.2f}x the floor ({floor(requests):.1f} s)"
        )

    per_s = one_s / args.sample
    extrapolated = per_s * n
    return [
        ("planned numbers / account's own numbers", f"{n:,} / {args.others:,} (site 743)"),
        ("rate limit", f"{rate:g} req/s (sandbox and plan)"),
        ("snapshot (pages: on the account)", line(snap_s, snap_requests)),
        (
            "verify (pages: the site's, which hold the account's numbers too)",
            line(ver_s, ver_requests),
        ),
        (
            f"per-number reads (tndetails), {args.sample} numbers",
            f"{one_requests} requests = {one_requests / args.sample:.2f} per number; "
            f"{one_s:.1f} s = {one_s / floor(one_requests):.2f}x the floor",
        ),
        (
            "per-number reads extrapolated to every planned number",
            f"{n:,} requests, {extrapolated:,.0f} s",
        ),
        (
            "pages vs per-number, verify",
            f"{ver_requests / n:.4f} vs 1.0 requests per number; "
            f"{extrapolated / max(ver_s, 1e-9):,.0f}x faster",
        ),
    ]


if __name__ == "__main__":
    main()
