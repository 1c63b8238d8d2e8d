"""The v2 API's XML answers, typed: orders, order lists, errors, importTnChecker, tndetails.

Parsers take bytes (through the hardened `orchestrator.api.safe_xml.parse_xml`) and return
frozen dataclasses, so lxml elements never leave the codec. Every failure is an `XmlError`
with a one-line message naming what was unexpected. The request bodies are
`orchestrator.api.xml_request`.

`parse_xml`, `Subscriber` and `A2pSettings` are re-exported for the v1 readers written before
the codec was split (their homes are `safe_xml` and `orchestrator.plan.model`).

Pure: no I/O, no clock, no environment. Must not import httpx, anyio, sqlmodel, rich or click.
Numbers pass through as text: normalising them is `orchestrator.plan.numbers`' job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from orchestrator.api.safe_xml import is_blank, local_name, parse_xml
from orchestrator.errors import XmlError, one_line
from orchestrator.plan.model import A2pSettings, Subscriber

__all__ = [
    "A2pSettings",
    "ApiErrorDetail",
    "CheckerResult",
    "NumberFailure",
    "NumberWarning",
    "OrderDoc",
    "OrderList",
    "OrderSummary",
    "Subscriber",
    "TnDetails",
    "parse_errors",
    "parse_import_checker",
    "parse_order",
    "parse_order_list",
    "parse_tn_details",
    "parse_xml",
]


# --- parsed documents ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiErrorDetail:
    """An error the API reported about a request or an order as a whole."""

    code: str | None
    description: str


@dataclass(frozen=True, slots=True)
class NumberFailure:
    """One per-number error entry: these numbers failed with this code ("" if none was given)."""

    code: str
    description: str
    numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumberWarning:
    """A warning on an order, about one number or (`number` None) the whole order."""

    number: str | None
    description: str


@dataclass(frozen=True, slots=True)
class OrderDoc:
    """An import, removal, external-TNs or TN option order as the API reports it.

    `numbers` is what the order requested, as the API spelled them (not normalised); the numbers
    under `failures` failed, and on a terminal order the rest succeeded.
    """

    order_id: str | None
    customer_order_id: str | None
    status: str
    numbers: tuple[str, ...]
    failures: tuple[NumberFailure, ...]
    errors: tuple[ApiErrorDetail, ...]
    warnings: tuple[NumberWarning, ...]
    created_at: str | None
    last_modified_at: str | None


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """One order of an order listing; `count` is the number of TNs when the API gives it."""

    order_id: str
    customer_order_id: str | None
    status: str
    count: int | None
    order_date: str | None


@dataclass(frozen=True, slots=True)
class OrderList:
    """An order listing; `total_count` may exceed `len(orders)` (the API returns at most 1000).

    `next_query` is the query string of the listing's `Links/next` (the next page), if any.
    """

    total_count: int
    orders: tuple[OrderSummary, ...]
    next_query: str | None = None


@dataclass(frozen=True, slots=True)
class CheckerResult:
    """The answer of `importTnChecker`: numbers that may be imported, and those rejected why."""

    importable: tuple[str, ...]
    rejected: tuple[NumberFailure, ...]


@dataclass(frozen=True, slots=True)
class TnDetails:
    """What `GET /tns/{tn}/tndetails` says about a number's messaging."""

    number: str
    account_id: str | None
    hosted: bool
    sms_enabled: bool | None
    campaign_id: str | None
    message_class: str | None


# --- element access: by name, in any order ------------------------------------------------------
#
# Children are looked up by their exact names through lxml's own filter (fast on 5000-number
# orders); the spellings seen in the wild are listed where the sources disagree (reference §4.3:
# `accountId`, `lastModifiedDate`, `OrderStatus` vs `ProcessingStatus`; `id` vs `OrderId`).

_ORDER_ID = ("OrderId", "id", "orderId")
_CUSTOMER_ORDER_ID = ("CustomerOrderId", "CustomerOrderID", "customerOrderId")
_STATUS = ("ProcessingStatus", "OrderStatus", "processingStatus", "orderStatus")
_CREATED = ("OrderCreateDate", "orderCreateDate", "CreatedDate")
_LAST_MODIFIED = ("LastModifiedDate", "lastModifiedDate")
_ORDER_DATE = ("OrderDate", "orderDate", "OrderCreateDate", "orderCreateDate")
_COUNT = ("CountOfTNs", "CountsOfTNs", "countOfTNs")
_TOTAL = ("TotalCount", "totalCount")
_CODE = ("Code", "ErrorCode", "code", "errorCode")
_DESCRIPTION = ("Description", "description")
_TN = "TelephoneNumber"
_TNS = "TelephoneNumbers"

_ORDER_ROOTS = ("ImportTnOrder", "ExternalTnsOrder", "RemoveImportedTnOrder", "TnOptionOrder")
_ORDER_WRAPPERS = (  # create answers; java's import root and the remove root are plural
    "ImportTnOrderResponse",
    "ImportTnOrdersResponse",
    "RemoveImportedTnOrdersResponse",
    "RemoveImportedTnOrderResponse",
    "ExternalTnsOrderResponse",
    "TnOptionOrderResponse",
)
_LIST_ROOTS = ("ImportTnOrders", "RemoveImportedTnOrders", "TnOptionOrders", "ExternalTnsOrders")
_SUMMARIES = (
    "ImportTnOrderSummary",
    "RemoveImportedTnOrderSummary",
    "TnOptionOrderSummary",
    "ExternalTnsOrderSummary",
)
_CHECKER_ROOT = "ImportTnCheckerResponse"
_CHECKER_PAYLOAD = "ImportTnCheckerPayload"


def _parse_typed(body: bytes) -> tuple[etree._Element, str]:
    """`parse_xml` with namespaces dropped (the API uses none); also the root's reference name.

    The root is matched case-insensitively against `_ROOT_SPELLING`.
    """
    root = parse_xml(body)
    if str(root.tag).startswith("{"):
        for el in root.iter():
            el.tag = local_name(el)
    name = local_name(root)
    return root, _ROOT_SPELLING.get(name.lower(), name)


_ROOT_SPELLING = {
    name.lower(): name
    for name in (*_ORDER_ROOTS, *_ORDER_WRAPPERS, *_LIST_ROOTS, _CHECKER_ROOT, _CHECKER_PAYLOAD)
}


def _kids(el: etree._Element, *names: str) -> list[etree._Element]:
    return list(el.iterchildren(*names))


def _text(el: etree._Element, names: tuple[str, ...]) -> str | None:
    """Stripped text of the first child named one of `names`; None when absent or blank."""
    for child in el.iterchildren(*names):
        text = (child.text or "").strip()
        if text:
            return text
    return None


def _int(el: etree._Element, names: tuple[str, ...]) -> int | None:
    text = _text(el, names)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()):
        raise XmlError(f"<{local_name(el)}> has <{names[0]}> {text!r}: expected a whole number")
    return int(text)


def _numbers(el: etree._Element) -> list[str]:
    """Numbers under `TelephoneNumbers/TelephoneNumber` and direct `TelephoneNumber` children."""
    found: list[str] = []
    for child in el.iterchildren(_TN, _TNS):
        tns = [child] if child.tag == _TN else child.iterchildren(_TN)
        found += [text for tn in tns if (text := (tn.text or "").strip())]
    return found


# --- errors (reference §3) ----------------------------------------------------------------------


def _detail(el: etree._Element) -> ApiErrorDetail | None:
    """Shape 1 (`ResponseStatus`), 2 (`Errors` with `Code`) or one `Error` of shapes 3/4."""
    code = _text(el, _CODE)
    description = _text(el, _DESCRIPTION)
    if code is None and description is None:
        return None
    return ApiErrorDetail(code=code, description=description or "")


def _read_error_container(
    container: etree._Element,
) -> tuple[list[NumberFailure], list[ApiErrorDetail]]:
    """An `Errors` or `ErrorList`: shape 2 (direct `Code`) or per-number `Error` entries (3/4).

    An `Error` naming no number is about the order as a whole and is returned as a detail.
    """
    failures: list[NumberFailure] = []
    details: list[ApiErrorDetail] = []
    direct = _detail(container)
    if direct is not None:
        details.append(direct)
    for error in container.iterchildren("Error", "ImportTnError"):
        detail = _detail(error)
        numbers = _numbers(error)
        if numbers:
            code = detail.code if detail is not None else None
            description = detail.description if detail is not None else ""
            failures.append(NumberFailure(code or "", description, tuple(numbers)))
        elif detail is not None:
            details.append(detail)
    return failures, details


def _errors_of(el: etree._Element) -> tuple[list[NumberFailure], list[ApiErrorDetail]]:
    """All errors directly under an order or response element."""
    failures: list[NumberFailure] = []
    details: list[ApiErrorDetail] = []
    for container in el.iterchildren("Errors", "ErrorList", "ImportTnErrors"):
        f, d = _read_error_container(container)
        failures += f
        details += d
    for status in el.iterchildren("ResponseStatus"):
        detail = _detail(status)
        if detail is not None:
            details.append(detail)
    return failures, details


def parse_errors(body: bytes) -> tuple[ApiErrorDetail, ...]:
    """Every API error anywhere in an error body (shapes 1-4, and 5's non-zero `resultCode`).

    An empty body gives `()` (429 and some 401/403 answers have none); a body that is not XML
    raises `XmlError`.
    """
    if is_blank(body):
        return ()
    root, _ = _parse_typed(body)
    found: list[ApiErrorDetail] = []
    for el in root.iter("ResponseStatus", "Errors", "Error", "ImportTnError"):
        detail = _detail(el)
        if detail is not None:
            found.append(detail)
    for el in root.iter("fileUploadResponse", "fileListResponse"):
        result = _text(el, ("resultCode",))
        if result not in (None, "0"):
            found.append(ApiErrorDetail(result, _text(el, ("resultMessage",)) or ""))
    return tuple(found)


def _api_error_hint(root: etree._Element) -> str:
    """ " (API error 1008: …)" when a document is an error answer (shape 1 or 2), else ""."""
    for el in root.iter("ResponseStatus", "Errors"):
        detail = _detail(el)
        if detail is not None:
            code = f" {one_line(detail.code, 40)}" if detail.code else ""
            return f" (API error{code}: {one_line(detail.description)})"
    return ""


# --- orders -------------------------------------------------------------------------------------


def parse_order(body: bytes) -> OrderDoc:
    """An order from a create answer (201, or shape-2 failure) or an order GET."""
    root, name = _parse_typed(body)
    if name in _ORDER_ROOTS:
        return _read_order(root, wrapper=None)
    if name in _ORDER_WRAPPERS:
        orders = _kids(root, *_ORDER_ROOTS)
        return _read_order(orders[0] if orders else None, wrapper=root)
    raise XmlError(
        f"unexpected root <{name}>{_api_error_hint(root)}: "
        f"expected an order ({', '.join(_ORDER_ROOTS)}) or its create response"
    )


def _read_order(order: etree._Element | None, wrapper: etree._Element | None) -> OrderDoc:
    """Read an order element; `wrapper` is its create-response root, which may stand in for it."""
    places = [el for el in (order, wrapper) if el is not None]
    where = places[0]
    status = next((s for el in places if (s := _text(el, _STATUS)) is not None), None)
    if status is None:
        holds = "has no ProcessingStatus" if order is not None else "holds no order"
        raise XmlError(f"<{local_name(where)}> {holds}{_api_error_hint(where)}")
    failures: list[NumberFailure] = []
    errors: list[ApiErrorDetail] = []
    for el in places:
        f, d = _errors_of(el)
        failures += f
        errors += d
    numbers = _numbers(where)
    for group in where.iterfind("TnOptionGroups/TnOptionGroup"):
        numbers += _numbers(group)
    return OrderDoc(
        order_id=_text(where, _ORDER_ID),
        customer_order_id=_text(where, _CUSTOMER_ORDER_ID),
        status=status.upper(),
        numbers=tuple(numbers),
        failures=tuple(failures),
        errors=tuple(errors),
        warnings=tuple(_warnings_of(where)),
        created_at=_text(where, _CREATED),
        last_modified_at=_text(where, _LAST_MODIFIED),
    )


def _warnings_of(el: etree._Element) -> list[NumberWarning]:
    warnings: list[NumberWarning] = []
    for warning in el.iterfind("Warnings/Warning"):
        description = _text(warning, _DESCRIPTION) or ""
        numbers = _numbers(warning)
        if numbers:
            warnings += [NumberWarning(n, description) for n in numbers]
        else:
            warnings.append(NumberWarning(None, description))
    return warnings


# --- order listings -----------------------------------------------------------------------------


def parse_order_list(body: bytes) -> OrderList:
    """An order listing: summaries, or full orders (`orderDetails=true`, v1 `externalTns`).

    The list root may be wrapped (SPEC1's `TnOptionOrderReportResponse`).
    """
    root, name = _parse_typed(body)
    if name in _LIST_ROOTS:
        listing = root
    else:
        wrapped = _kids(root, *_LIST_ROOTS)
        if not wrapped:
            raise XmlError(
                f"unexpected root <{name}>{_api_error_hint(root)}: "
                f"expected an order list ({', '.join(_LIST_ROOTS)})"
            )
        listing = wrapped[0]
    orders = [
        _summarise(_read_order(item, wrapper=None), item)
        if item.tag in _ORDER_ROOTS
        else _read_summary(item)
        for item in listing.iterchildren(*_SUMMARIES, *_ORDER_ROOTS)
    ]
    total = _int(listing, _TOTAL)
    return OrderList(
        total_count=len(orders) if total is None else total,
        orders=tuple(orders),
        next_query=_next_query(listing),
    )


_LINK_URL = re.compile(r"<([^>]*)>")


def _next_query(listing: etree._Element) -> str | None:
    """The query string of `Links/next` (`Link=<https://…?page=X&size=N>;rel="next";`,
    reference §12): only the query travels, so a link never sends credentials elsewhere."""
    for links in _kids(listing, "Links"):
        for nxt in _kids(links, "next"):
            text = (nxt.text or "").strip()
            match = _LINK_URL.search(text)
            query = (match.group(1) if match else text).partition("?")[2]
            return query or None
    return None


def _read_summary(item: etree._Element) -> OrderSummary:
    order_id = _text(item, _ORDER_ID)
    status = _text(item, _STATUS)
    if order_id is None or status is None:
        missing = "OrderId" if order_id is None else "OrderStatus"
        raise XmlError(f"<{local_name(item)}> in an order list has no {missing}")
    return OrderSummary(
        order_id=order_id,
        customer_order_id=_text(item, _CUSTOMER_ORDER_ID),
        status=status.upper(),
        count=_int(item, _COUNT),
        order_date=_text(item, _ORDER_DATE),
    )


def _summarise(order: OrderDoc, item: etree._Element) -> OrderSummary:
    if order.order_id is None:
        raise XmlError(f"<{local_name(item)}> in an order list has no OrderId")
    return OrderSummary(
        order_id=order.order_id,
        customer_order_id=order.customer_order_id,
        status=order.status,
        count=len(order.numbers),
        order_date=order.created_at,
    )


# --- importTnChecker ----------------------------------------------------------------------------


def parse_import_checker(body: bytes) -> CheckerResult:
    """The 200 answer of `importTnChecker` (a 400 body raises, naming the API's error).

    A number listed both as importable and under `ImportTnErrors` counts as rejected.
    """
    root, name = _parse_typed(body)
    if name == _CHECKER_PAYLOAD:
        payload = root
    elif name == _CHECKER_ROOT:
        payloads = _kids(root, _CHECKER_PAYLOAD)
        if not payloads:
            raise XmlError(f"<{name}> has no {_CHECKER_PAYLOAD}{_api_error_hint(root)}")
        payload = payloads[0]
    else:
        raise XmlError(f"unexpected root <{name}>{_api_error_hint(root)}: expected {_CHECKER_ROOT}")
    rejected, _ = _errors_of(payload)
    if payload is not root:
        rejected += _errors_of(root)[0]
    refused = {n for failure in rejected for n in failure.numbers}
    importable = tuple(n for n in _numbers(payload) if n not in refused)
    return CheckerResult(importable=importable, rejected=tuple(rejected))


# --- tndetails -----------------------------------------------------------------------------------


def parse_tn_details(body: bytes, tn: str) -> TnDetails:
    """The answer of `GET /tns/{tn}/tndetails` (names matched case-insensitively, anywhere)."""
    root = parse_xml(body)
    texts: dict[str, str] = {}
    service_types: set[str] = set()
    for el in root.iter():
        name = local_name(el).lower()
        text = (el.text or "").strip()
        if name == "servicetype":
            service_types.add(text.lower())
        elif text:
            texts.setdefault(name, text)
    if "fullnumber" not in texts:
        raise XmlError(f"tndetails for {tn} has no FullNumber")
    sms = texts.get("smsenabled")
    return TnDetails(
        number=texts["fullnumber"],
        account_id=texts.get("accountid"),
        hosted=texts.get("hosted", "").lower() == "true" or "hosted messaging" in service_types,
        sms_enabled=None if sms is None else sms.lower() == "true",
        campaign_id=texts.get("campaignid"),
        message_class=texts.get("messageclass"),
    )
