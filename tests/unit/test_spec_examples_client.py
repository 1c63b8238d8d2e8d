"""Every response example of the endpoints bwmigrate uses is read right by the client codec.

The excerpt's examples are Bandwidth's own account of its answers: `orchestrator.api.xml` must read
each of them into exactly the ids, statuses, numbers and error codes the example shows.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

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
from orchestrator.spec import Example, operation_examples

USED_OPERATIONS = {
    "CreateRequestImportTnChecker",
    "ReadImportMessagingTnOrders",
    "CreateImportMessagingTnOrder",
    "ReadImportMessagingTnOrder",
    "ReadImportMessagingTnOrderHistory",
    "ReadImportMessagingTnOrderLoas",
    "CreateImportMessagingTnOrderLoas",
    "ListRemoveImportedTnOrders",
    "CreateRemoveImportedTnOrder",
    "RetrieveRemoveImportedTnOrder",
    "RetrieveRemoveImportedTnOrderHistory",
    "GetTnOptionOrders",
    "CreateTnOptionOrder",
    "GetTnOptionOrder",
    "GetOrderHistory",
}

NOT_READ = {
    ("ReadImportMessagingTnOrderHistory", 200): "bwmigrate never reads an order's history",
    ("RetrieveRemoveImportedTnOrderHistory", 200): "bwmigrate never reads an order's history",
    ("GetOrderHistory", 200): "bwmigrate never reads an order's history",
    ("GetTnOptionOrders", 200): "two answers in one document: each half is read below",
}

IMPORT_TNS = ("+19199918388", "+14158714245", "+14352154439", "+14352154466")
GET_TNS = ("+12106078250", "+12109678273", "+12109678331", "+12109678337", "+12266401468")
NOT_ACTIVE = (NumberFailure("7518", "Telephone Number Not Active.", ("+12262665583",)),)


def _order(**fields: object) -> OrderDoc:
    base: dict[str, object] = {
        "order_id": None,
        "customer_order_id": None,
        "numbers": (),
        "failures": (),
        "errors": (),
        "warnings": (),
        "created_at": None,
        "last_modified_at": None,
    }
    return OrderDoc(**{**base, **fields})  # type: ignore[arg-type]


CREATED = _order(
    order_id="b05de7e6-0cab-4c83-81bb-9379cba8efd0",
    customer_order_id="SJM000001",
    status="PROCESSING",
    numbers=IMPORT_TNS,
    created_at="2018-01-20T02:59:54.000Z",
    last_modified_at="2018-01-20T02:59:54.000Z",
)
PARTIAL = _order(
    order_id="bf1305b8-8998-1111-2222-51ba3ce52d4e",
    status="PARTIAL",
    numbers=GET_TNS,
    failures=NOT_ACTIVE,
    created_at="2018-01-09T02:58:04.615Z",
    last_modified_at="2018-01-09T02:58:05.298Z",
)
MISSING = (ApiErrorDetail(None, "The resource does not exist"),)

EXPECTED: dict[tuple[str, int], tuple[Callable[[bytes], object], object]] = {
    ("CreateRequestImportTnChecker", 200): (
        parse_import_checker,
        CheckerResult(
            importable=("+13032281000",),
            rejected=(
                NumberFailure(
                    "19006",
                    "Bandwidth numbers cannot be imported by this account at this time.",
                    ("+14109235436", "+14104685864"),
                ),
            ),
        ),
    ),
    ("CreateRequestImportTnChecker", 400): (
        parse_errors,
        (
            ApiErrorDetail("7201", "+161746052083 is not a valid NANP telephone number."),
            ApiErrorDetail("7201", "+161746052082 is not a valid NANP telephone number."),
        ),
    ),
    ("ReadImportMessagingTnOrders", 200): (
        parse_order_list,
        OrderList(
            total_count=2,
            orders=(
                OrderSummary(
                    "211a103c-5f9c-4117-8833-c574bdc390fd",
                    "CustomerOrderId",
                    "COMPLETE",
                    1,
                    "2019-01-24T11:08:09.770Z",
                ),
                OrderSummary(
                    "8dc32f09-2329-4c73-b702-526f46b02712",
                    "CustomerOrderId",
                    "PARTIAL",
                    2,
                    "2019-01-24T10:43:16.934Z",
                ),
            ),
        ),
    ),
    ("CreateImportMessagingTnOrder", 201): (parse_order, CREATED),
    ("CreateImportMessagingTnOrder", 400): (
        parse_order,
        _order(
            status="FAILED",
            errors=(
                ApiErrorDetail("7309", "The site id was not supplied or is invalid."),
                ApiErrorDetail("7312", "The sippeer id is invalid."),
            ),
        ),
    ),
    ("ReadImportMessagingTnOrder", 200): (parse_order, PARTIAL),
    ("ReadImportMessagingTnOrderLoas", 200): (parse_errors, ()),  # resultCode 0: no error
    ("CreateImportMessagingTnOrderLoas", 201): (parse_errors, ()),
    ("ListRemoveImportedTnOrders", 200): (
        parse_order_list,
        OrderList(
            total_count=2,
            orders=(
                OrderSummary(
                    "4f2d090b-ece7-49ab-9c40-06d1425c39c3",
                    "DemoOrder",
                    "COMPLETE",
                    1,
                    "2019-01-24T10:40:12.907Z",
                ),
                OrderSummary(
                    "ca30ea6a-018a-4cae-9d49-3d419fefdbe3",
                    "DemoOrder",
                    "PARTIAL",
                    1,
                    "2019-01-24T09:38:24.028Z",
                ),
            ),
        ),
    ),
    ("CreateRemoveImportedTnOrder", 201): (parse_order, CREATED),
    ("CreateRemoveImportedTnOrder", 400): (
        parse_order,
        _order(
            status="FAILED", errors=(ApiErrorDetail("1234", "The customer order id is invalid."),)
        ),
    ),
    ("RetrieveRemoveImportedTnOrder", 200): (parse_order, PARTIAL),
    ("RetrieveRemoveImportedTnOrder", 400): (parse_errors, MISSING),
    ("RetrieveRemoveImportedTnOrderHistory", 400): (
        parse_errors,
        (ApiErrorDetail("1008", "'some_invalid_uuid' is not a valid UUID"),),
    ),
    ("CreateTnOptionOrder", 201): (
        parse_order,
        _order(
            order_id="ddbdc72e-dc27-490c-904e-d0c11291b095",
            status="RECEIVED",
            numbers=("+12018551020", "+12018551025"),
            created_at="2016-01-15T12:01:14.324Z",
            last_modified_at="2016-01-15T12:01:14.324Z",
        ),
    ),
    ("CreateTnOptionOrder", 400): (
        parse_errors,
        (ApiErrorDetail("5081", "Number Format 'wrong' is invalid."),),
    ),
    ("CreateTnOptionOrder", 409): (
        parse_errors,
        (ApiErrorDetail("5200", "Origination route plan is not enabled for the account."),),
    ),
    ("GetTnOptionOrder", 200): (
        parse_order,
        _order(
            order_id="409033ee-88ec-43e3-85f3-538f30733963",
            status="COMPLETE",
            numbers=("+12174101601", "+12174101602", "+12174101603"),
            warnings=(
                NumberWarning("+12174101601", "SMS is already Enabled or number is in processing."),
            ),
            created_at="2016-01-15T11:22:58.789Z",
            last_modified_at="2016-01-15T11:22:58.969Z",
        ),
    ),
    ("GetTnOptionOrder", 404): (parse_errors, MISSING),
}

RESPONSES = [
    e for e in operation_examples() if e.operation_id in USED_OPERATIONS and e.status is not None
]


def _id(example: Example) -> str:
    return f"{example.operation_id}-{example.status}"


def test_every_used_response_example_is_read_or_said_unread() -> None:
    """Each response example of the endpoints bwmigrate uses is checked below or listed unread."""
    keys = {(e.operation_id, e.status) for e in RESPONSES}
    assert len(keys) == len(RESPONSES)  # one example per status for these operations
    assert keys == set(EXPECTED) | set(NOT_READ)
    assert not set(EXPECTED) & set(NOT_READ)


@pytest.mark.parametrize(
    "example", [e for e in RESPONSES if (e.operation_id, e.status) in EXPECTED], ids=_id
)
def test_client_reads_what_the_example_says(example: Example) -> None:
    """The client codec reads the example into the values written in it."""
    parse, expected = EXPECTED[(example.operation_id, example.status or 0)]
    assert parse(example.body) == expected


def test_client_reads_both_halves_of_the_tn_option_list_example() -> None:
    """The list example's summaries and its detailed orders both give the same two orders."""
    (example,) = [e for e in RESPONSES if e.operation_id == "GetTnOptionOrders"]
    head, _, tail = example.body.decode().partition("<!-- OR -->")
    root_open, root_close = "<TnOptionOrderReportResponse>", "</TnOptionOrderReportResponse>"
    summaries = (head + root_close).encode()
    details = (head[: head.index(root_open) + len(root_open)] + tail).encode()
    expected = [
        ("ddbdc72e-dc27-490c-904e-d0c11291b095", "FAILED", 2, "2016-01-15T12:01:14.324Z"),
        ("409033ee-88ec-43e3-85f3-538f30733963", "COMPLETE", 3, "2016-01-15T11:22:58.789Z"),
    ]
    for half in (summaries, details):
        listing = parse_order_list(half)
        assert listing.total_count == 2
        assert [(o.order_id, o.status, o.count, o.order_date) for o in listing.orders] == expected
