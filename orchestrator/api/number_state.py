"""What the API says a number is, read back: tndetails and the in-service number pages, typed.

Two answers feed a snapshot (before a run) and a verify (after it):

- `GET /tns/{tn}/tndetails` (`TelephoneNumberResponse/TelephoneNumberDetails`): every field,
  one request per number. The details' top level is the number's voice owner; a number hosted
  for messaging on an account also has a `HostedTelephoneNumberDetails/
  HostedTelephoneNumberDetail` for that account, with its own `Site`, `SipPeer` and
  `MessagingSettings` (the excerpt's "Tn details with Voice" example: voice on one account,
  hosted messaging on another). `number_state_from_details` reads the part that belongs to the
  account being migrated, so a number whose voice is elsewhere is still "on the account" for
  hosted messaging.
- `GET /accounts/{a}/inserviceNumbers` and `/accounts/{a}/sites/{s}/inserviceNumbers`
  (`TNs/TelephoneNumbers/TelephoneNumber`, paged with `Links/next`): only membership, but up to
  thousands of numbers per request. They cover `on_account` (the account's pages) and `site_id`
  (a site's pages), nothing else (`PAGE_FIELDS`).

The fields compared (`FIELDS`) are strings or None, so a drift prints as it reads.

Pure: no I/O, no clock, no environment; imports the hardened parser and the plan's number rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from lxml import etree

from orchestrator.api.safe_xml import local_name, parse_xml
from orchestrator.errors import XmlError

FIELDS = ("on_account", "site_id", "sip_peer_id", "sms", "campaign_id", "message_class")
"""What a verify compares, in report order."""
KEPT_FIELDS = (*FIELDS, "hosted")
"""What a snapshot keeps: also whether the number was hosted (imported) here, which decides
whether a rollback may import it again."""
PAGE_FIELDS = frozenset({"on_account", "site_id"})
"""The fields the in-service number pages cover (the rest need tndetails)."""


@dataclass(frozen=True, slots=True)
class NumberState:
    """One number as the API shows it to one account.

    `detailed` is True when tndetails was read (every field known); False when only pages were
    (then only `on_account`, and `site_id` when a site's pages were read, mean anything).
    Fields are text: "true"/"false" for booleans, ids as the API writes them, None when absent.
    """

    number: str
    on_account: str = "false"
    site_id: str | None = None
    sip_peer_id: str | None = None
    sms: str | None = None
    campaign_id: str | None = None
    message_class: str | None = None
    detailed: bool = False
    hosted: str | None = None  # "true": imported here for hosted messaging (tndetails only)

    def field(self, name: str) -> str | None:
        """The value of one of `FIELDS`."""
        value: str | None = getattr(self, name)
        return value


def absent(number: str, *, detailed: bool) -> NumberState:
    """A number that is not on the account (tndetails 404, or not in the account's pages)."""
    return NumberState(number, "false", detailed=detailed, hosted="false" if detailed else None)


@dataclass(frozen=True, slots=True)
class InservicePage:
    """One page of in-service numbers: the total, this page's numbers, the next page's query
    (None on the last page)."""

    total: int
    numbers: tuple[str, ...]
    next_query: dict[str, str] | None


def _child(el: etree._Element, name: str) -> etree._Element | None:
    for c in el:
        if isinstance(c.tag, str) and local_name(c).lower() == name.lower():
            return c
    return None


def _text(el: etree._Element | None, *path: str) -> str | None:
    for name in path:
        if el is None:
            return None
        el = _child(el, name)
    if el is None:
        return None
    text = (el.text or "").strip()
    return text or None


def _bool(text: str | None) -> str | None:
    return None if text is None else ("true" if text.lower() == "true" else "false")


def _from_part(number: str, part: etree._Element, hosted: bool) -> NumberState:
    settings = _child(part, "MessagingSettings")
    return NumberState(
        number,
        "true",
        site_id=_text(part, "Site", "Id"),
        sip_peer_id=_text(part, "SipPeer", "PeerId"),
        sms=_bool(_text(settings, "SmsEnabled")),
        campaign_id=_text(settings, "CampaignId"),
        message_class=_text(settings, "MessageClass"),
        detailed=True,
        hosted="true" if hosted else "false",
    )


def _says_hosted(details: etree._Element) -> bool:
    """The top level names the number hosted (a TnAttribute, or the Hosted Messaging service)."""
    texts = {
        (el.text or "").strip().lower()
        for name in ("TnAttributes", "ServiceTypes")
        if (group := _child(details, name)) is not None
        for el in group
        if isinstance(el.tag, str)
    }
    return "hosted" in texts or "hosted messaging" in texts


def number_state_from_details(body: bytes, number: str, account_id: str) -> NumberState:
    """The state of `number` on `account_id` from its tndetails answer.

    The account's `HostedTelephoneNumberDetail` wins (hosted messaging lives there); otherwise
    the top level when its `AccountId` is the account; otherwise the number is not on it.
    """
    root = parse_xml(body)
    details = (
        root
        if local_name(root) == "TelephoneNumberDetails"
        else _child(root, "TelephoneNumberDetails")
    )
    if details is None or _text(details, "FullNumber") is None:
        raise XmlError(f"tndetails for {number} has no TelephoneNumberDetails/FullNumber")
    hosted = _child(details, "HostedTelephoneNumberDetails")
    for part in hosted if hosted is not None else ():
        if isinstance(part.tag, str) and _text(part, "AccountId") == account_id:
            return _from_part(number, part, hosted=True)
    if _text(details, "AccountId") == account_id:
        # hosted here only when no other account holds its hosted part
        return _from_part(number, details, hosted=hosted is None and _says_hosted(details))
    return absent(number, detailed=True)


def parse_inservice_page(body: bytes) -> InservicePage:
    """One `TNs` answer of the in-service number lists; `next_query` from `Links/next`, which
    the API writes as `Link=<url>;rel="next";` or as a bare URL."""
    root = parse_xml(body)
    if local_name(root) != "TNs":
        raise XmlError(f"in-service numbers: root <{local_name(root)}>, expected <TNs>")
    total_text = _text(root, "TotalCount")
    listed = _child(root, "TelephoneNumbers")
    numbers = tuple(
        (el.text or "").strip()
        for el in (listed if listed is not None else ())
        if isinstance(el.tag, str) and local_name(el) == "TelephoneNumber"
    )
    if total_text is not None and not (total_text.isascii() and total_text.isdigit()):
        raise XmlError(f"in-service numbers: TotalCount {total_text[:40]!r} is not a count")
    total = int(total_text) if total_text is not None else len(numbers)
    link = _text(root, "Links", "next")
    return InservicePage(total, numbers, _query_of(link) if link else None)


def _query_of(link: str) -> dict[str, str]:
    """The query of a `Links/next` value (`Link=<url>;rel="next";` or a URL)."""
    start, end = link.find("<"), link.find(">")
    url = link[start + 1 : end] if 0 <= start < end else link
    return dict(parse_qsl(urlsplit(url.strip()).query))


def parse_inservice_count(body: bytes) -> int:
    """`Quantity/Count` of `inserviceNumbers/totals`."""
    root = parse_xml(body)
    text = _text(root, "Count")
    if text is None or not (text.isascii() and text.isdigit()):
        raise XmlError("in-service totals: no Quantity/Count")
    return int(text)
