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


# --- many findings on one long line (a minified bundle) -------------------------------------------

HITS_KB = 400  # before the per-line facts, BW016 and BW002 passed pytest's 120 s timeout here


def one_line(unit: str) -> str:
    """A Bandwidth file whose second line repeats `unit` to about HITS_KB KB."""
    return BW + unit * (HITS_KB * 1024 // len(unit)) + "\n"


MANY_HITS = {
    # unit repeated on one line: rule, findings per unit (BW012 reports a line once), where in
    # the unit its finding starts
    "BW016 int(tn[0:3])": ("x=int(tn[0:3]);", "BW016", 1, 6),
    "BW016 (int) tn.substr(0, 3)": ("y=(int) tn.substr(0, 3);", "BW016", 1, 8),
    "BW002 /api/v1/addresses": ("/api/v1/addresses", "BW002", 1, 8),
    "BW012 basicAuth": ("basicAuth;", "BW012", 0, 0),
    "BW009 .length==10": ("a.length==10;", "BW009", 1, 1),
    "BW006 areaCode": ("areaCode:1,", "BW006", 1, 0),
}


@pytest.mark.parametrize("case", MANY_HITS.values(), ids=MANY_HITS.keys())
def test_thousands_of_findings_on_one_long_line_are_all_reported(case):
    """A 400 KB line repeating a v1 snippet reports each repeat (BW012 the line once)."""
    unit, rule_id, per_unit, offset = case
    findings = scan_text("bundle.min.js", one_line(unit))
    repeats = HITS_KB * 1024 // len(unit)
    assert len(findings) == (repeats * per_unit or 1)
    assert {(f.rule.id, f.line) for f in findings} == {(rule_id, 2)}
    last = (repeats - 1) * len(unit) if per_unit else 0
    assert findings[-1].column == last + offset + 1


def test_thousands_of_cuts_outside_any_integer_parse_report_nothing():
    """`tn[0:3]` repeated on a 400 KB line with no `int(` nor cast before it is no finding."""
    assert scan_text("bundle.min.js", one_line("y=tn[0:3];")) == []


def test_a_closed_integer_call_early_on_a_long_line_does_not_reach_later_cuts():
    """`int(x)` at the start of the line is closed: the thousands of cuts after it are not in it,
    while one left open in the middle covers every cut after it."""
    cuts = "y=tn[0:3];" * 20_000
    assert scan_text("bundle.min.js", BW + "int(x);" + cuts + "\n") == []
    findings = scan_text("bundle.min.js", BW + cuts + "int(" + cuts + "\n")
    assert len(findings) == 20_000
    assert findings[0].column == len(cuts) + len("int(y=") + 1
