"""The scan rules on hostile text: long words, digit runs, whitespace and quote runs, base64.

Customers' trees hold minified code, data blobs and base64; a rule whose search restarts at every
character of a long run and scans to its end takes time growing with the square of the run (the
BW016 cut search took 55 s on one 40 KB word). These scans of a few hundred KB each must finish
(pytest's per-test timeout ends a hang); the rules must still find the v1 code after the run and
nothing in it. No wall-clock assertion here: timings live in bench/scan_bench.py.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from orchestrator.v1.scan_rules import scan_text

HOSTILE = Path(__file__).parents[1] / "fixtures" / "hostile"
BW = "# talks to bandwidth\n"  # marks a file as Bandwidth code: every rule runs
V1_LINE = "npa = int(tn[0:3])\n"  # one BW016 finding, on the line after the run
RUN_KB = 300

RUNS = {
    "word": "a" * (RUN_KB * 1024),
    "caps": "A" * (RUN_KB * 1024),
    "digits": "9" * (RUN_KB * 1024),
    "dotted": "a." * (RUN_KB * 512),
    "spaces": "tn" + " " * (RUN_KB * 1024) + "x",
    "tabs": "\t" * (RUN_KB * 1024),
    "single_quotes": "'" * (RUN_KB * 1024),
    "double_quotes": '"' * (RUN_KB * 1024),
    "calls": "f(x)" * (RUN_KB * 256),
    "subscripts": "a[1]" * (RUN_KB * 256),
    "base64": base64.b64encode(bytes(range(256)) * (RUN_KB * 3)).decode(),
}


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS.keys())
def test_long_run_on_one_line_is_scanned_and_v1_code_after_it_still_found(run):
    """A few hundred KB on one line yields no finding, and the v1 line after it still fires."""
    findings = scan_text("blob.js", BW + run + "\n" + V1_LINE)
    assert [(f.rule.id, f.line, f.column) for f in findings] == [("BW016", 3, 11)]


# Runs ending in a letter: glued to `tn`, they make one longer name, which is no phone number.
GLUED = frozenset({"word", "caps", "spaces"})


@pytest.mark.parametrize("name", RUNS)
def test_cut_glued_to_a_long_run_reads_the_run_into_its_subject(name):
    """`int(<run>tn[0:3])` fires only where the run leaves `tn` the last name of the subject."""
    text = BW + "x = int(" + RUNS[name] + "tn[0:3])\n"
    expected = [] if name in GLUED else ["BW016"]
    assert [f.rule.id for f in scan_text("blob.js", text)] == expected


def test_hostile_fixture_with_a_2_mb_text_node_is_scanned():
    """tests/fixtures/hostile/huge_text_node.xml (one 2 MB text node) has no finding."""
    text = (HOSTILE / "huge_text_node.xml").read_text()
    assert len(text) > 1_000_000
    assert scan_text("huge_text_node.xml", text) == []
