"""Benchmark: `normalize_numbers` against the naive phonenumbers loop, in the same run.

    python bench/numbers_bench.py                 # 1,000,000 numbers
    python bench/numbers_bench.py --count 100000  # quicker

Generates numbers in mixed real-world formats from a seeded RNG (mostly valid North American
numbers in the formats customers export, some international, about 1% junk), then times:

- bulk:  orchestrator.plan.numbers.normalize_numbers(raws, "USA")
- naive: phonenumbers.parse + is_valid_number + format_number(E164), one number at a time

and prints numbers/s for both, their ratio, peak RSS, and how the two answers differ (the naive
loop accepts vanity numbers and extensions that bulk rejects on purpose). `--verify N` also runs
the reference `normalize_number` on N random items and checks bulk agrees with it exactly.
The figures also go to the `numbers` section of docs/PERFORMANCE.md (`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

import phonenumbers
from _docs import command_line, figures_block, machine, write_section
from phonenumbers import NumberParseException, PhoneNumberFormat

from orchestrator.plan.numbers import (
    InvalidNumber,
    NumberRejectedError,
    normalize_number,
    normalize_numbers,
)

T = TypeVar("T")

# Real area codes: US, Canada, Puerto Rico, Jamaica, toll-free.
AREA_CODES = re.findall(
    r"[0-9]{3}",
    "201 202 205 206 212 213 214 215 216 301 303 305 310 312 313 404 407 415 503 512 602 617"
    " 619 646 667 702 713 718 773 801 817 832 901 904 917 919 949 972 416 514 604 613 647"
    " 787 876 800 888 877",
)

NANP_FORMATS: tuple[Callable[[str, str, str], str], ...] = (
    lambda a, x, n: f"{a}{x}{n}",
    lambda a, x, n: f"{a}{x}{n}",
    lambda a, x, n: f"1{a}{x}{n}",
    lambda a, x, n: f"+1{a}{x}{n}",
    lambda a, x, n: f"+1 ({a}) {x}-{n}",
    lambda a, x, n: f"({a}) {x}-{n}",
    lambda a, x, n: f"{a}.{x}.{n}",
    lambda a, x, n: f"1-{a}-{x}-{n}",
    lambda a, x, n: f"{a}-{x}-{n}",
    lambda a, x, n: f"{a} {x} {n}",
)
WRAPS = ("{}",) * 16 + (" {} ", '"{}"', "{}\u00a0", "\t{}", "\ufeff{}", "{} ")

INTERNATIONAL: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"+44 20 7946 {r.randint(0, 9999):04d}",
    lambda r: f"+441224{r.randint(0, 999999):06d}",
    lambda r: f"+61 8 7093 {r.randint(0, 9999):04d}",
    lambda r: f"+61 4{r.randint(10, 99)} {r.randint(0, 999):03d} {r.randint(0, 999):03d}",
    lambda r: f"+49 30 {r.randint(100000, 999999)}",
    lambda r: f"+27 21 555 {r.randint(0, 9999):04d}",
    lambda r: f"+33 1 {r.randint(10, 99)} {r.randint(10, 99)} {r.randint(10, 99)} 00",
    lambda r: f"+52 55 {r.randint(1000, 9999)} {r.randint(1000, 9999)}",
    lambda r: f"011 44 20 7946 {r.randint(0, 9999):04d}",
)

JUNK: tuple[Callable[[random.Random], str], ...] = (
    lambda r: "",
    lambda r: "   ",
    lambda r: "1-800-FLOWERS",
    lambda r: f"{r.choice(AREA_CODES)}555{r.randint(0, 9999):04d} x{r.randint(1, 999)}",
    lambda r: f"{r.randint(2, 9)}.{r.randint(10000, 99999)}E+09",
    lambda r: f"{r.choice(AREA_CODES)}{r.randint(2000000, 9999999)}.0",
    lambda r: f"{r.randint(100, 99999)}",
    lambda r: f"{r.randint(10**11, 10**12)}",
    lambda r: f"123{r.randint(1000000, 9999999)}",
    lambda r: "n/a",
)


def generate(count: int, seed: int) -> list[str]:
    """`count` raw numbers: ~93% North American, ~6% international, ~1% junk."""
    rng = random.Random(seed)
    raws: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.01:
            raw = rng.choice(JUNK)(rng)
        elif roll < 0.07:
            raw = rng.choice(INTERNATIONAL)(rng)
        else:
            area = rng.choice(AREA_CODES)
            exchange = f"{rng.randint(200, 999)}"
            line = f"{rng.randint(0, 9999):04d}"
            raw = rng.choice(NANP_FORMATS)(area, exchange, line)
        raws.append(rng.choice(WRAPS).format(raw))
    return raws


def naive(raws: Sequence[str], region: str = "US") -> list[str | None]:
    """The baseline: phonenumbers' parse, validate and format, one number at a time."""
    results: list[str | None] = []
    for raw in raws:
        try:
            number = phonenumbers.parse(raw, region)
        except NumberParseException:
            results.append(None)
            continue
        valid = phonenumbers.is_valid_number(number)
        results.append(
            phonenumbers.format_number(number, PhoneNumberFormat.E164) if valid else None
        )
    return results


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def timed(function: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def verify(raws: Sequence[str], bulk: Sequence[str | InvalidNumber], sample: int, seed: int) -> int:
    """Check bulk against the reference normalize_number on `sample` random items."""
    mismatches = 0
    for index in random.Random(seed + 1).sample(range(len(raws)), min(sample, len(raws))):
        try:
            expected: str | InvalidNumber = normalize_number(raws[index], "USA")
        except NumberRejectedError as exc:
            expected = exc.invalid
        if expected != bulk[index]:
            mismatches += 1
            print(f"MISMATCH {raws[index]!r}: bulk {bulk[index]!r}, reference {expected!r}")
    return mismatches


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="numbers to generate")
    parser.add_argument("--seed", type=int, default=20240601, help="RNG seed")
    parser.add_argument("--verify", type=int, default=0, metavar="N", help="check N items")
    parser.add_argument("--skip-naive", action="store_true", help="time only the bulk path")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    machine_line = machine()  # before the run: the load average is the machine's, not ours

    raws, generate_s = timed(lambda: generate(args.count, args.seed))
    print(f"generated {len(raws):,} numbers in {generate_s:.1f} s; peak RSS {peak_rss_mb():.0f} MB")

    bulk, bulk_s = timed(lambda: normalize_numbers(raws, "USA"))
    bulk_rate = len(raws) / bulk_s
    reasons = Counter(r.reason.value for r in bulk if isinstance(r, InvalidNumber))
    print(
        f"bulk  normalize_numbers: {bulk_s:7.2f} s  {bulk_rate:>10,.0f} numbers/s"
        f"  (valid {len(raws) - reasons.total():,}; rejected {dict(reasons.most_common())})"
    )
    bulk_rss = peak_rss_mb()
    print(f"peak RSS after bulk: {bulk_rss:.0f} MB")
    figures = [
        ("numbers", f"{len(raws):,} generated (seed {args.seed})"),
        (
            "bulk `normalize_numbers`",
            f"{bulk_s:.2f} s, {bulk_rate:,.0f} numbers/s (valid {len(raws) - reasons.total():,};"
            f" rejected {', '.join(f'{k} {v:,}' for k, v in reasons.most_common()) or 'none'})",
        ),
        ("peak RSS after bulk", f"{bulk_rss:.0f} MB"),
    ]

    if not args.skip_naive:
        baseline, naive_s = timed(lambda: naive(raws))
        naive_rate = len(raws) / naive_s
        print(f"naive phonenumbers loop: {naive_s:7.2f} s  {naive_rate:>10,.0f} numbers/s")
        print(f"ratio bulk/naive: {bulk_rate / naive_rate:.1f}x")
        differ = Counter(
            "bulk rejects, naive accepts"
            if isinstance(b, InvalidNumber)
            else ("naive rejects, bulk accepts" if n is None else "different E.164")
            for b, n in zip(bulk, baseline, strict=True)
            if not (b == n or (isinstance(b, InvalidNumber) and n is None))
        )
        print(f"answers that differ from the naive loop: {dict(differ) or 'none'}")
        figures += [
            ("naive phonenumbers loop", f"{naive_s:.2f} s, {naive_rate:,.0f} numbers/s"),
            ("ratio bulk / naive (speed)", f"{bulk_rate / naive_rate:.1f}x"),
            (
                "answers that differ from the naive loop",
                ", ".join(f"{k}: {v:,}" for k, v in differ.items()) or "none",
            ),
        ]
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    figures.append(("peak RSS", f"{peak_rss_mb():.0f} MB"))

    mismatches = 0
    if args.verify:
        mismatches = verify(raws, bulk, args.verify, args.seed)
        checked = min(args.verify, len(raws))
        print(f"verified {checked:,} items against normalize_number: {mismatches} mismatches")
        figures.append(
            ("verified against `normalize_number`", f"{checked:,} items, {mismatches} mismatches")
        )
    if not args.no_docs:
        block = figures_block(command_line(), figures, machine_line=machine_line)
        print(f"wrote {write_section('PERFORMANCE.md', 'numbers', block)}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
