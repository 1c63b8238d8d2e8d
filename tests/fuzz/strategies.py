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
