"""`--help` and `--version` import no heavy library: the database, HTTP, server and XML stacks
load only inside the commands that use them (issue 12 item 13)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestrator.cli import _COMMANDS

HEAVY = frozenset({"sqlalchemy", "sqlmodel", "httpx", "starlette", "uvicorn", "lxml"})


def _imported(*args: str) -> set[str]:
    """Top-level packages `python -X importtime -m orchestrator ARGS` imported (exit 0)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "click" in names, "the importtime report was not read"
    return names


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_help_of_every_command_imports_no_heavy_library(command: str) -> None:
    """`bwmigrate CMD --help` loads neither SQLAlchemy, httpx, starlette, uvicorn nor lxml."""
    assert _imported(command, "--help") & HEAVY == set()


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_version_and_top_level_help_import_no_heavy_library(args: tuple[str, ...]) -> None:
    """`bwmigrate --version` and `bwmigrate --help` load no heavy library either."""
    assert _imported(*args) & HEAVY == set()
