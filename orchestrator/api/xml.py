"""The v2 API's XML codec: build request bodies, parse responses, and the hardened parser.

Owns every XML byte the client sends or reads. Builders return UTF-8 bytes with an XML
declaration; parsers take bytes and return frozen dataclasses, so lxml elements never leave this
module (except through `parse_xml`, kept for the package's own v1 readers). Every failure is an
`XmlError` with a one-line message naming what was unexpected.

Pure: no I/O, no clock, no environment. Must not import httpx, anyio, sqlmodel, rich or click.
Numbers pass through as text: normalising them is `numbers.py`'s job, not this module's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from orchestrator.errors import XmlError, one_line
from orchestrator.plan.model import BODY_FORMS, A2pSettings, Subscriber

__all__ = [
    "IMPORT_BODY_FORMS",
    "MAX_BODY_BYTES",
    "MAX_TEXT_CHARS",
    "A2pSettings",
    "ApiErrorDetail",
    "CheckerResult",
    "NumberFailure",
    "NumberWarning",
    "OrderDoc",
    "OrderList",
    "OrderSummary",
    "Subscriber",
    "build_import_checker",
    "build_import_order",
    "build_remove_order",
    "build_tn_option_order",
    "parse_errors",
    "parse_import_checker",
    "parse_order",
    "parse_order_list",
    "parse_xml",
]

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# Characters XML 1.0 forbids outright; escaping cannot make them legal.
_ILLEGAL_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --- builders -----------------------------------------------------------------------------------


def _escape(value: str, element: str) -> str:
    if _ILLEGAL_XML_CHARS.search(value):
        raise XmlError(f"cannot build <{element}>: value {value!r} has a character XML forbids")
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\r", "&#13;")  # a raw CR would be read back as LF


class _Writer:
    """Indented XML text built line by line; values escaped, `None` values left out."""

    __slots__ = ("_lines", "_open")

    def __init__(self) -> None:
        self._lines: list[str] = [_DECLARATION]
        self._open: list[str] = []

    def start(self, tag: str) -> None:
        self._lines.append(f"{'  ' * len(self._open)}<{tag}>\n")
        self._open.append(tag)

    def end(self) -> None:
        tag = self._open.pop()
        self._lines.append(f"{'  ' * len(self._open)}</{tag}>\n")

    def leaf(self, tag: str, value: str | None) -> None:
        if value is not None:
            self._lines.append(f"{'  ' * len(self._open)}<{tag}>{_escape(value, tag)}</{tag}>\n")

    def numbers(self, numbers: Sequence[str], root: str) -> None:
        if not numbers:
            raise XmlError(f"cannot build <{root}>: no telephone numbers given")
        indent = "  " * (len(self._open) + 1)
        self.start("TelephoneNumbers")
        self._lines.extend(
            f"{indent}<TelephoneNumber>{_escape(n, 'TelephoneNumber')}</TelephoneNumber>\n"
            for n in numbers
        )
        self.end()

    def to_bytes(self) -> bytes:
        assert not self._open, f"unclosed elements {self._open}"
        return "".join(self._lines).encode("utf-8")


IMPORT_BODY_FORMS = BODY_FORMS
"""The two documented import bodies: the published v2 schema's (the default) and the migration
guide's (reference §8). Mirrors `orchestrator.spec.IMPORT_BODY_FORMS`."""


def build_import_order(
    *,
    body_form: str,
    customer_order_id: str,
    site_id: str,
    sip_peer_id: str | None,
    loa_type: str,
    numbers: Sequence[str],
    subscriber: Subscriber | None = None,
    loa_authorizing_person: str | None = None,
) -> bytes:
    """The body of `POST /accounts/{a}/importTnOrders/messaging`, in the form asked for.

    `"ImportTnOrder"` is the published v2 schema's form (`ImportTnOrderRequest`; every official
    SDK sends it): CustomerOrderId, SiteId, SipPeerId, Subscriber{Name, ServiceAddress},
    LoaAuthorizingPerson, LoaType, TelephoneNumbers, in that order, absent values left out.
    `"ExternalTnsOrder"` is the migration guide's form: CustomerOrderId, SiteId, SipPeerId,
    LoaType, TelephoneNumbers (no Action, no Subscriber, no LoaAuthorizingPerson: giving either
    is an `XmlError`). `LoaType` is always sent: the schema defaults it to SUBSCRIBER.
    """
    if body_form not in IMPORT_BODY_FORMS:
        raise XmlError(
            f"cannot build an import order in form {body_form!r}: "
            f"expected one of {', '.join(IMPORT_BODY_FORMS)}"
        )
    if body_form == "ExternalTnsOrder" and (
        subscriber is not None or loa_authorizing_person is not None
    ):
        raise XmlError(
            "cannot build <ExternalTnsOrder> with a subscriber or an LOA authorizing person: "
            "that form has no such elements"
        )
    w = _Writer()
    w.start(body_form)
    w.leaf("CustomerOrderId", customer_order_id)
    w.leaf("SiteId", site_id)
    w.leaf("SipPeerId", sip_peer_id)
    if subscriber is not None:
        _write_subscriber(w, subscriber)
    w.leaf("LoaAuthorizingPerson", loa_authorizing_person)
    w.leaf("LoaType", loa_type)
    w.numbers(numbers, body_form)
    w.end()
    return w.to_bytes()


def _write_subscriber(w: _Writer, subscriber: Subscriber) -> None:
    w.start("Subscriber")
    w.leaf("Name", subscriber.name)
    address = (
        ("HouseNumber", subscriber.house_number),
        ("StreetName", subscriber.street_name),
        ("City", subscriber.city),
        ("StateCode", subscriber.state_code),
        ("Zip", subscriber.zip),
        ("County", subscriber.county),
    )
    if any(value is not None for _, value in address):
        w.start("ServiceAddress")
        for tag, value in address:
            w.leaf(tag, value)
        w.end()
    w.end()


def build_remove_order(*, customer_order_id: str, numbers: Sequence[str]) -> bytes:
    """The body of `POST /accounts/{a}/removeImportedTnOrders/messaging`."""
    w = _Writer()
    w.start("RemoveImportedTnOrder")
    w.leaf("CustomerOrderId", customer_order_id)
    w.numbers(numbers, "RemoveImportedTnOrder")
    w.end()
    return w.to_bytes()


def build_tn_option_order(
    *, customer_order_id: str, sms: str | None, a2p: A2pSettings | None, numbers: Sequence[str]
) -> bytes:
    """The body of `POST /accounts/{a}/tnoptions`: one option group for all `numbers`.

    `sms` is `on`, `off` or `unchanged`; an omitted element means "unchanged" to the API, so at
    least one of `sms` and `a2p` must be given (the API answers 5115 otherwise).
    """
    if sms is None and a2p is None:
        raise XmlError("cannot build <TnOptionOrder>: give at least one option (sms or a2p)")
    w = _Writer()
    w.start("TnOptionOrder")
    w.leaf("CustomerOrderId", customer_order_id)
    w.start("TnOptionGroups")
    w.start("TnOptionGroup")
    w.leaf("Sms", sms)
    if a2p is not None:
        w.start("A2pSettings")
        w.leaf("MessageClass", a2p.message_class)
        w.leaf("CampaignId", a2p.campaign_id)
        w.leaf("Action", a2p.action)
        w.end()
    w.numbers(numbers, "TnOptionOrder")
    w.end()
    w.end()
    w.end()
    return w.to_bytes()


def build_import_checker(*, site_id: str, sip_peer_id: str | None, numbers: Sequence[str]) -> bytes:
    """The body of `POST /accounts/{a}/importTnChecker` (element order as in reference §6)."""
    w = _Writer()
    w.start("ImportTnCheckerPayload")
    w.numbers(numbers, "ImportTnCheckerPayload")
    w.leaf("SiteId", site_id)
    w.leaf("SipPeerId", sip_peer_id)
    w.end()
    return w.to_bytes()


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
    """An order listing; `total_count` may exceed `len(orders)` (the API returns at most 1000)."""

    total_count: int
    orders: tuple[OrderSummary, ...]


@dataclass(frozen=True, slots=True)
class CheckerResult:
    """The answer of `importTnChecker`: numbers that may be imported, and those rejected why."""

    importable: tuple[str, ...]
    rejected: tuple[NumberFailure, ...]


# --- the hardened parser ------------------------------------------------------------------------

MAX_BODY_BYTES = 64 * 1024 * 1024
"""Largest document `parse_xml` accepts by default (a 5000-number order is about 250 KB)."""

MAX_TEXT_CHARS = 1_000_000
"""Longest text node accepted; nothing in these APIs comes near it."""

_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")  # UTF-16 / UTF-32
_WHITESPACE = b" \t\r\n"


def parse_xml(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> etree._Element:
    """Parse an untrusted document with DTDs, entities, network access and huge trees refused.

    For the package's own readers (v1 artefacts); everything else uses the typed parsers below.
    """
    if len(body) > max_bytes:
        raise XmlError(f"document of {len(body)} bytes exceeds the {max_bytes}-byte limit")
    _check_prolog(body)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise XmlError(_describe_syntax_error(exc)) from exc
    except (etree.LxmlError, ValueError, LookupError) as exc:
        raise XmlError(f"unreadable XML: {one_line(str(exc))}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None:  # any DOCTYPE, even without an internal subset
        raise XmlError("document has a DOCTYPE: DTDs and entities are not accepted")
    if _local(root).lower() == "html":
        raise XmlError("expected XML, got HTML (an error page?)")
    if len(body) > MAX_TEXT_CHARS:
        _check_text_sizes(root)
    return root


def _check_prolog(body: bytes) -> None:
    """Reject empty, HTML, JSON and DTD-bearing bodies before the parser sees them."""
    head = body.removeprefix(b"\xef\xbb\xbf").lstrip(_WHITESPACE)
    if not head:
        raise XmlError("empty body: expected an XML document")
    if body.startswith(_WIDE_BOMS) or b"\x00" in body[:4]:
        return  # UTF-16/32: left to the parser, checked again on the parsed tree
    while head.startswith((b"<?", b"<!--")):
        close = b"?>" if head.startswith(b"<?") else b"-->"
        end = head.find(close)
        if end < 0:
            break  # let the parser name the problem
        head = head[end + len(close) :].lstrip(_WHITESPACE)
    lowered = head[:32].lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        raise XmlError("expected XML, got HTML (an error page?)")
    if lowered.startswith((b"<!doctype", b"<!entity")):
        raise XmlError("document has a DOCTYPE: DTDs and entities are not accepted")
    if head.startswith((b"{", b"[")):
        raise XmlError("expected XML, got JSON")
    if head and not head.startswith(b"<"):
        raise XmlError(f"expected XML, got text starting {head[:20]!r}")


def _describe_syntax_error(exc: etree.XMLSyntaxError) -> str:
    message = one_line(str(exc.msg or exc))  # libxml2 ends some messages with "\n"
    if "Excessive depth" in message:
        return "malformed XML: nested deeper than the parser's limit of 256 levels"
    if "amplification" in message:
        return "malformed XML: entity expansion refused (DTDs and entities are not accepted)"
    return f"malformed or truncated XML: {message}"


def _check_text_sizes(root: etree._Element) -> None:
    for el in root.iter():
        for text in (el.text, el.tail):
            if text is not None and len(text) > MAX_TEXT_CHARS:
                raise XmlError(
                    f"text node in <{_local(el)}> of {len(text)} characters exceeds the "
                    f"{MAX_TEXT_CHARS}-character limit"
                )


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


def _local(el: etree._Element) -> str:
    return str(el.tag).rpartition("}")[2]


def _parse_typed(body: bytes) -> tuple[etree._Element, str]:
    """`parse_xml` with namespaces dropped (the API uses none); also the root's reference name.

    The root is matched case-insensitively against `_ROOT_SPELLING`.
    """
    root = parse_xml(body)
    if str(root.tag).startswith("{"):
        for el in root.iter():
            el.tag = _local(el)
    name = _local(root)
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
        raise XmlError(f"<{_local(el)}> has <{names[0]}> {text!r}: expected a whole number")
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
    if not body.removeprefix(b"\xef\xbb\xbf").strip(_WHITESPACE):
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
        raise XmlError(f"<{_local(where)}> {holds}{_api_error_hint(where)}")
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
    return OrderList(total_count=len(orders) if total is None else total, orders=tuple(orders))


def _read_summary(item: etree._Element) -> OrderSummary:
    order_id = _text(item, _ORDER_ID)
    status = _text(item, _STATUS)
    if order_id is None or status is None:
        missing = "OrderId" if order_id is None else "OrderStatus"
        raise XmlError(f"<{_local(item)}> in an order list has no {missing}")
    return OrderSummary(
        order_id=order_id,
        customer_order_id=_text(item, _CUSTOMER_ORDER_ID),
        status=status.upper(),
        count=_int(item, _COUNT),
        order_date=_text(item, _ORDER_DATE),
    )


def _summarise(order: OrderDoc, item: etree._Element) -> OrderSummary:
    if order.order_id is None:
        raise XmlError(f"<{_local(item)}> in an order list has no OrderId")
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
