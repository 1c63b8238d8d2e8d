"""The v2 XML answers and the hardened parser: every response and error shape, hostile documents."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from orchestrator.api.safe_xml import parse_xml
from orchestrator.api.xml import (
    ApiErrorDetail,
    CheckerResult,
    NumberFailure,
    NumberWarning,
    OrderDoc,
    OrderList,
    OrderSummary,
    parse_errors,
    parse_import_checker,
    parse_order,
    parse_order_list,
)
from orchestrator.errors import XmlError

FIXTURES = Path(__file__).parent.parent / "fixtures"
RESPONSES = FIXTURES / "responses"
HOSTILE = FIXTURES / "hostile"


def response(name: str) -> bytes:
    return (RESPONSES / name).read_bytes()


# --- order responses ----------------------------------------------------------------------------


def test_import_create_201_received() -> None:
    """A 201 import answer gives the order id, RECEIVED, the numbers and no errors."""
    assert parse_order(response("import_create_201_received.xml")) == OrderDoc(
        order_id="b05de7e6-0cab-4c83-81bb-9379cba8efd0",
        customer_order_id="bwm-7c1e9a-import-0001",
        status="RECEIVED",
        numbers=("+19199918388", "+14158714245", "+14352154439"),
        failures=(),
        errors=(),
        warnings=(),
        created_at="2024-05-14T09:12:03.512Z",
        last_modified_at="2024-05-14T09:12:03.512Z",
    )


def test_import_create_201_java_plural_root() -> None:
    """The java SDK's `ImportTnOrdersResponse` root and a PROCESSING start are accepted."""
    order = parse_order(response("import_create_201_java_root.xml"))
    assert order.order_id == "11a5f7bb-7fa3-4c1d-8a45-1e2a8d3c9f01"
    assert order.status == "PROCESSING"
    assert order.numbers == ("+19199918388",)


def test_import_get_complete_with_unstable_element_order() -> None:
    """A bare COMPLETE order with `SipPeerId` after `<Errors />` parses by name."""
    order = parse_order(response("import_get_complete.xml"))
    assert order.status == "COMPLETE"
    assert order.order_id == "b05de7e6-0cab-4c83-81bb-9379cba8efd0"
    assert order.numbers == ("+19199918388", "+14158714245", "+14352154439")
    assert order.failures == () and order.errors == ()
    assert order.last_modified_at == "2024-05-14T09:14:41.027Z"


def test_import_get_partial_lists_failed_numbers_per_code() -> None:
    """Shape 3 `Errors/Error/TelephoneNumbers` becomes one failure per error entry."""
    order = parse_order(response("import_get_partial.xml"))
    assert order.status == "PARTIAL"
    assert order.numbers == ("+19199918390", "+12262665583", "+14109235436", "+14109235437")
    assert order.failures == (
        NumberFailure("7518", "Telephone Number Not Active.", ("+12262665583",)),
        NumberFailure(
            "19006",
            "Bandwidth numbers cannot be imported by this account at this time.",
            ("+14109235436", "+14109235437"),
        ),
    )
    assert order.errors == ()


def test_import_get_failed_fails_every_number() -> None:
    """A FAILED order names the code that failed each of its numbers."""
    order = parse_order(response("import_get_failed.xml"))
    assert order.status == "FAILED"
    assert order.failures == (
        NumberFailure("5016", "The SiteId submitted is invalid.", ("+15209072451", "+15209072452")),
    )


def test_import_create_400_shape_2_is_order_level() -> None:
    """Shape 2 (`Errors` with a direct `Code`) gives FAILED with order-level errors, no failures."""
    order = parse_order(response("import_create_400_7309.xml"))
    assert order.status == "FAILED"
    assert order.order_id is None
    assert order.failures == ()
    assert order.errors == (
        ApiErrorDetail("7309", "The site id was not supplied or is invalid."),
        ApiErrorDetail("7312", "The sippeer id is invalid."),
    )


def test_remove_create_201_plural_root() -> None:
    """The remove create answer uses the plural `RemoveImportedTnOrdersResponse` root."""
    order = parse_order(response("remove_create_201_processing.xml"))
    assert order.order_id == "6d1f0c2b-3a4e-4f5d-8b9c-7a6e5d4c3b2a"
    assert order.customer_order_id == "bwm-7c1e9a-remove-0001"
    assert order.status == "PROCESSING"
    assert order.numbers == ("+19199918388", "+14158714245")


def test_remove_get_partial_5158() -> None:
    """A PARTIAL removal fails the never-imported number with 5158."""
    order = parse_order(response("remove_get_partial_5158.xml"))
    assert order.status == "PARTIAL"
    assert order.failures == (
        NumberFailure(
            "5158", "Telephone number hasn't been previously imported.", ("+14158714245",)
        ),
    )


def test_tnoptions_create_201_reads_numbers_inside_groups() -> None:
    """A TN option order's numbers come from its `TnOptionGroup`s; empty `ErrorList` is no error."""
    order = parse_order(response("tnoptions_create_201_received.xml"))
    assert order.order_id == "409033ee-88ec-43e3-85f3-538f30733963"
    assert order.status == "RECEIVED"
    assert order.numbers == ("+12018551020", "+12018551021")
    assert order.failures == () and order.errors == ()


def test_tnoptions_get_partial_error_list_and_warnings() -> None:
    """Shape 4 `ErrorList/Error/TelephoneNumber` and `Warnings` are read per number."""
    order = parse_order(response("tnoptions_get_partial_5076.xml"))
    assert order.status == "PARTIAL"
    assert order.numbers == ("+12018551020", "+12018551021", "+12018551025")
    assert order.failures == (
        NumberFailure("5076", "Telephone number is not available.", ("+12018551025",)),
    )
    assert order.warnings == (
        NumberWarning("+12018551020", "SMS is already Enabled or number is in processing."),
    )


def test_v1_external_tns_order_keeps_ten_digit_numbers() -> None:
    """A v1 `ExternalTnsOrder` parses with its numbers as written (normalising is not our job)."""
    order = parse_order(response("v1_external_tns_order_get.xml"))
    assert order.status == "COMPLETE"
    assert order.customer_order_id == "ICPA123ABC"
    assert order.numbers == ("9199918388", "4158714245", "4352154439", "4352154466")


def test_order_id_under_id_and_lower_case_status() -> None:
    """An order id under `id` is found and a lower-case status is upper-cased."""
    order = parse_order(response("variants/import_get_failed_id_lowercase_status.xml"))
    assert order.order_id == "a4c3b2d1-0e9f-4a8b-8c7d-6e5f4a3b2c1d"
    assert order.status == "FAILED"


def test_element_order_does_not_matter() -> None:
    """The same order with its elements reordered parses to the same value."""
    assert parse_order(response("variants/import_get_partial_errors_first.xml")) == parse_order(
        response("import_get_partial.xml")
    )


def test_error_without_numbers_is_order_level() -> None:
    """An `Error` that names no number is about the order, so it lands in `errors`."""
    order = parse_order(
        b"<ImportTnOrder><ProcessingStatus>FAILED</ProcessingStatus><Errors><Error>"
        b"<Code>5149</Code><Description>importTnOrder API not enabled</Description>"
        b"</Error></Errors></ImportTnOrder>"
    )
    assert order.failures == ()
    assert order.errors == (ApiErrorDetail("5149", "importTnOrder API not enabled"),)


def test_error_list_entry_with_telephone_numbers_list() -> None:
    """Shape 4 also allows `TelephoneNumbers` inside an `Error`; all its numbers fail."""
    order = parse_order(
        b"<TnOptionOrder><ProcessingStatus>FAILED</ProcessingStatus><ErrorList><Error>"
        b"<Code>1022</Code><Description>bad format</Description><TelephoneNumbers>"
        b"<TelephoneNumber>9195551234</TelephoneNumber><TelephoneNumber>9195551235"
        b"</TelephoneNumber></TelephoneNumbers></Error></ErrorList></TnOptionOrder>"
    )
    assert order.failures == (NumberFailure("1022", "bad format", ("9195551234", "9195551235")),)


def test_warning_without_number_is_order_wide() -> None:
    """A warning naming no number is kept with `number` None."""
    order = parse_order(
        b"<TnOptionOrder><ProcessingStatus>COMPLETE</ProcessingStatus><Warnings><Warning>"
        b"<Description>slow</Description></Warning></Warnings></TnOptionOrder>"
    )
    assert order.warnings == (NumberWarning(None, "slow"),)


def test_whitespace_around_values_is_stripped() -> None:
    """Pretty-printed values with surrounding whitespace are read without it."""
    order = parse_order(
        b"<ImportTnOrder>\n <OrderId>\n  abc \n</OrderId><ProcessingStatus> complete "
        b"</ProcessingStatus><TelephoneNumbers><TelephoneNumber> +19195551234 "
        b"</TelephoneNumber><TelephoneNumber/></TelephoneNumbers></ImportTnOrder>"
    )
    assert (order.order_id, order.status, order.numbers) == ("abc", "COMPLETE", ("+19195551234",))


def test_namespaced_document_is_read_by_local_name() -> None:
    """An order in an XML namespace (the API uses none) is still read by local names."""
    order = parse_order(
        b'<ImportTnOrder xmlns="urn:example"><OrderId>x</OrderId>'
        b"<ProcessingStatus>COMPLETE</ProcessingStatus></ImportTnOrder>"
    )
    assert (order.order_id, order.status) == ("x", "COMPLETE")


def test_missing_status_is_an_xml_error() -> None:
    """An order without ProcessingStatus raises XmlError naming the missing element."""
    with pytest.raises(XmlError, match=r"<ImportTnOrder> has no ProcessingStatus"):
        parse_order(b"<ImportTnOrder><OrderId>x</OrderId></ImportTnOrder>")


def test_wrapper_with_only_response_status_names_the_api_error() -> None:
    """A create answer that holds only `ResponseStatus` raises with the API's code and text."""
    with pytest.raises(XmlError, match=r"<TnOptionOrderResponse> holds no order \(API error 5081"):
        parse_order(response("tnoptions_create_400_5081.xml"))


@pytest.mark.parametrize(
    ("name", "root"),
    [
        ("import_list_two.xml", "ImportTnOrders"),
        ("import_checker_200_19006.xml", "ImportTnCheckerResponse"),
        ("sippeer_tn_put_400_v2.xml", "SipPeerTelephoneNumberResponse"),
    ],
)
def test_parse_order_names_an_unexpected_root(name: str, root: str) -> None:
    """A document of another kind raises XmlError naming the root found and what was expected."""
    with pytest.raises(XmlError, match=rf"unexpected root <{root}>.*expected an order"):
        parse_order(response(name))


# --- order listings -----------------------------------------------------------------------------


def test_import_list_with_two_summaries() -> None:
    """Mixed-case summary fields are read; a missing CustomerOrderId is None."""
    assert parse_order_list(response("import_list_two.xml")) == OrderList(
        total_count=2,
        orders=(
            OrderSummary(
                order_id="b05de7e6-0cab-4c83-81bb-9379cba8efd0",
                customer_order_id="bwm-7c1e9a-import-0001",
                status="COMPLETE",
                count=3,
                order_date="2024-05-14T09:12:03.512Z",
            ),
            OrderSummary(
                order_id="211a103c-8f4e-4a3b-9c2d-1e0f9a8b7c6d",
                customer_order_id=None,
                status="FAILED",
                count=1,
                order_date="2019-01-24T11:08:09.770Z",
            ),
        ),
    )


def test_empty_import_list() -> None:
    """`<ImportTnOrders><TotalCount>0</TotalCount></ImportTnOrders>` is an empty list."""
    assert parse_order_list(response("import_list_empty.xml")) == OrderList(0, ())


@pytest.mark.parametrize(
    "name",
    [
        "tnoptions_list.xml",
        "tnoptions_list_report_response.xml",
        "variants/tnoptions_list_bare_root.xml",
    ],
)
def test_tnoptions_list_under_either_root(name: str) -> None:
    """TN option listings parse wrapped (the excerpt's report response, as the sandbox answers
    on v2) and bare (`TnOptionOrders`, RAML and the SDK fixtures)."""
    listing = parse_order_list(response(name))
    first = listing.orders[0]
    assert (first.order_id, first.customer_order_id, first.count) == (
        "409033ee-88ec-43e3-85f3-538f30733963",
        "bwm-7c1e9a-sms-0001",
        2,
    )
    assert listing.total_count == len(listing.orders)


def test_tnoptions_list_second_summary() -> None:
    """The TN option listing's second summary has no customer order id and is COMPLETE."""
    second = parse_order_list(response("tnoptions_list.xml")).orders[1]
    assert second == OrderSummary(
        "ddbdc72e-dc27-490c-904e-d0c11291b095", None, "COMPLETE", 1, "2024-05-13T16:39:58.003Z"
    )


def test_list_of_full_orders() -> None:
    """A listing of full orders (`orderDetails=true`, v1 externalTns) is summarised per order."""
    listing = parse_order_list(response("v1_external_tns_orders_list.xml"))
    assert listing.total_count == 2
    assert [(o.order_id, o.status, o.count) for o in listing.orders] == [
        ("7e0c8d1a-2b3c-4d5e-9f60-718293a4b5c6", "COMPLETE", 2),
        ("8f1d9e2b-3c4d-4e5f-a071-8293a4b5c6d7", "PARTIAL", 2),
    ]


def test_list_without_total_count_counts_its_items() -> None:
    """A listing that omits TotalCount reports the number of items it holds."""
    listing = parse_order_list(
        b"<RemoveImportedTnOrders><RemoveImportedTnOrderSummary><OrderId>a</OrderId>"
        b"<OrderStatus>processing</OrderStatus><CountsOfTNs>4</CountsOfTNs>"
        b"</RemoveImportedTnOrderSummary></RemoveImportedTnOrders>"
    )
    assert listing == OrderList(1, (OrderSummary("a", None, "PROCESSING", 4, None),))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<ImportTnOrders><TotalCount>two</TotalCount></ImportTnOrders>", "whole number"),
        (b"<ImportTnOrders><TotalCount>-1</TotalCount></ImportTnOrders>", "whole number"),
        (
            b"<ImportTnOrders><ImportTnOrderSummary><OrderStatus>COMPLETE</OrderStatus>"
            b"</ImportTnOrderSummary></ImportTnOrders>",
            "ImportTnOrderSummary> in an order list has no OrderId",
        ),
        (
            b"<ImportTnOrders><ImportTnOrderSummary><OrderId>a</OrderId>"
            b"</ImportTnOrderSummary></ImportTnOrders>",
            "has no OrderStatus",
        ),
        (
            b"<ImportTnOrders><ImportTnOrderSummary><OrderId>a</OrderId><OrderStatus>x"
            b"</OrderStatus><CountOfTNs>1e3</CountOfTNs></ImportTnOrderSummary></ImportTnOrders>",
            "CountOfTNs",
        ),
    ],
)
def test_bad_list_fields_raise_xml_error(body: bytes, message: str) -> None:
    """Unreadable counts and summaries without id or status raise XmlError saying which."""
    with pytest.raises(XmlError, match=message):
        parse_order_list(body)


def test_list_wrong_root_names_api_error() -> None:
    """A 404 answer given to the list parser names its root and the API's description."""
    with pytest.raises(
        XmlError,
        match=r"unexpected root <TnOptionOrderReportResponse> \(API error: The resource does not",
    ):
        parse_order_list(response("tnoptions_get_404.xml"))


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "remove_get_400_bad_uuid.xml",
            (ApiErrorDetail("1008", "'not-a-uuid' is not a valid UUID"),),
        ),
        ("tnoptions_get_404.xml", (ApiErrorDetail(None, "The resource does not exist"),)),
        (
            "tnoptions_create_400_5081.xml",
            (ApiErrorDetail("5081", "Number Format 'wrong' is invalid."),),
        ),
        (
            "sippeer_tn_put_400_v2.xml",
            (
                ApiErrorDetail(
                    "400", "Messaging service needs to be enabled/disabled via a TN Option order"
                ),
            ),
        ),
        (
            "error_500_response_status_1000.xml",
            (ApiErrorDetail("1000", "An internal server error occurred. Please try again later."),),
        ),
        (
            "import_create_400_7309.xml",
            (
                ApiErrorDetail("7309", "The site id was not supplied or is invalid."),
                ApiErrorDetail("7312", "The sippeer id is invalid."),
            ),
        ),
        (
            "import_checker_400_7201.xml",
            (
                ApiErrorDetail("7201", "61746052083 is not a valid NANPA telephone number."),
                ApiErrorDetail("7201", "+1919999 is not a valid NANPA telephone number."),
            ),
        ),
        (
            "remove_get_partial_5158.xml",
            (ApiErrorDetail("5158", "Telephone number hasn't been previously imported."),),
        ),
        (
            "tnoptions_get_partial_5076.xml",
            (ApiErrorDetail("5076", "Telephone number is not available."),),
        ),
        ("import_create_201_received.xml", ()),
        ("import_list_empty.xml", ()),
    ],
)
def test_parse_errors_finds_every_shape(name: str, expected: tuple[ApiErrorDetail, ...]) -> None:
    """Shapes 1-4 are found wherever they sit; a document without errors gives ()."""
    assert parse_errors(response(name)) == expected


def test_parse_errors_reads_file_endpoint_result_codes() -> None:
    """Shape 5 reports a non-zero `resultCode` and ignores a zero one."""
    bad = b"<fileUploadResponse><resultCode>1</resultCode><resultMessage>too big</resultMessage>"
    assert parse_errors(bad + b"</fileUploadResponse>") == (ApiErrorDetail("1", "too big"),)
    good = b"<fileUploadResponse><resultCode>0</resultCode></fileUploadResponse>"
    assert parse_errors(good) == ()


@pytest.mark.parametrize("body", [b"", b"  \r\n", b"\xef\xbb\xbf\n"])
def test_parse_errors_on_empty_body_is_empty(body: bytes) -> None:
    """429 and some 401/403 answers have no body: that is no errors, not a parse failure."""
    assert parse_errors(body) == ()


def test_parse_errors_on_html_raises() -> None:
    """A proxy's HTML page in place of an error body raises XmlError saying it is HTML."""
    with pytest.raises(XmlError, match="expected XML, got HTML"):
        parse_errors((HOSTILE / "html_error_page.html").read_bytes())


# --- importTnChecker ----------------------------------------------------------------------------


def test_import_checker_200_splits_importable_and_rejected() -> None:
    """The checker's answer separates importable numbers from those rejected with 19006."""
    assert parse_import_checker(response("import_checker_200_19006.xml")) == CheckerResult(
        importable=("+13032281000",),
        rejected=(
            NumberFailure(
                "19006",
                "Bandwidth numbers cannot be imported by this account at this time.",
                ("+14109235436", "+14104685864"),
            ),
        ),
    )


def test_import_checker_number_listed_twice_counts_as_rejected() -> None:
    """If the API echoes a rejected number among the importable ones, it is rejected only."""
    result = parse_import_checker(
        b"<ImportTnCheckerResponse><ImportTnCheckerPayload><TelephoneNumbers>"
        b"<TelephoneNumber>+1</TelephoneNumber><TelephoneNumber>+2</TelephoneNumber>"
        b"</TelephoneNumbers><ImportTnErrors><ImportTnError><Code>19001</Code>"
        b"<Description>not in service</Description><TelephoneNumbers><TelephoneNumber>+2"
        b"</TelephoneNumber></TelephoneNumbers></ImportTnError></ImportTnErrors>"
        b"</ImportTnCheckerPayload></ImportTnCheckerResponse>"
    )
    assert result.importable == ("+1",)
    assert [f.numbers for f in result.rejected] == [("+2",)]


def test_import_checker_all_pass_without_error_element() -> None:
    """With every number importable and no `ImportTnErrors`, nothing is rejected."""
    result = parse_import_checker(
        b"<ImportTnCheckerResponse><ImportTnCheckerPayload><TelephoneNumbers>"
        b"<TelephoneNumber>+1</TelephoneNumber></TelephoneNumbers><ImportTnErrors/>"
        b"</ImportTnCheckerPayload></ImportTnCheckerResponse>"
    )
    assert result == CheckerResult(("+1",), ())


def test_import_checker_400_raises_with_api_error() -> None:
    """The checker's 400 body (shape 2) raises XmlError carrying the API's code."""
    with pytest.raises(XmlError, match=r"no ImportTnCheckerPayload \(API error 7201"):
        parse_import_checker(response("import_checker_400_7201.xml"))


def test_import_checker_wrong_root() -> None:
    """An order given to the checker parser raises naming both roots."""
    with pytest.raises(
        XmlError, match="unexpected root <ImportTnOrder>: expected ImportTnCheckerResponse"
    ):
        parse_import_checker(response("import_get_complete.xml"))


# --- every response fixture ---------------------------------------------------------------------

ALL_RESPONSES = sorted(str(p.relative_to(RESPONSES)) for p in RESPONSES.rglob("*.xml"))


@pytest.mark.parametrize("name", ALL_RESPONSES)
def test_every_response_fixture_gives_a_value_or_xml_error(name: str) -> None:
    """Every parser returns a value or raises XmlError on every response fixture, nothing else."""
    body = response(name)
    outcomes = []
    for parse in (parse_order, parse_order_list, parse_import_checker, parse_errors):
        try:
            parse(body)
            outcomes.append(parse.__name__)
        except XmlError:
            pass
    assert outcomes, f"{name}: no parser accepted it"


# --- hostile documents --------------------------------------------------------------------------

HOSTILE_CASES = {
    "billion_laughs.xml": "DTDs and entities are not accepted",
    "xxe_file.xml": "DTDs and entities are not accepted",
    "xxe_http.xml": "DTDs and entities are not accepted",
    "xxe_parameter_entity.xml": "DTDs and entities are not accepted",
    "xxe_external_dtd.xml": "DTDs and entities are not accepted",
    "html_error_page.html": "expected XML, got HTML",
    "truncated.xml": "malformed or truncated XML",
    "deeply_nested.xml": "nested deeper than",
    "huge_text_node.xml": "text node in <CustomerOrderId> of 2000000 characters exceeds",
}

PARSERS: list[Callable[[bytes], object]] = [
    parse_order,
    parse_order_list,
    parse_errors,
    parse_import_checker,
    parse_xml,
]


def test_every_hostile_fixture_has_a_case() -> None:
    """No hostile fixture sits in the folder without an expected rejection."""
    assert sorted(p.name for p in HOSTILE.iterdir()) == sorted(HOSTILE_CASES)


@pytest.mark.parametrize("parse", PARSERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", sorted(HOSTILE_CASES))
def test_hostile_documents_are_rejected(name: str, parse: Callable[[bytes], object]) -> None:
    """Each hostile document raises XmlError whose message names the problem."""
    with pytest.raises(XmlError, match=HOSTILE_CASES[name]):
        parse((HOSTILE / name).read_bytes())


def test_dtd_hidden_behind_comment_and_pi_is_rejected() -> None:
    """A DOCTYPE after a comment and a processing instruction is still found and refused."""
    body = (
        b'<?xml version="1.0"?>\n<!-- hello --><?pi x?>\n'
        b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    )
    with pytest.raises(XmlError, match="DTDs and entities are not accepted"):
        parse_xml(body)


def test_utf16_dtd_is_rejected_after_parsing() -> None:
    """A UTF-16 document escapes the byte-level scan but its DOCTYPE is refused all the same."""
    text = '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    with pytest.raises(XmlError, match="DTDs and entities are not accepted"):
        parse_xml(b"\xff\xfe" + text.encode("utf-16-le"))


def test_external_entity_is_never_resolved() -> None:
    """No parse path puts the contents of /etc/passwd into a parsed value."""
    body = (HOSTILE / "xxe_file.xml").read_bytes().replace(b"<!DOCTYPE", b"<!-- x --><!DOCTYPE")
    with pytest.raises(XmlError) as caught:
        parse_order(body)
    assert "root:" not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b" \n\t", "empty body"),
        (b"\xef\xbb\xbf", "empty body"),
        (b'{"error": "bad"}', "expected XML, got JSON"),
        (b"Service Unavailable", "expected XML, got text starting"),
        (b"<html><body>502</body></html>", "expected XML, got HTML"),
        (b'<HTML xmlns="http://www.w3.org/1999/xhtml"><body/></HTML>', "expected XML, got HTML"),
        (b"<a>&undefined;</a>", "malformed or truncated XML"),
        (b"<a></b>", "malformed or truncated XML"),
        (b"<a/><b/>", "malformed or truncated XML"),
        (b"\x00\x01\x02", "malformed or truncated XML"),
    ],
)
def test_non_xml_bodies_are_named(body: bytes, message: str) -> None:
    """Empty, JSON, text, HTML and broken bodies each raise XmlError saying which it is."""
    with pytest.raises(XmlError, match=message):
        parse_order(body)


def test_parser_error_is_chained() -> None:
    """A syntax error keeps lxml's exception as its cause for debugging."""
    with pytest.raises(XmlError) as caught:
        parse_xml(b"<a>")
    assert isinstance(caught.value.__cause__, etree.XMLSyntaxError)


def test_body_over_the_size_limit_is_refused() -> None:
    """A body larger than `max_bytes` is refused before parsing."""
    with pytest.raises(XmlError, match="exceeds the 10-byte limit"):
        parse_xml(b"<a>0123456789</a>", max_bytes=10)


def test_parse_xml_keeps_names_as_sent() -> None:
    """The hardened parser hands v1 readers the tree as sent (names, order, text)."""
    root = parse_xml(b"<ExternalTnsOrder><Action>IMPORT</Action><!-- c --></ExternalTnsOrder>")
    assert [(child.tag, child.text) for child in root] == [("Action", "IMPORT")]


# --- robustness ---------------------------------------------------------------------------------

_TAGS = [
    "ImportTnOrder",
    "ImportTnOrderResponse",
    "TnOptionOrder",
    "ImportTnOrders",
    "TnOptionOrderReportResponse",
    "TnOptionOrders",
    "ImportTnOrderSummary",
    "ImportTnCheckerResponse",
    "ImportTnCheckerPayload",
    "ImportTnErrors",
    "ImportTnError",
    "TnOptionGroups",
    "TnOptionGroup",
    "ProcessingStatus",
    "OrderStatus",
    "OrderId",
    "id",
    "TotalCount",
    "CountOfTNs",
    "Errors",
    "Error",
    "ErrorList",
    "ResponseStatus",
    "ErrorCode",
    "Code",
    "Description",
    "TelephoneNumbers",
    "TelephoneNumber",
    "Warnings",
    "Warning",
    "fileUploadResponse",
    "resultCode",
]


def _trees() -> st.SearchStrategy[etree._Element]:
    def leaf(tag_text: tuple[str, str]) -> etree._Element:
        el = etree.Element(tag_text[0])
        el.text = tag_text[1]
        return el

    def node(tag_children: tuple[str, list[etree._Element]]) -> etree._Element:
        el = etree.Element(tag_children[0])
        el.extend(tag_children[1])
        return el

    text = st.one_of(
        st.sampled_from(["", "7518", "COMPLETE", "+19195551234", "-1", "x"]),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8),
    )
    leaves = st.tuples(st.sampled_from(_TAGS), text).map(leaf)
    return st.recursive(
        leaves,
        lambda children: st.tuples(st.sampled_from(_TAGS), st.lists(children, max_size=4)).map(
            node
        ),
        max_leaves=25,
    )


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_xml_error(body: bytes) -> None:
    """On any bytes at all, the parsers return a value or raise XmlError, never anything else."""
    for parse in (parse_order, parse_order_list, parse_errors, parse_import_checker):
        with contextlib.suppress(XmlError):
            parse(body)


@settings(max_examples=300, deadline=None)
@given(tree=_trees())
def test_arbitrary_api_shaped_documents_raise_only_xml_error(tree: etree._Element) -> None:
    """On random trees of the API's own element names, parsers return or raise XmlError only."""
    body = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    for parse in (parse_order, parse_order_list, parse_errors, parse_import_checker):
        with contextlib.suppress(XmlError):
            parse(body)


def test_module_imports_no_io_libraries() -> None:
    """Importing the codec pulls in none of httpx, anyio, sqlmodel, rich or click."""
    code = (
        "import sys, orchestrator.api.xml, orchestrator.api.xml_request; "
        "print(sorted(m for m in ('httpx', 'anyio', 'sqlmodel', 'rich', 'click') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_an_order_list_carries_the_query_of_its_next_page() -> None:
    """`Links/next` (`Link=<https://…?page=2&size=2>;rel="next";`, reference §12): only its
    query travels (the client sends it to its own path); the last page has none."""
    body = (
        b"<ImportTnOrders><TotalCount>3</TotalCount><Links>"
        b"<first>Link=&lt;https://elsewhere.example/x?createdDateFrom=2026-12-01&amp;page=1&amp;"
        b'size=2&gt;;rel="first";</first>'
        b"<next>Link=&lt;https://elsewhere.example/x?createdDateFrom=2026-12-01&amp;page=2&amp;"
        b'size=2&gt;;rel="next";</next></Links>'
        b"<ImportTnOrderSummary><OrderId>a</OrderId><OrderStatus>COMPLETE</OrderStatus>"
        b"</ImportTnOrderSummary></ImportTnOrders>"
    )
    listing = parse_order_list(body)
    assert listing.next_query == "createdDateFrom=2026-12-01&page=2&size=2"
    assert [o.order_id for o in listing.orders] == ["a"]
    assert parse_order_list(response("import_list_two.xml")).next_query is None
