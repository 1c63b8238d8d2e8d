"""Benchmark the scan rules on hostile one-line files against ordinary code of the same size.

    python bench/scan_hostile_bench.py            # 512 KB files
    python bench/scan_hostile_bench.py --kb 2048  # larger

Customers' trees hold minified code, data blobs and base64: one line of hundreds of KB. Each
hostile file (one long word, digit run, dotted name, whitespace or quote run, base64, and
tests/fixtures/hostile/huge_text_node.xml; one line repeating a v1 snippet, thousands of findings
of BW016, BW002, BW012, BW009 or BW006) and an ordinary file of the same size (the
scan bench's filler lines) are scanned in this run with every rule on (the files talk to
Bandwidth), in-process (`scan_text`, best of 3); the ratio hostile / ordinary is printed. A
linear scan keeps the ratio near or below 1; a search restarting at every character of a run
grows it with the run's length (the BW016 cut search made a 40 KB word take 55 s), and a rule
scanning the line back from every hit grows it with the hits (BW002 took 33 s on a 100 KB line).
Prints only; docs/PERFORMANCE.md is not rewritten.
"""

from __future__ import annotations

import argparse
import base64
import random
import time
from collections.abc import Callable
from pathlib import Path

from scan_bench import FILLER

from orchestrator.v1.scan_rules import scan_text

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_XML = ROOT / "tests" / "fixtures" / "hostile" / "huge_text_node.xml"
MARKER = "// talks to bandwidth\n"  # every rule runs, as in a customer's Bandwidth code
RUNS: dict[str, Callable[[int], str]] = {
    "one word": lambda n: "a" * n,
    "digit run": lambda n: "9" * n,
    "dotted name": lambda n: "a." * (n // 2),
    "space run": lambda n: "tn" + " " * n,
    "quote run": lambda n: "'" * n,
    "base64": lambda n: base64.b64encode(random.Random(0).randbytes(n * 3 // 4)).decode(),
}


def repeated(unit: str) -> Callable[[int], str]:
    """`unit` repeated on one line to n characters: a minified bundle full of v1 code."""
    return lambda n: unit * (n // len(unit))


# Many findings (or candidates) on one line: each rule reads the line's facts once, not per hit.
MANY_HITS: dict[str, Callable[[int], str]] = {
    "BW016 hits int(tn[0:3])": repeated("x=int(tn[0:3]);"),
    "BW016 cuts, no int(": repeated("y=tn[0:3];"),
    "BW002 hits /api/v1/addresses": repeated("/api/v1/addresses"),
    "BW012 basicAuth": repeated("basicAuth;"),
    "BW009 hits .length==10": repeated("a.length==10;"),
    "BW006 hits areaCode:1": repeated("areaCode:1,"),
}


def ordinary(size: int) -> str:
    """Ordinary code of `size` characters: the scan bench's filler lines."""
    rng = random.Random(7)
    parts, length = [MARKER], len(MARKER)
    while length < size:
        line = rng.choice(FILLER).format(n=rng.randrange(100000))
        parts.append(line)
        length += len(line)
    return "".join(parts)[:size]


def best_of_3(text: str) -> float:
    """Seconds for the fastest of three `scan_text` runs over `text`."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        scan_text("bench.js", text)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=512, help="size of each file")
    args = parser.parse_args()
    size = args.kb * 1024
    files = {name: MARKER + make(size) + "\n" for name, make in {**RUNS, **MANY_HITS}.items()}
    files["hostile/huge_text_node.xml"] = HOSTILE_XML.read_text()
    baselines: dict[int, float] = {}
    worst = 0.0
    for name, text in files.items():
        if len(text) not in baselines:
            baselines[len(text)] = best_of_3(ordinary(len(text)))
        base, took = baselines[len(text)], best_of_3(text)
        worst = max(worst, took / base)
        print(
            f"{name:28s} {len(text) / 1024:7.0f} KB: {took * 1e3:8.1f} ms, "
            f"ordinary code {base * 1e3:8.1f} ms, ratio {took / base:6.2f}"
        )
    print(f"worst ratio hostile / ordinary: {worst:.2f}")


if __name__ == "__main__":
    main()
