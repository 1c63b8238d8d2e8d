"""Fuzz: the answers a snapshot and a verify read (tndetails, in-service pages) give a typed
result or `XmlError`, whatever the body (`orchestrator.api.number_state`)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import bodies, examples

from orchestrator.api.number_state import (
    FIELDS,
    InservicePage,
    NumberState,
    number_state_from_details,
    parse_inservice_page,
)
from orchestrator.errors import XmlError

_PAGE = (
    b"<TNs><TotalCount>2</TotalCount><Links><next>Link=&lt;https://x/?page=2&amp;size=1&gt;;"
    b'rel="next";</next></Links><TelephoneNumbers><Count>1</Count>'
    b"<TelephoneNumber>+18043024183</TelephoneNumber></TelephoneNumbers></TNs>"
)


@settings(max_examples=examples(300), deadline=None)
@example(body=_PAGE.replace(b">2<", b">-2<"))  # a negative count
@example(body=_PAGE.replace(b">2<", b">\xc2\xb2<"))  # superscript two: isdigit(), not int()
@given(body=st.one_of(bodies(), st.just(_PAGE)))
def test_any_body_is_a_state_a_page_or_an_xml_error(body: bytes) -> None:
    """Never another exception; a state's fields are text or None."""
    try:
        state = number_state_from_details(body, "+19195550100", "9900012")
    except XmlError:
        pass
    else:
        assert isinstance(state, NumberState)
        assert all(state.field(f) is None or isinstance(state.field(f), str) for f in FIELDS)
    try:
        page = parse_inservice_page(body)
    except XmlError:
        pass
    else:
        assert isinstance(page, InservicePage) and page.total >= 0
