"""Reading one input's v1 documents into a `ReadResult`: a whole XML file, documents embedded
in other text, or the pages of the live listing.

This module owns `read_xml_input` and `read_listing_pages`, and the dispatch of each top-level
document by kind: orders (`order_document`), listings (`ExternalTnsOrders`, applied by
OrderCreateDate), SIP-peer TN bodies (`sip_peer`), `*Response` wrappers (no intent unless they
hold a finished order: noted), order summaries and TN listings (noted, skipped).

Pure. lxml elements never leave this package. Imports only the hardened XML parser,
`orchestrator.errors`, `orchestrator.v1.intent` and its siblings.
"""

from __future__ import annotations

from lxml import etree

from orchestrator.api.xml import parse_xml
from orchestrator.errors import InputError, XmlError
from orchestrator.v1.intent import InputKind, Note, ReadResult
from orchestrator.v1.orders.element import (
    child_text,
    element_error,
    first_child,
    line_of,
    local_name,
)
from orchestrator.v1.orders.fragment import ORDERS, decode, fragments, parse_fragment
from orchestrator.v1.orders.order_document import PENDING, Chunk, OrderReader
from orchestrator.v1.orders.sip_peer import CONTEXT_CHARS, read_sip_peer_tn

__all__ = ["read_listing_pages", "read_xml_input"]

# parser messages meaning "several documents in one file" (read them one by one)
_CONCATENATED = ("Extra content", "XML declaration allowed only at the start")


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
    text = decode(data)
    found = False
    for start, end, name in fragments(text, source):
        found = True
        line = text.count("\n", 0, start) + 1
        before = text[max(0, start - CONTEXT_CHARS) : start]
        reader.document(parse_fragment(text[start:end], source, line, name), line - 1, before)
    if not found:
        raise InputError(f"{source}: no v1 document found (expected one of {', '.join(ORDERS)})")
    return reader.finish()


def read_listing_pages(pages: list[bytes], source: str) -> ReadResult:
    """Read the pages of a live `externalTns` listing as one listing (orders de-duplicated)."""
    result = ReadResult(source=source, kind=InputKind.API_LISTING)
    reader = _Reader(result, source)
    chunks: dict[str, Chunk] = {}
    for number, page in enumerate(pages, start=1):
        try:
            root = parse_xml(page)
        except XmlError as exc:
            raise InputError(f"{source} (page {number}): {exc}") from exc
        if local_name(root) != "ExternalTnsOrders":
            raise InputError(
                f"{source} (page {number}): expected <ExternalTnsOrders>, got <{local_name(root)}>"
            )
        for el in root.iterchildren("ExternalTnsOrder"):
            chunk = reader.order(el, 0, InputKind.API_LISTING)
            chunks.setdefault(chunk.origin.order_id or f"#{len(chunks)}", chunk)
    # v1 lists newest first: reversed, orders of the same instant keep their real sequence
    reader.emit_sorted(list(reversed(chunks.values())))
    result.documents = len(chunks)
    return reader.finish()


class _Reader:
    """Reads documents into one `ReadResult`."""

    def __init__(self, result: ReadResult, source: str) -> None:
        self.result = result
        self.source = source
        self.kinds: set[InputKind] = set()
        self.orders = OrderReader(source)

    def fail(self, el: etree._Element, base_line: int, message: str) -> InputError:
        return element_error(self.source, el, base_line, message)

    def finish(self) -> ReadResult:
        if len(self.kinds) == 1:
            self.result.kind = next(iter(self.kinds))
        return self.result

    def note(self, el: etree._Element, base_line: int, message: str) -> None:
        self.result.notes.append(Note(self.source, line_of(el) + base_line, message))

    def emit(self, chunk: Chunk) -> None:
        self.result.entries += chunk.entries
        self.result.failures += chunk.failures
        self.result.notes += chunk.notes

    def emit_sorted(self, chunks: list[Chunk]) -> None:
        for chunk in sorted(chunks, key=Chunk.sort_key):  # stable: same date keeps file order
            self.emit(chunk)

    def document(self, root: etree._Element, base_line: int, before: str) -> None:
        """Read one top-level document."""
        if str(root.tag).startswith("{"):
            for el in root.iter():
                el.tag = local_name(el)
        name = local_name(root)
        self.result.documents += 1
        if name in ORDERS:
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
            orders = list(root.iterchildren(*ORDERS))
            if not orders:
                raise self.fail(
                    root,
                    base_line,
                    "not a v1 document bwmigrate converts (expected one of "
                    f"{', '.join((*ORDERS, 'ExternalTnsOrders', 'SipPeerTelephoneNumber'))})",
                )
            for el in orders:
                self.emit(self.order(el, base_line, None))

    def listing(self, root: etree._Element, base_line: int) -> None:
        """`ExternalTnsOrders`: full orders, applied by OrderCreateDate."""
        chunks = [
            self.order(el, base_line, InputKind.EXTERNAL_TNS_REPORT)
            for el in root.iterchildren("ExternalTnsOrder")
        ]
        total = child_text(root, "TotalCount")
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
        name = local_name(root)
        status = first_child(root, "ResponseStatus")
        if status is not None:
            code = child_text(status, "ErrorCode") or "?"
            desc = child_text(status, "Description") or ""
            self.note(root, base_line, f"<{name}>: v1 answered error {code} ({desc}): skipped")
            return
        orders = list(root.iterchildren(*ORDERS))
        if name.startswith("SipPeerTelephoneNumber") or not orders:
            self.note(root, base_line, f"<{name}> is an answer (state, not a change): skipped")
            return
        for el in orders:
            chunk = self.order(el, base_line, None)
            if chunk.origin.status in PENDING:
                self.note(
                    root,
                    base_line,
                    f"<{name}>: create answer ({chunk.origin.status}), an echo "
                    "of a request body: skipped (convert the body, or the order's GET later)",
                )
            else:
                self.emit(chunk)

    def order(self, el: etree._Element, base_line: int, kind: InputKind | None) -> Chunk:
        """One order document, its kind and account recorded for the whole input."""
        chunk = self.orders.read(el, base_line, kind)
        self.kinds.add(chunk.origin.kind)
        if chunk.account_id:
            self.result.account_ids.add(chunk.account_id)
        return chunk

    def sip_peer_tn(self, el: etree._Element, base_line: int, before: str) -> None:
        """`SipPeerTelephoneNumber`: an SMS on/off entry, or a note when it sets no SmsEnabled."""
        self.kinds.add(InputKind.SIP_PEER_TN)
        read = read_sip_peer_tn(el, base_line, before, self.source)
        if isinstance(read, Note):
            self.result.notes.append(read)
        else:
            self.result.entries.append(read)
