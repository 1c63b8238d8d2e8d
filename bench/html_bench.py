"""Benchmark: `bwmigrate report --html` for a 100,000-number cutover, and the page in Chromium.

    python bench/html_bench.py                      # 100,000 numbers
    python bench/html_bench.py --numbers 20000      # quicker
    python bench/html_bench.py --keep DIR           # keep the state file and the report in DIR

The state file is made as a run makes it, without the network: the plan stored by the store,
every order taken through submitting -> submitted -> done over an hour (1% of the numbers
failed with 19006), one run recorded, and an audit log of one create and a few polls per order
(a 429 now and then). Then `report --html` runs as a subprocess and the page is opened in
Debian's Chromium (tests/e2e/browser.py): the time to the first page of the table, and of a
search over every row. The baseline is the same figures for `report --format json` (the file
the HTML embeds, in another form) and for an empty search.

Printed: the HTML's size (and gzipped), the JSON report's size, time to write each, time to
the first table page in Chromium, search time. Also written to the `html` section of
docs/PERFORMANCE.md (`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _docs import command_line, figures_block, machine, write_section
from cutover_bench import plan_text, valid_numbers

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from browser import chromium, cli  # noqa: E402

from orchestrator.plan import compile_plan, parse_plan  # noqa: E402
from orchestrator.state.store import FailedNumber, OrderState, Store  # noqa: E402

T0 = 1_796_000_000.0  # a fixed start, 2026-11-30
HOUR_S = 3600.0


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts % 1 * 1000):03d}Z"


def make_state(numbers: list[str], batch: int, folder: Path) -> Path:
    """A finished 100k-number state file and its audit log, spread over an hour."""
    text = plan_text(numbers, batch, 20, 10, 2)
    plan = compile_plan(parse_plan(text, "bench.toml"), lambda _n: b"")
    state = folder / "bench.db"
    store = Store.open(state)
    store.initialize(plan, text, now=T0, facts={"target": "https://api.example.com/api/v2"})
    run = store.start_run(pid=1, target="https://api.example.com/api/v2", now=T0)
    orders = store.orders(OrderState.PLANNED)
    lines = []
    for i, order in enumerate(orders):
        sent = T0 + HOUR_S * i / len(orders)
        store.mark_submitting(order.id, sent)
        store.mark_submitted(order.id, f"order-{order.id:06d}", "RECEIVED", sent + 0.3)
        nums = store.order_numbers(order.id)
        failures = [
            FailedNumber(n, "19006", "Bandwidth numbers cannot be imported") for n in nums[::100]
        ]
        store.record_outcome(order.id, "PARTIAL", failures, None, [], sent + 12.0)
        lines.append(
            {
                "type": "exchange",
                "at": _iso(sent),
                "seq": len(lines),
                "method": "POST",
                "path": "importTnOrders",
                "status": 201,
                "run": run,
            }
        )
        for k in range(1, 6):
            lines.append(
                {
                    "type": "exchange",
                    "at": _iso(sent + 2.0 * k),
                    "seq": len(lines),
                    "method": "GET",
                    "path": "importTnOrders/x",
                    "status": 429 if (i + k) % 97 == 0 else 200,
                    "run": run,
                }
            )
    store.end_run(
        run, exit_code=1, requests=len(lines), rate_limited=0, retried=0, now=T0 + HOUR_S + 15
    )
    store.close()
    lines.sort(key=lambda x: x["at"])
    audit = state.with_name(state.name + ".audit.jsonl")
    audit.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return state


def timed(args: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t


def browse(html: Path, profile: Path) -> tuple[float, float, float]:
    """(s to the first table page, s to search all rows, s to clear the search) in Chromium."""
    with chromium(profile) as context:
        page = context.new_page()
        t = time.perf_counter()
        page.goto(html.as_uri(), timeout=120_000)
        page.wait_for_selector("#rows tr", timeout=120_000)
        loaded = time.perf_counter() - t
        t = time.perf_counter()
        page.fill("#q", "19006")
        page.wait_for_function(
            "() => document.getElementById('page-info').textContent.includes('filtered')",
            timeout=120_000,
        )
        search = time.perf_counter() - t
        t = time.perf_counter()
        page.fill("#q", "")
        page.wait_for_function(
            "() => !document.getElementById('page-info').textContent.includes('filtered')",
            timeout=120_000,
        )
        clear = time.perf_counter() - t
        page.screenshot(path=html.with_suffix(".png"))
    return loaded, search, clear


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--numbers", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=250)
    p.add_argument("--keep", type=Path, help="keep the state file and reports in this folder")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp()) if args.keep is None else args.keep
    folder.mkdir(parents=True, exist_ok=True)
    try:
        state = make_state(valid_numbers(args.numbers), args.batch, folder)
        html, js = folder / "report.html", folder / "report.json"
        html_s = timed(cli("report", "--state", str(state), "--html", str(html)), folder)
        json_s = timed(
            cli("report", "--state", str(state), "--format", "json", "--out", str(js)), folder
        )
        loaded, search, clear = browse(html, folder / "profile")
        size, zipped = html.stat().st_size, len(gzip.compress(html.read_bytes()))
        figures = [
            ("numbers", f"{args.numbers:,} in orders of {args.batch}"),
            ("report --html size", f"{size / 1e6:.1f} MB ({zipped / 1e6:.1f} MB gzipped)"),
            ("report --html time", f"{html_s:.1f} s"),
            (
                "report --format json (baseline)",
                f"{js.stat().st_size / 1e6:.1f} MB in "
                f"{json_s:.1f} s (HTML/JSON size {size / js.stat().st_size:.2f}, "
                f"time {html_s / json_s:.2f})",
            ),
            ("Chromium: first table page", f"{loaded:.2f} s after opening"),
            ("Chromium: search over every row", f"{search:.2f} s (clearing it {clear:.2f} s)"),
        ]
        print("\n".join(f"{k}: {v}" for k, v in figures))
        if not args.no_docs:
            body = figures_block(command_line(), figures, machine_line=machine())
            print(f"written to {write_section('PERFORMANCE.md', 'html', body)}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
