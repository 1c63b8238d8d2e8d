"""Benchmark `bwmigrate scan` on a generated tree: 10,000 files, ~100 MB, some with v1 usage.

    python bench/scan_bench.py                 # generate in a temp dir, scan, print figures
    python bench/scan_bench.py --files 2000    # smaller
    python bench/scan_bench.py --keep DIR      # generate into DIR (kept) and scan it

The tree mixes Python, JS/TS, Java, C#, Ruby, PHP, Go, shell, XML/JSON/YAML files of ~10 KB;
about 3 % carry v1 usage (the v1 samples of tests/fixtures/scan), plus a .git folder, a
node_modules folder and binary files that must be skipped. The scan runs as the CLI does
(a subprocess, `--json`), timed end to end; the report is checked (files scanned, findings).
Prints files/s and MB/s. Target: the whole tree in under 10 s on the 2-core CI machine. The
figures also go to the `scan` section of docs/PERFORMANCE.md (`--no-docs` to skip).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _docs import command_line, figures_block, machine, write_section

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "fixtures" / "scan" / "v1"
SUFFIXES = (
    ".py",
    ".js",
    ".ts",
    ".java",
    ".cs",
    ".rb",
    ".php",
    ".go",
    ".sh",
    ".xml",
    ".json",
    ".yaml",
)
FILLER = [
    "def handle_{n}(request, session):\n    value = session.get('key_{n}', 0) + {n}\n"
    "    return value\n",
    "function render{n}(props) {{ return props.items.map((x) => x.id + {n}); }}\n",
    "public int compute{n}(int a, int b) {{ return a * b + {n}; }}\n",
    '    <item id="{n}"><name>widget-{n}</name><price>{n}.99</price></item>\n',
    '  "field_{n}": {{"enabled": true, "limit": {n}, "label": "value {n}"}},\n',
    "# comment line {n}: nothing to see here, just ordinary application code\n",
    "for i in range({n}): total += i * i  # accumulate\n",
    'if err != nil {{ return fmt.Errorf("step {n}: %w", err) }}\n',
]


def generate(root: Path, files: int, file_kb: int, seed: int) -> tuple[int, int]:
    """Write the tree; return (files written, bytes written), skipped entries included."""
    rng = random.Random(seed)
    samples = [p.read_text() for p in sorted(SAMPLES.rglob("*")) if p.is_file()]
    written = size = 0
    for i in range(files):
        folder = root / f"pkg{i % 97:02d}" / f"mod{i % 13}"
        folder.mkdir(parents=True, exist_ok=True)
        parts: list[str] = []
        length = 0
        while length < file_kb * 1024:
            line = rng.choice(FILLER).format(n=rng.randrange(100000))
            parts.append(line)
            length += len(line)
        if rng.random() < 0.03:
            parts.insert(rng.randrange(len(parts)), rng.choice(samples))
        text = "".join(parts)
        (folder / f"file{i}{SUFFIXES[i % len(SUFFIXES)]}").write_text(text)
        written += 1
        size += len(text)
    for skipped in (".git/objects", "node_modules/lib"):
        (root / skipped).mkdir(parents=True, exist_ok=True)
        (root / skipped / "x.js").write_text("fetch('https://dashboard.bandwidth.com/api/v1/x')\n")
    (root / "assets").mkdir(exist_ok=True)
    (root / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 4096)
    return written, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--file-kb", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    args = parser.parse_args()
    machine_line = machine()  # before the run: the load average is the machine's, not ours
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        root = args.keep or Path(tmp) / "tree"
        root.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        files, size = generate(root, args.files, args.file_kb, args.seed)
        print(
            f"generated {files} files, {size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "orchestrator", "scan", str(root), "--json"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        if done.returncode not in (0, 1):
            sys.exit(f"scan failed ({done.returncode}): {done.stderr}")
        report = json.loads(done.stdout)["summary"]
        assert report["files_scanned"] == files, report
        mb = report["bytes_scanned"] / 1e6
        print(
            f"scanned {report['files_scanned']} files, {mb:.1f} MB in {elapsed:.2f} s: "
            f"{report['files_scanned'] / elapsed:,.0f} files/s, {mb / elapsed:.1f} MB/s; "
            f"{report['findings']} findings in {report['files_with_findings']} files; "
            f"skipped {report['skipped']}"
        )
        target = "met" if elapsed < 10 else "MISSED"
        print("target (10,000 files / 100 MB under 10 s):", target)
    if not args.no_docs:
        figures = [
            ("tree", f"{files:,} files, {size / 1e6:.1f} MB (plus .git, node_modules, binaries)"),
            ("scan (`bwmigrate scan --json`, subprocess)", f"{elapsed:.2f} s"),
            (
                "throughput",
                f"{report['files_scanned'] / elapsed:,.0f} files/s, {mb / elapsed:.1f} MB/s",
            ),
            (
                "findings",
                f"{report['findings']} in {report['files_with_findings']} files; skipped "
                + ", ".join(f"{k} {v}" for k, v in dict(report["skipped"]).items()),
            ),
            ("target (10,000 files / 100 MB under 10 s)", target),
        ]
        block = figures_block(command_line(), figures, machine_line=machine_line)
        print(f"wrote {write_section('PERFORMANCE.md', 'scan', block)}")


if __name__ == "__main__":
    main()
