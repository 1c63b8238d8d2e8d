"""Fuzz: the v1 artefacts `bwmigrate convert` reads (XML bodies, order GETs and listings, logs
and curl scripts with embedded bodies, inventory reports and number lists).

Properties:
- in process, for volume: the readers and the conversion either give a result or raise a
  one-line exit-2 error naming the input; never another exception. Inputs: the v1 fixtures
  truncated, stripped of elements, renamed, byte-flipped, embedded in junk text, and the hostile
  documents (entities, external DTDs, 256+ levels of nesting, a 2 MB text node);
- through the CLI: `bwmigrate convert` on such an input exits 0, 1 or 2 without a traceback,
  and with exit 2 writes nothing.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree
from strategies import FIXTURES, HOSTILE, examples

from orchestrator.errors import BwmigrateError, ExitCode
from orchestrator.v1.conversion import convert
from orchestrator.v1.intent import Action
from orchestrator.v1.orders import has_v1_xml, read_xml_input
from orchestrator.v1.tabular import ListDefaults, decode, read_table

V1 = sorted(p for p in (FIXTURES / "v1").rglob("*") if p.is_file())
_files = st.sampled_from([p.read_bytes() for p in V1])
_xml_files = st.sampled_from([p.read_bytes() for p in V1 if p.suffix == ".xml"])
DEEP = b"<ExternalTnsOrder>" + b"<a>" * 300 + b"x" + b"</a>" * 300 + b"</ExternalTnsOrder>"


@st.composite
def _xml_mutants(draw: st.DrawFn) -> bytes:
    """A v1 XML fixture with elements dropped or renamed, or its text cut or byte-flipped."""
    data = draw(_xml_files)
    how = draw(st.integers(0, 3))
    if how == 0:
        return data[: draw(st.integers(0, len(data)))]
    if how == 1:
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 6))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return bytes(out)
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return data
    elements = list(root.iter())
    victim = draw(st.sampled_from(elements))
    parent = victim.getparent()
    if how == 2 and parent is not None:
        parent.remove(victim)
    else:
        victim.tag = draw(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True))
    return bytes(etree.tostring(root))


def v1_inputs() -> st.SearchStrategy[bytes]:
    """Any v1 input, mutated or hostile, sometimes embedded in other text."""
    base = st.one_of(
        _files,
        _xml_mutants(),
        st.sampled_from([p.read_bytes() for p in HOSTILE]),
        st.just(DEEP),
        st.binary(max_size=300),
    )
    junk = st.binary(max_size=80)
    return st.one_of(base, st.tuples(junk, base, junk).map(lambda t: t[0] + t[1] + t[2]))


def _check_error(exc: BwmigrateError, source: str) -> None:
    message = str(exc)
    assert exc.exit_code == ExitCode.BAD_INPUT, (type(exc).__name__, message[:300])
    assert "\n" not in message and source in message, message[:300]


@settings(max_examples=examples(600), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(data=DEEP, action=Action.IMPORT)
@given(data=v1_inputs(), action=st.sampled_from(list(Action)))
def test_any_v1_input_is_read_and_converted_or_refused_in_one_line(
    data: bytes, action: Action
) -> None:
    """The convert readers and the conversion: a result or a one-line exit-2 error."""
    source = "input.xml"
    try:
        text = decode(data, source)
        if data.lstrip().startswith(b"<") or has_v1_xml(text):
            result = read_xml_input(data, source)
        else:
            result = read_table(text, source, action, ListDefaults(site_id="743"))
        conversion = convert([result], "USA")
    except BwmigrateError as exc:
        _check_error(exc, source)
        return
    assert conversion is not None


@settings(max_examples=examples(5), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=v1_inputs())
def test_convert_cli_exits_cleanly_and_writes_nothing_on_bad_input(data: bytes) -> None:
    """`bwmigrate convert` on a hostile input: 0, 1 or 2, no traceback; 2 writes nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "input.xml").write_bytes(data)
        out = subprocess.run(
            [sys.executable, "-m", "orchestrator", "convert", str(folder / "input.xml"),
             "--out", str(folder / "out" / "plan.toml"), "--list-step", "remove"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode in (0, 1, 2), out.stderr[-2000:]
        assert "Traceback" not in out.stderr, out.stderr[-2000:]
        if out.returncode == 2:
            assert len(out.stderr.strip().splitlines()) == 1, out.stderr[-2000:]
            written = [p for p in folder.rglob("*") if p.is_file() and p.name != "input.xml"]
            assert written == [], written
