"""bench/_docs.py: the helper every bench script uses to rewrite its section of docs/*.md."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "bench_docs", Path(__file__).resolve().parents[2] / "bench" / "_docs.py"
)
assert _SPEC is not None and _SPEC.loader is not None
docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(docs)

TEXT = "# T\n\nintro\n<!-- bench:plan:start -->\nold\n<!-- bench:plan:end -->\noutro\n"


def test_a_section_is_replaced_and_the_text_around_it_kept() -> None:
    """Only the text between the markers changes."""
    out = docs.replace_section(TEXT, "plan", "new figures\n")
    assert out == TEXT.replace("old", "new figures")


def test_a_missing_section_is_appended() -> None:
    """A bench's first run adds its section at the end."""
    out = docs.replace_section(TEXT, "chaos", "figures")
    assert out.startswith(TEXT) and out.endswith(
        "<!-- bench:chaos:start -->\nfigures\n<!-- bench:chaos:end -->\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        TEXT.replace("<!-- bench:plan:start -->\n", ""),
        TEXT.replace("start", "x").replace("end", "start"),
    ],
)
def test_broken_markers_are_refused_rather_than_guessed(text: str) -> None:
    """A lone or out-of-order marker is an error, not a silent rewrite of the wrong text."""
    with pytest.raises(ValueError, match="markers"):
        docs.replace_section(text, "plan", "x")


def test_write_section_rewrites_the_file_and_the_block_names_command_and_date(
    tmp_path: Path,
) -> None:
    """The written block carries the command, the machine, the date and the figures."""
    (tmp_path / "P.md").write_text(TEXT)
    block = docs.figures_block("python bench/x.py --n 1", [("rate", "5/s")], machine_line="m")
    docs.write_section("P.md", "plan", block, docs=tmp_path)
    text = (tmp_path / "P.md").read_text()
    assert "`python bench/x.py --n 1`" in text and "Machine: m" in text and "| rate | 5/s |" in text
    assert "Date: 20" in text and text.endswith("outro\n")
