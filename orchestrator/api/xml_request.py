"""The XML bodies bwmigrate sends to the v2 API: one builder per request.

Builders return UTF-8 bytes with an XML declaration, values escaped and absent values left
out; a value XML cannot carry, or a body the API would refuse by construction (no numbers, no
option, an element the chosen import form lacks), is an `XmlError` naming it. What each kind
of order sends is `orchestrator.api.orders.order_body`; the bodies are judged by the published
schema in the tests (`orchestrator.spec`).

Pure: no I/O, no clock, no environment; never parses. Numbers pass through as text:
normalising them is `orchestrator.plan.numbers`' job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from orchestrator.errors import XmlError
from orchestrator.plan.model import BODY_FORMS, A2pSettings, Subscriber

__all__ = [
    "IMPORT_BODY_FORMS",
    "build_import_checker",
    "build_import_order",
    "build_remove_order",
    "build_tn_option_order",
]

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

# Characters XML 1.0 forbids outright; escaping cannot make them legal.
_ILLEGAL_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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
