"""v1 XML artefacts -> intents: request bodies, order GETs and listings, SIP-peer TN bodies.

What customers actually have: saved request bodies (one per file, or several concatenated),
curl scripts and request logs with bodies embedded in other text, `GET` answers and order
listings. A file that is one XML document is read as such; anything else is searched for the
documents named below, each parsed on its own with the hardened parser (`orchestrator.api.xml`).

    ExternalTnsOrder              Action IMPORT / REMOVE (body; or an order GET when it has a
                                  ProcessingStatus)
    ExternalTnsOrders             a listing: orders applied by OrderCreateDate
    ImportTnOrder                 import (body or GET)
    RemoveImportedTnOrder         remove (body or GET)
    SipPeerTelephoneNumber        MessagingSettings/SmsEnabled -> SMS on/off; the number from
                                  FullNumber or the request path, the site and SIP peer from
                                  elements, the request path in the text before it, or the
                                  file's own path (`sites/743/sippeers/303716/tns/...`)
    *Response wrappers            create answers and GET answers: no intent (noted)

Order reports (a `ProcessingStatus` is present): only COMPLETE and PARTIAL orders count, and
only their numbers v1 did not list under `Errors`; failed numbers become `V1Failure`s and
pending orders (RECEIVED, PROCESSING) are noted, not counted.

Pure; lxml elements never leave this module. Errors are `InputError`s naming file, line and
element.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from orchestrator.api.xml import Subscriber, parse_xml
from orchestrator.errors import InputError, XmlError
from orchestrator.v1.intent import (
    LOA_TYPES,
    Action,
    Entry,
    ImportSettings,
    InputKind,
    Note,
    Origin,
    ReadResult,
    V1Failure,
)

_ROOT_NAMES = (
    "ExternalTnsOrders",
    "ExternalTnsOrderResponse",
    "ExternalTnsOrder",
    "ImportTnOrdersResponse",
    "ImportTnOrderResponse",
    "ImportTnOrders",
    "ImportTnOrder",
    "RemoveImportedTnOrdersResponse",
    "RemoveImportedTnOrderResponse",
    "RemoveImportedTnOrders",
    "RemoveImportedTnOrder",
    "SipPeerTelephoneNumbersResponse",
    "SipPeerTelephoneNumberResponse",
    "SipPeerTelephoneNumbers",
    "SipPeerTelephoneNumber",
)
_ORDERS = ("ExternalTnsOrder", "ImportTnOrder", "RemoveImportedTnOrder")
_FRAGMENT = re.compile(r"<(" + "|".join(_ROOT_NAMES) + r")(?=[\s/>])")
_SIPPEER_PATH = re.compile(
    r"sites/([^/\s'\"?#]+)/sippeers/([^/\s'\"?#]+)/tns(?:/([^/\s'\"?#]+))?", re.IGNORECASE
)
_CONTEXT_CHARS = 4000  # text searched before an embedded SIP-peer TN body for its request path
# parser messages meaning "several documents in one file" (read them one by one)
_CONCATENATED = ("Extra content", "XML declaration allowed only at the start")
_TERMINAL_OK = ("COMPLETE", "PARTIAL")
_TERMINAL_FAILED = ("FAILED", "EXCEPTION")
_PENDING = ("RECEIVED", "PROCESSING")
_ORDER_ID = ("OrderId", "id", "orderId")
_STATUS = ("ProcessingStatus", "OrderStatus")


def has_v1_xml(text: str) -> bool:
    """True when `text` holds at least one v1 document this module reads."""
    return _FRAGMENT.search(text) is not None


def read_xml_input(data: bytes, source: str) -> ReadResult:
    """Read every v1 document in one input (a whole XML file, or documents embedded in text)."""
    result = ReadResult(source=source, kind=InputKind.XML_MIXED)
    reader = _Reader(result, source)
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if head.startswith(b"<"):
        try:
            root = parse_xml(data)
        except XmlError as exc:
            if not any(m in str(exc) for m in _CONCATENATED):
                raise InputError(f"{source}: {exc}") from exc
        else:
            reader.document(root, base_line=0, before="")
            return reader.finish()
    text = _decode(data)
    found = False
    for start, end, name in _fragments(text, source):
        found = True
        line = text.count("\n", 0, start) + 1
        before = text[max(0, start - _CONTEXT_CHARS) : start]
        reader.document(_parse_fragment(text[start:end], source, line, name), line - 1, before)
    if not found:
        raise InputError(f"{source}: no v1 document found (expected one of {', '.join(_ORDERS)})")
    return reader.finish()


def read_listing_pages(pages: list[bytes], source: str) -> ReadResult:
    """Read the pages of a live `externalTns` listing as one listing (orders de-duplicated)."""
    result = ReadResult(source=source, kind=InputKind.API_LISTING)
    reader = _Reader(result, source)
    chunks: dict[str, _Chunk] = {}
    for number, page in enumerate(pages, start=1):
        try:
            root = parse_xml(page)
        except XmlError as exc:
            raise InputError(f"{source} (page {number}): {exc}") from exc
        if _local(root) != "ExternalTnsOrders":
            raise InputError(
                f"{source} (page {number}): expected <ExternalTnsOrders>, got <{_local(root)}>"
            )
        for el in root.iterchildren("ExternalTnsOrder"):
            chunk = reader.order(el, 0, InputKind.API_LISTING)
            chunks.setdefault(chunk.origin.order_id or f"#{len(chunks)}", chunk)
    # v1 lists newest first: reversed, orders of the same instant keep their real sequence
    reader.emit_sorted(list(reversed(chunks.values())))
    result.documents = len(chunks)
    return reader.finish()


# --- locating documents ------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _fragments(text: str, source: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, root name) of each top-level v1 document embedded in `text`."""
    pos = 0
    while (match := _FRAGMENT.search(text, pos)) is not None:
        name = match.group(1)
        start = match.start()
        tag_end = text.find(">", match.end())
        if tag_end < 0:
            break
        if text[tag_end - 1] == "/":  # <X/>: an empty document
            yield start, tag_end + 1, name
            pos = tag_end + 1
            continue
        close = re.compile(rf"</{name}\s*>").search(text, tag_end)
        if close is None:
            line = text.count("\n", 0, start) + 1
            raise InputError(f"{source}:{line}: <{name}> is never closed (truncated?)")
        yield start, close.end(), name
        pos = close.end()


def _parse_fragment(fragment: str, source: str, line: int, name: str) -> etree._Element:
    """Parse one embedded document; JSON-escaped bodies (log lines) are unescaped first."""
    try:
        return parse_xml(fragment.encode("utf-8"))
    except XmlError as exc:
        if "\\n" in fragment or '\\"' in fragment:
            try:
                return parse_xml(json.loads(f'"{fragment}"').encode("utf-8"))
            except (ValueError, XmlError):
                pass
        raise InputError(f"{source}:{line}: <{name}>: {exc}") from exc


# --- element access ------------------------------------------------------------------------------


def _local(el: etree._Element) -> str:
    return str(el.tag).rpartition("}")[2]


def _line(el: etree._Element) -> int:
    """The element's 1-based line in the parsed text (lxml-stubs type it loosely)."""
    line = getattr(el, "sourceline", None)
    return line if isinstance(line, int) else 1


def _text(el: etree._Element, *names: str) -> str | None:
    for child in el.iterchildren(*names):
        text = (child.text or "").strip()
        if text:
            return text
    return None


def _child(el: etree._Element, *names: str) -> etree._Element | None:
    return next(el.iterchildren(*names), None)


def _digits_key(raw: str) -> str:
    digits = "".join(ch for ch in raw if ch.isdigit())
    return digits[-10:] if len(digits) == 11 and digits.startswith("1") else digits


@dataclass(slots=True)
class _Chunk:
    """What one order document gives, kept together so listings can be sorted by date."""

    origin: Origin
    entries: list[Entry] = field(default_factory=list)
    failures: list[V1Failure] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def sort_key(self) -> datetime:
        text = self.origin.order_date
        if text:
            try:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
                return when if when.tzinfo else when.replace(tzinfo=UTC)
            except ValueError:
                pass
        return datetime.min.replace(tzinfo=UTC)


class _Reader:
    """Reads documents into one `ReadResult`."""

    def __init__(self, result: ReadResult, source: str) -> None:
        self.result = result
        self.source = source
        self.kinds: set[InputKind] = set()

    def fail(self, el: etree._Element, base_line: int, message: str) -> InputError:
        line = _line(el) + base_line
        return InputError(f"{self.source}:{line}: <{_local(el)}>: {message}")

    def finish(self) -> ReadResult:
        if len(self.kinds) == 1:
            self.result.kind = next(iter(self.kinds))
        return self.result

    def note(self, el: etree._Element, base_line: int, message: str) -> None:
        self.result.notes.append(Note(self.source, _line(el) + base_line, message))

    def emit(self, chunk: _Chunk) -> None:
        self.result.entries += chunk.entries
        self.result.failures += chunk.failures
        self.result.notes += chunk.notes

    def emit_sorted(self, chunks: list[_Chunk]) -> None:
        for chunk in sorted(chunks, key=_Chunk.sort_key):  # stable: same date keeps file order
            self.emit(chunk)

    def document(self, root: etree._Element, base_line: int, before: str) -> None:
        """Read one top-level document."""
        if str(root.tag).startswith("{"):
            for el in root.iter():
                el.tag = _local(el)
        name = _local(root)
        self.result.documents += 1
        if name in _ORDERS:
            self.emit(self.order(root, base_line, None))
        elif name == "ExternalTnsOrders":
            self.listing(root, base_line)
        elif name == "SipPeerTelephoneNumber":
            self.sip_peer_tn(root, base_line, before)
        elif name.endswith("Response"):
            self.response(root, base_line)
        elif name in ("ImportTnOrders", "RemoveImportedTnOrders"):
            self.note(
                root,
                base_line,
                f"<{name}> lists order summaries without numbers: skipped; "
                "save each order's GET (.../{orderId}) and convert those instead",
            )
        elif name == "SipPeerTelephoneNumbers":
            self.note(root, base_line, "a SIP peer's TN listing (state, not a change): skipped")
        else:
            orders = list(root.iterchildren(*_ORDERS))
            if not orders:
                raise self.fail(
                    root,
                    base_line,
                    "not a v1 document bwmigrate converts (expected one of "
                    f"{', '.join((*_ORDERS, 'ExternalTnsOrders', 'SipPeerTelephoneNumber'))})",
                )
            for el in orders:
                self.emit(self.order(el, base_line, None))

    def listing(self, root: etree._Element, base_line: int) -> None:
        """`ExternalTnsOrders`: full orders, applied by OrderCreateDate."""
        chunks = [
            self.order(el, base_line, InputKind.EXTERNAL_TNS_REPORT)
            for el in root.iterchildren("ExternalTnsOrder")
        ]
        total = _text(root, "TotalCount")
        if total is not None and total.isdigit() and int(total) != len(chunks):
            self.note(
                root,
                base_line,
                f"the listing says TotalCount {total} but holds {len(chunks)} "
                "orders: it is truncated or one page of several; convert every page",
            )
        self.emit_sorted(chunks)

    def response(self, root: etree._Element, base_line: int) -> None:
        """A create or GET answer: an intent only when it holds a finished order."""
        name = _local(root)
        status = _child(root, "ResponseStatus")
        if status is not None:
            code = _text(status, "ErrorCode") or "?"
            desc = _text(status, "Description") or ""
            self.note(root, base_line, f"<{name}>: v1 answered error {code} ({desc}): skipped")
            return
        orders = list(root.iterchildren(*_ORDERS))
        if name.startswith("SipPeerTelephoneNumber") or not orders:
            self.note(root, base_line, f"<{name}> is an answer (state, not a change): skipped")
            return
        for el in orders:
            chunk = self.order(el, base_line, None)
            if chunk.origin.status in _PENDING:
                self.note(
                    root,
                    base_line,
                    f"<{name}>: create answer ({chunk.origin.status}), an echo "
                    "of a request body: skipped (convert the body, or the order's GET later)",
                )
            else:
                self.emit(chunk)

    # --- orders -----------------------------------------------------------------------------

    def order(self, el: etree._Element, base_line: int, kind: InputKind | None) -> _Chunk:
        """One ExternalTnsOrder / ImportTnOrder / RemoveImportedTnOrder (body or report)."""
        name = _local(el)
        status = _text(el, *_STATUS)
        action, settings = self.action_of(el, base_line, name)
        is_report = status is not None
        if kind is None:
            kind = {
                ("ExternalTnsOrder", False): InputKind.EXTERNAL_TNS_BODY,
                ("ExternalTnsOrder", True): InputKind.EXTERNAL_TNS_REPORT,
                ("ImportTnOrder", False): InputKind.IMPORT_TN_BODY,
                ("ImportTnOrder", True): InputKind.IMPORT_TN_REPORT,
                ("RemoveImportedTnOrder", False): InputKind.REMOVE_IMPORTED_BODY,
                ("RemoveImportedTnOrder", True): InputKind.REMOVE_IMPORTED_REPORT,
            }[(name, is_report)]
        self.kinds.add(kind)
        account = _text(el, "AccountId", "accountId")
        if account:
            self.result.account_ids.add(account)
        origin = Origin(
            source=self.source,
            kind=kind,
            line=_line(el) + base_line,
            order_id=_text(el, *_ORDER_ID),
            customer_order_id=_text(el, "CustomerOrderId", "CustomerOrderID"),
            order_date=_text(el, "OrderCreateDate", "OrderDate"),
            status=status.upper() if status else None,
        )
        numbers = self.numbers(el, base_line)
        if not numbers:
            raise self.fail(el, base_line, "has no <TelephoneNumbers>/<TelephoneNumber>")
        chunk = _Chunk(origin)
        if origin.status is None:
            chunk.entries = [Entry(raw, line, action, origin, settings) for raw, line in numbers]
            return chunk
        self.apply_status(chunk, el, base_line, numbers, action, settings)
        return chunk

    def action_of(
        self, el: etree._Element, base_line: int, name: str
    ) -> tuple[Action, ImportSettings | None]:
        if name == "RemoveImportedTnOrder":
            return Action.REMOVE, None
        if name == "ExternalTnsOrder":
            action_el = _child(el, "Action")
            action = (_text(el, "Action") or "").upper()
            if action not in ("IMPORT", "REMOVE"):
                where = action_el if action_el is not None else el
                shown = f"<Action> {action!r}" if action else "no <Action>"
                raise self.fail(where, base_line, f"{shown}: expected IMPORT or REMOVE")
            if action == "REMOVE":
                return Action.REMOVE, None
            return Action.IMPORT, self.import_settings(el, base_line, "CARRIER")
        return Action.IMPORT, self.import_settings(el, base_line, "SUBSCRIBER")

    def import_settings(
        self, el: etree._Element, base_line: int, default_loa: str
    ) -> ImportSettings:
        site = _text(el, "SiteId")
        if site is None or not site.isdigit():
            shown = f"<SiteId> {site!r} is not a number" if site else "no <SiteId>"
            raise self.fail(el, base_line, f"{shown}: an import needs the site (sub-account) id")
        peer = _text(el, "SipPeerId")
        if peer is not None and not peer.isdigit():
            raise self.fail(el, base_line, f"<SipPeerId> {peer!r} is not a number")
        loa = (_text(el, "LoaType") or default_loa).upper()
        if loa not in LOA_TYPES:
            raise self.fail(el, base_line, f"<LoaType> {loa!r}: expected CARRIER or SUBSCRIBER")
        return ImportSettings(
            site_id=site,
            sip_peer_id=peer,
            loa_type=loa,
            subscriber=self.subscriber(el, base_line),
            loa_authorizing_person=_text(el, "LoaAuthorizingPerson"),
        )

    def subscriber(self, el: etree._Element, base_line: int) -> Subscriber | None:
        sub = _child(el, "Subscriber")
        if sub is None:
            return None
        name = _text(sub, "Name")
        if name is None:
            raise self.fail(sub, base_line, "has no <Name>")
        if len(name) > 45:
            raise self.fail(sub, base_line, "<Name> is longer than 45 characters (error 25131)")
        address = _child(sub, "ServiceAddress")

        def part(tag: str) -> str | None:
            return _text(address, tag) if address is not None else None

        return Subscriber(
            name=name,
            house_number=part("HouseNumber"),
            street_name=part("StreetName"),
            city=part("City"),
            state_code=part("StateCode"),
            zip=part("Zip"),
            county=part("County"),
        )

    def numbers(self, el: etree._Element, base_line: int) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        for child in el.iterchildren("TelephoneNumbers", "TelephoneNumber"):
            tns = (
                [child] if child.tag == "TelephoneNumber" else child.iterchildren("TelephoneNumber")
            )
            for tn in tns:
                text = (tn.text or "").strip()
                if text:
                    found.append((text, _line(tn) + base_line))
        return found

    def apply_status(
        self,
        chunk: _Chunk,
        el: etree._Element,
        base_line: int,
        numbers: list[tuple[str, int]],
        action: Action,
        settings: ImportSettings | None,
    ) -> None:
        """Only COMPLETE/PARTIAL orders' successful numbers count; the rest is reported."""
        origin = chunk.origin
        status = origin.status or ""
        failed, order_error = self.errors(el)
        if status in _PENDING:
            chunk.notes.append(
                Note(
                    self.source,
                    origin.line,
                    f"order {origin.order_id or '?'} is {status} on v1: "
                    f"its {len(numbers)} numbers are not counted (outcome unknown); convert its "
                    "GET again once it has finished",
                )
            )
            return
        if status not in (*_TERMINAL_OK, *_TERMINAL_FAILED):
            raise self.fail(el, base_line, f"unknown ProcessingStatus {status!r}")
        whole = status in _TERMINAL_FAILED
        listed = set()
        for raw, line in numbers:
            key = _digits_key(raw)
            listed.add(key)
            if key in failed or whole:
                code, desc = failed.get(key) or order_error or (None, f"order {status} on v1")
                chunk.failures.append(V1Failure(raw, line, action, origin, code, desc))
            else:
                chunk.entries.append(Entry(raw, line, action, origin, settings))
        for key, (code, desc) in failed.items():
            if key not in listed:  # named under Errors only
                chunk.failures.append(V1Failure(key, origin.line, action, origin, code, desc))

    def errors(
        self, el: etree._Element
    ) -> tuple[dict[str, tuple[str | None, str]], tuple[str | None, str] | None]:
        """Per-number failures (shape 3) and the first order-level error (shape 2 or 3)."""
        failed: dict[str, tuple[str | None, str]] = {}
        order_error: tuple[str | None, str] | None = None
        for container in el.iterchildren("Errors", "ErrorList"):
            direct = _text(container, "Code")
            if direct is not None and order_error is None:
                order_error = (direct, _text(container, "Description") or "")
            for error in container.iterchildren("Error"):
                detail = (_text(error, "Code"), _text(error, "Description") or "")
                tns = [
                    (tn.text or "").strip()
                    for tn in error.iter("TelephoneNumber")
                    if (tn.text or "").strip()
                ]
                if not tns and order_error is None:
                    order_error = detail
                for tn in tns:
                    failed.setdefault(_digits_key(tn), detail)
        return failed, order_error

    # --- SIP-peer TN bodies -----------------------------------------------------------------

    def sip_peer_tn(self, el: etree._Element, base_line: int, before: str) -> None:
        """`SipPeerTelephoneNumber` with MessagingSettings/SmsEnabled -> SMS on/off."""
        self.kinds.add(InputKind.SIP_PEER_TN)
        site, peer, path_tn = _sip_peer_context(before, self.source)
        site = _text(el, "SiteId") or site
        peer = _text(el, "SipPeerId") or peer
        full = _text(el, "FullNumber")
        if full and path_tn and _digits_key(full) != _digits_key(path_tn):
            raise self.fail(
                el, base_line, f"<FullNumber> {full} does not match {path_tn} in the request path"
            )
        raw = full or path_tn
        if raw is None:
            raise self.fail(
                el,
                base_line,
                "no <FullNumber> and no .../tns/{number} request path before it "
                "or in the file's path: cannot tell which number it changes",
            )
        settings = _child(el, "MessagingSettings")
        sms = _text(settings, "SmsEnabled") if settings is not None else None
        line = _line(el) + base_line
        if sms is None:
            self.note(
                el,
                base_line,
                f"sets no MessagingSettings/SmsEnabled for {raw}: nothing "
                "to migrate (other SIP-peer TN settings still work on v2)",
            )
            return
        if sms.lower() not in ("true", "false"):
            raise self.fail(el, base_line, f"<SmsEnabled> {sms!r}: expected true or false")
        origin = Origin(
            source=self.source,
            kind=InputKind.SIP_PEER_TN,
            line=line,
            site_id=site,
            sip_peer_id=peer,
        )
        action = Action.SMS_ON if sms.lower() == "true" else Action.SMS_OFF
        self.result.entries.append(Entry(raw, line, action, origin))


def _sip_peer_context(before: str, source: str) -> tuple[str | None, str | None, str | None]:
    """Site, SIP peer and number from the last `sites/{s}/sippeers/{p}/tns/{tn}` before the
    body (a curl line, a log line), else from the file's own path. Placeholders are ignored."""
    for text in (before, source.replace("\\", "/")):
        matches = list(_SIPPEER_PATH.finditer(text))
        if matches:
            site, peer, tn = matches[-1].groups()
            number = re.match(r"\+?\d{7,15}", tn or "")
            return (
                site if site.isdigit() else None,
                peer if peer.isdigit() else None,
                number.group(0) if number else None,
            )
    return None, None, None


# --- live listing pages ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageInfo:
    """What paging needs from one `ExternalTnsOrders` page."""

    total_count: int | None
    next_query: str | None  # the query string of `Links/next`, if any
    order_ids: tuple[str, ...]
    oldest_date: str | None  # yyyy-mm-dd of the oldest order on the page


_NEXT_LINK = re.compile(r"<([^>]*)>")


def listing_page_info(body: bytes, source: str) -> PageInfo:
    """Read the paging facts of one listing page (reference §12: `Links/next` holds
    `Link=<https://…?page=X&size=N>;rel="next";`)."""
    try:
        root = parse_xml(body)
    except XmlError as exc:
        raise InputError(f"{source}: {exc}") from exc
    if _local(root) != "ExternalTnsOrders":
        raise InputError(f"{source}: expected <ExternalTnsOrders>, got <{_local(root)}>")
    total = _text(root, "TotalCount")
    next_query = None
    links = _child(root, "Links")
    if links is not None:
        text = _text(links, "next")
        if text:
            match = _NEXT_LINK.search(text)
            url = match.group(1) if match else text
            next_query = url.partition("?")[2] or None
    ids, dates = [], []
    for el in root.iterchildren("ExternalTnsOrder"):
        ids.append(_text(el, *_ORDER_ID) or "")
        date = _text(el, "OrderCreateDate")
        if date:
            dates.append(date[:10])
    return PageInfo(
        total_count=int(total) if total and total.isdigit() else None,
        next_query=next_query,
        order_ids=tuple(ids),
        oldest_date=min(dates) if dates else None,
    )
