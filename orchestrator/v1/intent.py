"""What `convert` reads from v1 artefacts: intents per number, their origin, v1's verdicts.

An input (a file, or the live listing) is read into a `ReadResult`: `Entry`s (one v1 intent for
one raw number, in the order the input gives them), `V1Failure`s (numbers a v1 order reported
as failed: they never took effect, so they are reported, not planned) and `Note`s (documents
that were read but carry no intent: responses, pending orders, summaries).

Pure data; no I/O. Raw number text travels here only until `conversion` normalises it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # an annotation only: `convert --help` must not load the XML parser
    from orchestrator.api.xml import Subscriber

LOA_TYPES = ("CARRIER", "SUBSCRIBER")


class Action(StrEnum):
    """A v1 intent for one number, named after the plan step it feeds."""

    IMPORT = "import"
    REMOVE = "remove"
    SMS_ON = "sms-on"
    SMS_OFF = "sms-off"

    @property
    def is_hosting(self) -> bool:
        """True for import/remove (they reset a number's messaging settings)."""
        return self in (Action.IMPORT, Action.REMOVE)


class InputKind(StrEnum):
    """How an input was recognised (by content)."""

    EXTERNAL_TNS_BODY = "v1 ExternalTnsOrder request body"
    EXTERNAL_TNS_REPORT = "v1 externalTns order (GET or listing)"
    IMPORT_TN_BODY = "v1 ImportTnOrder request body"
    IMPORT_TN_REPORT = "v1 importTnOrders order (GET)"
    REMOVE_IMPORTED_BODY = "v1 RemoveImportedTnOrder request body"
    REMOVE_IMPORTED_REPORT = "v1 removeImportedTnOrders order (GET)"
    SIP_PEER_TN = "v1 SipPeerTelephoneNumber body"
    XML_MIXED = "v1 XML documents"
    INVENTORY_REPORT = "Iris phone number inventory report"
    NUMBER_LIST = "number list"
    API_LISTING = "v1 externalTns listing (live)"


@dataclass(frozen=True, slots=True)
class ImportSettings:
    """Where an import puts a number: what groups import numbers into one plan step."""

    site_id: str
    sip_peer_id: str | None = None
    loa_type: str = "CARRIER"
    subscriber: Subscriber | None = None
    loa_authorizing_person: str | None = None

    def describe(self) -> str:
        """`site 743, SIP peer 303716, LOA CARRIER` (for reports)."""
        peer = f"SIP peer {self.sip_peer_id}" if self.sip_peer_id else "the site's default SIP peer"
        out = f"site {self.site_id}, {peer}, LOA {self.loa_type}"
        if self.subscriber is not None:
            out += f", subscriber {self.subscriber.name!r}"
        return out


@dataclass(frozen=True, slots=True)
class Origin:
    """One document, order or list file that entries came from (shared by its entries)."""

    source: str  # the input's path (as given) or the listing URL
    kind: InputKind
    line: int | None = None  # where the document starts
    order_id: str | None = None
    customer_order_id: str | None = None
    order_date: str | None = None
    status: str | None = None
    site_id: str | None = None  # for SIP-peer TN bodies: the site/peer of the v1 path
    sip_peer_id: str | None = None

    def where(self, line: int | None = None) -> str:
        """`file:line`, plus ` order <id>` when the document is a v1 order."""
        at = line if line is not None else self.line
        out = f"{self.source}:{at}" if at is not None else self.source
        if self.order_id:
            out += f" order {self.order_id}"
        return out


@dataclass(frozen=True, slots=True)
class Entry:
    """One v1 intent for one raw number."""

    raw: str
    line: int | None
    action: Action
    origin: Origin
    settings: ImportSettings | None = None  # imports only


@dataclass(frozen=True, slots=True)
class V1Failure:
    """A number a v1 order reports as failed (or whose order failed as a whole)."""

    raw: str
    line: int | None
    action: Action
    origin: Origin
    code: str | None
    description: str


@dataclass(frozen=True, slots=True)
class Note:
    """Something read that carries no intent, or a caveat, for the conversion report."""

    source: str
    line: int | None
    message: str

    def where(self) -> str:
        """`file:line` or `file`."""
        return f"{self.source}:{self.line}" if self.line is not None else self.source


@dataclass(slots=True)
class ReadResult:
    """Everything read from one input, in input order."""

    source: str
    kind: InputKind
    documents: int = 0
    entries: list[Entry] = field(default_factory=list)
    failures: list[V1Failure] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    account_ids: set[str] = field(default_factory=set)
