"""Hypothesis strategies for hostile inputs, shared by the fuzz tests.

Built from the repository's own golden fixtures (tests/fixtures), so mutations start from what
the real API and real customers produce: truncations, wrong roots, dropped elements, byte
flips, HTML error pages, JSON, binary junk, huge documents.
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path

from hypothesis import strategies as st
from lxml import etree

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCALE = int(os.environ.get("BWMIGRATE_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    """`n` examples, times BWMIGRATE_FUZZ_SCALE (e.g. 20 for a deep run before a release)."""
    return n * SCALE


RESPONSES = sorted((FIXTURES / "responses").glob("*.xml"))
HOSTILE = sorted((FIXTURES / "hostile").iterdir())

_docs = st.sampled_from([p.read_bytes() for p in RESPONSES])
_names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,24}", fullmatch=True)
_header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(
    str.strip
)  # h11 refuses header values with outer spaces


@st.composite
def truncated(draw: st.DrawFn) -> bytes:
    """A golden response cut anywhere."""
    doc = draw(_docs)
    return doc[: draw(st.integers(0, len(doc) - 1))]


@st.composite
def dropped_elements(draw: st.DrawFn) -> bytes:
    """A golden response with some elements removed (missing fields)."""
    root = etree.fromstring(draw(_docs))
    elements = list(root.iter())[1:]
    if elements:
        for el in draw(st.lists(st.sampled_from(elements), max_size=4, unique_by=id)):
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@st.composite
def renamed_root(draw: st.DrawFn) -> bytes:
    """A golden response under a root of another name (a wrong or unknown document)."""
    root = etree.fromstring(draw(_docs))
    root.tag = draw(_names)
    return bytes(etree.tostring(root, encoding="UTF-8"))


@st.composite
def flipped_bytes(draw: st.DrawFn) -> bytes:
    """A golden response with a few bytes overwritten."""
    doc = bytearray(draw(_docs))
    for _ in range(draw(st.integers(1, 8))):
        doc[draw(st.integers(0, len(doc) - 1))] = draw(st.integers(0, 255))
    return bytes(doc)


def html_page() -> st.SearchStrategy[bytes]:
    """A proxy's or load balancer's HTML error page."""
    return st.tuples(st.sampled_from(["502 Bad Gateway", "Service Unavailable", "Login"]),
                     st.text(max_size=200)).map(
        lambda t: (f"<!DOCTYPE html><html><head><title>{t[0]}</title></head><body><h1>{t[0]}"
                   f"</h1><p>{escape(t[1])}</p></body></html>").encode()
    )  # fmt: skip


def json_body() -> st.SearchStrategy[bytes]:
    """A JSON document where XML was expected."""
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=10,
    )
    return values.map(lambda v: json.dumps(v).encode())


@st.composite
def api_errors(draw: st.DrawFn) -> bytes:
    """An API error document (shapes 1 and 2) with any code and description text."""
    root = draw(st.sampled_from(["ImportTnOrderResponse", "TnOptionOrderResponse", "ErrorResponse",
                                 "RemoveImportedTnOrdersResponse"]))  # fmt: skip
    code = escape(draw(st.text(max_size=8)))
    text = escape(draw(st.text(max_size=300) | st.just("x" * 20_000)))
    inner = draw(st.sampled_from([
        f"<ResponseStatus><ErrorCode>{code}</ErrorCode><Description>{text}</Description>"
        "</ResponseStatus>",
        f"<ProcessingStatus>FAILED</ProcessingStatus><Errors><Code>{code}</Code>"
        f"<Description>{text}</Description></Errors>",
    ]))  # fmt: skip
    return f"<{root}>{inner}</{root}>".encode("utf-8", "surrogatepass")


def bodies() -> st.SearchStrategy[bytes]:
    """Any answer body bwmigrate might meet."""
    return st.one_of(
        _docs,
        api_errors(),
        truncated(),
        dropped_elements(),
        renamed_root(),
        flipped_bytes(),
        html_page(),
        json_body(),
        st.sampled_from([p.read_bytes() for p in HOSTILE]),
        st.binary(max_size=512),
        st.text(max_size=256).map(str.encode),
        st.just(b""),
        st.just(b"<ImportTnOrder><ProcessingStatus>" + b"A" * 2_000_000 + b"</ProcessingStatus>"),
    )


def statuses() -> st.SearchStrategy[int]:
    """HTTP statuses, the usual ones more often (never 1xx, not a final answer)."""
    usual = st.sampled_from([200, 201, 202, 204, 302, 400, 401, 403, 404, 405, 408, 409, 429,
                             500, 502, 503, 504])  # fmt: skip
    return st.one_of(usual, st.integers(200, 599))


def headers() -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """Odd Location, Retry-After and X-RateLimit-Reset headers (or none)."""
    pairs = st.tuples(st.sampled_from(["Location", "Retry-After", "X-RateLimit-Reset"]),
                      _header_text)  # fmt: skip
    return st.lists(pairs, max_size=3, unique_by=lambda p: p[0]).map(tuple)


def content_types() -> st.SearchStrategy[str]:
    """What the answer claims to be."""
    return st.sampled_from(["application/xml; charset=utf-8", "text/html", "application/json",
                            "application/octet-stream", "text/plain; charset=latin-1"])  # fmt: skip


# --- plan documents ---------------------------------------------------------------------

BASE_PLAN: dict[str, object] = {
    "name": "fuzz-plan",
    "account_id": "9900012",
    "country": "USA",
    "batch_size": 2,
    "rate": {"requests_per_s": 10, "max_orders_in_flight": 4, "poll_interval_s": 1},
    "failure_threshold": {"max_failed_percent": 50, "min_finished": 10},
    "steps": [
        {
            "kind": "import",
            "name": "hosted",
            "site_id": "743",
            "sip_peer_id": "303716",
            "loa_type": "CARRIER",
            "enable_messaging": True,
            "a2p": {"message_class": "M", "campaign_id": "C1", "action": "asSpecified"},
            "subscriber": {
                "name": "ABC Inc.",
                "house_number": "11235",
                "street_name": "Back",
                "city": "Denver",
                "state_code": "CO",
                "zip": "27541",
            },
            "loa_authorizing_person": "The Authguy",
            "numbers": ["9195550100", "+1 (919) 555-0101", "919.555.0102"],
            "files": [{"path": "hosted.csv", "column": "TN"}],
        },
        {"kind": "remove", "numbers": ["+14158714245"], "files": ["remove.txt"]},
        {"kind": "messaging", "sms": "off", "numbers": ["3369788814", "+13369006863"]},
    ],
}

_scalars = st.one_of(
    st.text(max_size=30),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
)
toml_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=8,
)  # fmt: skip


def to_toml(doc: dict[str, object]) -> str:
    """A TOML document (top-level keys; nested tables and arrays written inline)."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in doc.items())


def _toml_key(key: str) -> str:
    return json.dumps(key)


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return (
            "nan" if v != v else ("inf" if v > 0 else "-inf") if abs(v) == float("inf") else repr(v)
        )
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return v.isoformat()  # type: ignore[attr-defined]


@st.composite
def mutated(draw: st.DrawFn, value: object, depth: int = 0) -> object:
    """`value` with random edits: values replaced, keys dropped, added or renamed, items cut."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(toml_values)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            edit = draw(st.integers(0, 12))
            if edit == 0:
                continue
            if edit == 1:
                key = draw(st.text(max_size=12))
            out[key] = draw(mutated(item, depth + 1)) if edit > 6 else item
        if draw(st.integers(0, 8)) == 0:
            out[draw(st.text(max_size=12))] = draw(toml_values)
        return out
    if isinstance(value, list):
        items = [draw(mutated(x, depth + 1)) if draw(st.booleans()) else x for x in value]
        if items and draw(st.integers(0, 5)) == 0:
            del items[draw(st.integers(0, len(items) - 1))]
        return items
    return value


def plan_texts() -> st.SearchStrategy[str]:
    """Plan files: the base plan mutated, or its text cut, spliced or replaced by junk."""
    base = to_toml(BASE_PLAN)
    mutated_doc = mutated(BASE_PLAN).map(lambda d: to_toml(d) if isinstance(d, dict) else "x")
    cut = st.integers(0, len(base)).map(lambda i: base[:i])
    spliced = st.tuples(st.integers(0, len(base)), st.text(max_size=20)).map(
        lambda t: base[: t[0]] + t[1] + base[t[0] :]
    )
    return st.one_of(mutated_doc, mutated_doc, cut, spliced, st.text(max_size=200))


# --- number files ---------------------------------------------------------------------

_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1")


@st.composite
def number_files(draw: st.DrawFn) -> bytes:
    """The bytes of a number file: numbers and junk in some encoding, or binary, or huge."""
    cells = st.one_of(
        st.from_regex(r"\+?1?[2-9][0-9]{2}[ .-]?[0-9]{3}[ .-]?[0-9]{4}", fullmatch=True),
        st.text(max_size=20),
        st.sampled_from(["TN", "Phone Number", "9.19555E+9", '"919,555,0100"', "#comment", ""]),
    )
    rows = draw(st.lists(st.lists(cells, min_size=1, max_size=4), max_size=30))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(sep.join(r) for r in rows)
    encoding = draw(st.sampled_from(_ENCODINGS))
    data = text.encode(encoding, "replace")
    tail = draw(st.sampled_from([b"", b"\x00\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\x80\x81\xfe"]))
    return draw(st.one_of(
        st.just(data + tail),
        st.binary(max_size=300),
        st.just(b"9195550100," + b"9" * 2_000_000 + b"\n"),  # one huge line
        st.just(b'"' + b"a" * 100_000),  # an unterminated quote
    ))  # fmt: skip
