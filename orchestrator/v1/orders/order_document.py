"""v1 order documents: ExternalTnsOrder, ImportTnOrder, RemoveImportedTnOrder, body or report.

This module owns `OrderReader.read`: one order element -> a `Chunk` (its origin, its entries,
the numbers v1 reported as failed, notes). Bodies give one intent per number; order reports
(a `ProcessingStatus` is present) count only COMPLETE and PARTIAL orders, and only their
numbers v1 did not list under `Errors`; failed numbers become `V1Failure`s and pending orders
(RECEIVED, PROCESSING) are noted, not counted. Where a document sits in a file and what kind
of document it is are `orchestrator.v1.orders.reader`'s business.

Pure. lxml elements come in from the package's reader and never go further than this package.
Imports only the standard library, `orchestrator.api.xml` (the `Subscriber` record),
`orchestrator.errors`, `orchestrator.v1.intent` and its sibling `element`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from orchestrator.api.xml import Subscriber
from orchestrator.errors import InputError
from orchestrator.text import counted
from orchestrator.v1.intent import (
    LOA_TYPES,
    Action,
    Entry,
    ImportSettings,
    InputKind,
    Note,
    Origin,
    V1Failure,
)
from orchestrator.v1.orders.element import (
    child_text,
    digits_key,
    element_error,
    first_child,
    line_of,
    local_name,
)

__all__ = ["ORDER_ID", "PENDING", "Chunk", "OrderReader"]

_TERMINAL_OK = ("COMPLETE", "PARTIAL")
_TERMINAL_FAILED = ("FAILED", "EXCEPTION")
PENDING = ("RECEIVED", "PROCESSING")
ORDER_ID = ("OrderId", "id", "orderId")
_STATUS = ("ProcessingStatus", "OrderStatus")


@dataclass(slots=True)
class Chunk:
    """What one order document gives, kept together so listings can be sorted by date."""

    origin: Origin
    entries: list[Entry] = field(default_factory=list)
    failures: list[V1Failure] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    account_id: str | None = None  # the order's AccountId, if it names one

    def sort_key(self) -> datetime:
        text = self.origin.order_date
        if text:
            try:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
                return when if when.tzinfo else when.replace(tzinfo=UTC)
            except ValueError:
                pass
        return datetime.min.replace(tzinfo=UTC)


class OrderReader:
    """Reads the order documents of one input (`source`) into `Chunk`s."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, el: etree._Element, base_line: int, message: str) -> InputError:
        return element_error(self.source, el, base_line, message)

    def read(self, el: etree._Element, base_line: int, kind: InputKind | None) -> Chunk:
        """One ExternalTnsOrder / ImportTnOrder / RemoveImportedTnOrder (body or report)."""
        name = local_name(el)
        status = child_text(el, *_STATUS)
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
        origin = Origin(
            source=self.source,
            kind=kind,
            line=line_of(el) + base_line,
            order_id=child_text(el, *ORDER_ID),
            customer_order_id=child_text(el, "CustomerOrderId", "CustomerOrderID"),
            order_date=child_text(el, "OrderCreateDate", "OrderDate"),
            status=status.upper() if status else None,
        )
        numbers = self.numbers(el, base_line)
        if not numbers:
            raise self.fail(el, base_line, "has no <TelephoneNumbers>/<TelephoneNumber>")
        chunk = Chunk(origin, account_id=child_text(el, "AccountId", "accountId"))
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
            action_el = first_child(el, "Action")
            action = (child_text(el, "Action") or "").upper()
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
        site = child_text(el, "SiteId")
        if site is None or not site.isdigit():
            shown = f"<SiteId> {site!r} is not a number" if site else "no <SiteId>"
            raise self.fail(el, base_line, f"{shown}: an import needs the site (sub-account) id")
        peer = child_text(el, "SipPeerId")
        if peer is not None and not peer.isdigit():
            raise self.fail(el, base_line, f"<SipPeerId> {peer!r} is not a number")
        loa = (child_text(el, "LoaType") or default_loa).upper()
        if loa not in LOA_TYPES:
            raise self.fail(el, base_line, f"<LoaType> {loa!r}: expected CARRIER or SUBSCRIBER")
        return ImportSettings(
            site_id=site,
            sip_peer_id=peer,
            loa_type=loa,
            subscriber=self.subscriber(el, base_line),
            loa_authorizing_person=child_text(el, "LoaAuthorizingPerson"),
        )

    def subscriber(self, el: etree._Element, base_line: int) -> Subscriber | None:
        sub = first_child(el, "Subscriber")
        if sub is None:
            return None
        name = child_text(sub, "Name")
        if name is None:
            raise self.fail(sub, base_line, "has no <Name>")
        if len(name) > 45:
            raise self.fail(sub, base_line, "<Name> is longer than 45 characters (error 25131)")
        address = first_child(sub, "ServiceAddress")

        def part(tag: str) -> str | None:
            return child_text(address, tag) if address is not None else None

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
                    found.append((text, line_of(tn) + base_line))
        return found

    def apply_status(
        self,
        chunk: Chunk,
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
        if status in PENDING:
            chunk.notes.append(
                Note(
                    self.source,
                    origin.line,
                    f"order {origin.order_id or '?'} is {status} on v1: "
                    f"its {counted(len(numbers), 'number')} not counted (outcome unknown); "
                    "convert its GET again once it has finished",
                )
            )
            return
        if status not in (*_TERMINAL_OK, *_TERMINAL_FAILED):
            raise self.fail(el, base_line, f"unknown ProcessingStatus {status!r}")
        whole = status in _TERMINAL_FAILED
        listed = set()
        for raw, line in numbers:
            key = digits_key(raw)
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
            direct = child_text(container, "Code")
            if direct is not None and order_error is None:
                order_error = (direct, child_text(container, "Description") or "")
            for error in container.iterchildren("Error"):
                detail = (child_text(error, "Code"), child_text(error, "Description") or "")
                tns = [
                    (tn.text or "").strip()
                    for tn in error.iter("TelephoneNumber")
                    if (tn.text or "").strip()
                ]
                if not tns and order_error is None:
                    order_error = detail
                for tn in tns:
                    failed.setdefault(digits_key(tn), detail)
        return failed, order_error
