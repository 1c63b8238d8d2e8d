"""Regenerated sections of docs/*.md: each bench script rewrites its own marked section.

A section sits between two markers and is owned by one script:

    <!-- bench:chaos:start -->
    ... replaced on every run ...
    <!-- bench:chaos:end -->

Use from a bench script (bench/ is the working directory's sibling of docs/):

    from _docs import figures_block, write_section
    write_section("PERFORMANCE.md", "plan", figures_block(command, [("numbers", "1,000,000"), ...]))

Text outside the markers is never touched. A missing section is appended at the end of the
file, so a new bench needs no hand edit first. Standard library only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _markers(name: str) -> tuple[str, str]:
    if not re.fullmatch(r"[a-z0-9_-]+", name):
        raise ValueError(f"section name {name!r}: use lowercase letters, digits, '-' or '_'")
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def replace_section(text: str, name: str, body: str) -> str:
    """`text` with section `name` holding `body` (appended at the end when absent)."""
    start, end = _markers(name)
    block = f"{start}\n{body.rstrip()}\n{end}"
    i, j = text.find(start), text.find(end)
    if i < 0 and j < 0:
        return text.rstrip("\n") + "\n\n" + block + "\n"
    if i < 0 or j < i:
        raise ValueError(f"section {name!r}: markers missing or out of order; fix them by hand")
    return text[:i] + block + text[j + len(end) :]


def write_section(doc: str, name: str, body: str, *, docs: Path = DOCS) -> Path:
    """Rewrite section `name` of `docs/<doc>` with `body` (atomically); return the path."""
    path = docs / doc
    text = path.read_text(encoding="utf-8") if path.exists() else f"# {path.stem}\n"
    new = replace_section(text, name, body)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
    return path


def machine() -> str:
    """One line about this machine: CPU model, cores, OS, Python."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load {os.getloadavg()[0]:.2f} at start"
    return (
        f"{model}, {os.cpu_count()} cores{load}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def command_line(argv: Sequence[str] | None = None) -> str:
    """How this script was run, as a shell line (`python bench/x.py --flag 1`)."""
    args = list(sys.argv if argv is None else argv)
    script = Path(args[0])
    with contextlib.suppress(ValueError):
        script = script.resolve().relative_to(Path.cwd())
    return shlex.join(["python", str(script), *args[1:]])


def figures_block(
    command: str, figures: Sequence[tuple[str, str]], *, machine_line: str | None = None
) -> str:
    """A Markdown block: the command, machine, date (UTC) and a two-column table of figures."""
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = "\n".join(f"| {k} | {v} |" for k, v in figures)
    return (
        f"Last run: `{command}`  \n"
        f"Machine: {machine_line or machine()}  \n"
        f"Date: {when}\n\n"
        f"| figure | value |\n|---|---|\n{rows}\n"
    )
