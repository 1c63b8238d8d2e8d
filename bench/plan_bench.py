"""Benchmark: compile a 1,000,000-number plan, beside the naive per-number loop, in one run.

    python bench/plan_bench.py                 # 1,000,000 numbers
    python bench/plan_bench.py --count 200000  # quicker

Writes a plan with three steps (import, remove, messaging) whose numbers come from CSV and list
files in mixed real-world formats (seeded; about 1% junk), then, each in its own child process
so peak memory is measured cleanly:

- compile: `orchestrator.cli.loading.load_plan` (read files, normalise, dedupe, conflicts,
  orders, hash): what `bwmigrate plan` and `run` do;
- naive:   phonenumbers.parse + is_valid_number + format_number(E164) per number, over the same
  raw strings (no file reading, no dedupe: a lower bound for a hand-written loop).

Prints numbers/s for both, the ratio, and each child's peak RSS. Targets (issue 2): 1M numbers
compiled in at most 20 s, peak RSS under 1 GiB, at least as fast as the naive loop. The figures
also go to the `plan` section of docs/PERFORMANCE.md (`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _docs import command_line, figures_block, machine, write_section
from numbers_bench import generate


def _key(raw: str) -> str:
    """The last ten digits: enough to keep the three steps' numbers apart."""
    return "".join(ch for ch in raw if ch.isdigit())[-10:]


def disjoint(raws: list[str]) -> tuple[list[str], int, int]:
    """Drop later raws whose digits repeat earlier ones *across* the 60/25/15 split.

    Repeats inside one step stay (they exercise dedupe); repeats across steps would be a
    contradiction the plan refuses, which is right but not what this bench measures.
    """
    a, b = int(len(raws) * 0.6), int(len(raws) * 0.85)
    parts = [raws[:a], raws[a:b], raws[b:]]
    seen: set[str] = set()
    out: list[list[str]] = []
    for part in parts:
        keys = {_key(r) for r in part}
        out.append([r for r in part if _key(r) not in seen])
        seen |= keys
    return out[0] + out[1] + out[2], len(out[0]), len(out[0]) + len(out[1])


def write_plan(folder: Path, raws: list[str], a: int, b: int) -> Path:
    """A three-step plan over `raws` (split at a and b) with CSV and list files."""
    with (folder / "import.csv").open("w", encoding="utf-8") as fh:
        fh.write("Ref,Phone Number\n")
        for i, raw in enumerate(raws[:a]):
            cell = raw.replace('"', '""')
            fh.write(f'R{i},"{cell}"\n')
    (folder / "remove.txt").write_text("\n".join(r.replace("\n", " ") for r in raws[a:b]) + "\n")
    with (folder / "sms.csv").open("w", encoding="utf-8") as fh:
        for raw in raws[b:]:
            cell = raw.replace('"', '""')
            fh.write(f'x,"{cell}"\n')
    plan = folder / "plan.toml"
    plan.write_text(
        'name = "bench"\naccount_id = "9900012"\nbatch_size = 5000\n'
        '[[steps]]\nkind = "import"\nsite_id = "743"\nenable_messaging = true\n'
        'subscriber = { name = "Bench Inc.", house_number = "1", street_name = "Main", '
        'city = "Cary", state_code = "NC", zip = "27511" }\n'
        'loa_authorizing_person = "Jo Bench"\n'
        'files = [{ path = "import.csv", column = "Phone Number" }]\n'
        '[[steps]]\nkind = "remove"\nfiles = ["remove.txt"]\n'
        '[[steps]]\nkind = "messaging"\nsms = "on"\nfiles = [{ path = "sms.csv", column = 2 }]\n'
    )
    return plan


_CHILD_COMPILE = """
import json, sys, time
from pathlib import Path
from orchestrator.cli.loading import load_plan
from orchestrator.errors import PlanError
t = time.perf_counter()
try:
    plan = load_plan(Path(sys.argv[1]))
    out = {"valid": plan.valid_count, "invalid": len(plan.invalid),
           "duplicates": len(plan.duplicates), "orders": sum(len(s.orders) for s in plan.steps)}
except PlanError as exc:  # conflicts across steps are possible with random numbers
    out = {"error": str(exc)[:200]}
out["seconds"] = time.perf_counter() - t
import resource
out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""

_CHILD_NAIVE = """
import json, sys, time
import phonenumbers
from phonenumbers import PhoneNumberFormat
raws = open(sys.argv[1], encoding="utf-8").read().split("\\x1e")
t = time.perf_counter()
ok = 0
for raw in raws:
    try:
        n = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        continue
    if phonenumbers.is_valid_number(n):
        phonenumbers.format_number(n, PhoneNumberFormat.E164)
        ok += 1
import resource
print(json.dumps({"valid": ok, "seconds": time.perf_counter() - t,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(code: str, arg: Path) -> tuple[dict[str, float], float]:
    """Run a measurement in a child; return its JSON result and its own peak RSS in MiB."""
    out = subprocess.run(
        [sys.executable, "-c", code, str(arg)], check=True, capture_output=True, text=True
    ).stdout
    result = json.loads(out)
    return result, float(result["rss_mib"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    args = parser.parse_args()
    machine_line = machine()  # before the children load the machine
    raws, a, b = disjoint(generate(args.count, args.seed))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plan = write_plan(folder, raws, a, b)
        raw_file = folder / "raws.bin"
        raw_file.write_text("\x1e".join(raws), encoding="utf-8")
        naive, naive_rss = run_child(_CHILD_NAIVE, raw_file)
        t0 = time.perf_counter()
        compiled, compile_rss = run_child(_CHILD_COMPILE, plan)
        wall = time.perf_counter() - t0
    n = len(raws)
    print(f"numbers: {n:,} (seed {args.seed}; {args.count - n:,} dropped to keep steps disjoint)")
    print(f"compile: {compiled}")
    print(
        f"compile: {n / compiled['seconds']:,.0f} numbers/s, {compiled['seconds']:.2f} s "
        f"({wall:.2f} s with interpreter start), peak RSS {compile_rss:,.0f} MiB"
    )
    print(
        f"naive:   {n / naive['seconds']:,.0f} numbers/s, {naive['seconds']:.2f} s, "
        f"peak RSS {naive_rss:,.0f} MiB (valid {naive['valid']:,})"
    )
    print(f"ratio compile/naive (numbers/s): {naive['seconds'] / compiled['seconds']:.2f}x")
    if "error" not in compiled and not args.no_docs:
        figures = [
            (
                "numbers",
                f"{n:,} (3 steps; {compiled['invalid']:,} invalid, "
                f"{compiled['duplicates']:,} duplicates)",
            ),
            ("compile", f"{compiled['seconds']:.2f} s, {n / compiled['seconds']:,.0f} numbers/s"),
            ("compile peak RSS", f"{compile_rss:,.0f} MiB"),
            ("naive loop", f"{naive['seconds']:.2f} s, {n / naive['seconds']:,.0f} numbers/s"),
            ("ratio compile / naive (speed)", f"{naive['seconds'] / compiled['seconds']:.2f}x"),
        ]
        block = figures_block(command_line(), figures, machine_line=machine_line)
        print(f"wrote {write_section('PERFORMANCE.md', 'plan', block)}")


if __name__ == "__main__":
    main()
