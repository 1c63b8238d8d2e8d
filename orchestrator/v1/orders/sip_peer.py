"""v1 SIP-peer TN bodies: `SipPeerTelephoneNumber` with MessagingSettings/SmsEnabled -> SMS on/off.

This module owns `read_sip_peer_tn`: the number from FullNumber or the request path, the site
and SIP peer from elements, the request path in the text before the body (a curl line, a log
line; `CONTEXT_CHARS` of it), or the file's own path (`sites/743/sippeers/303716/tns/...`).

Pure. lxml elements come in from the package's reader and never go further than this package.
Imports only the standard library, `orchestrator.errors` (through `element`),
`orchestrator.v1.intent` and its sibling `element`.
"""

from __future__ import annotations

import re

from lxml import etree

from orchestrator.v1.intent import Action, Entry, InputKind, Note, Origin
from orchestrator.v1.orders.element import (
    child_text,
    digits_key,
    element_error,
    first_child,
    line_of,
)

__all__ = ["CONTEXT_CHARS", "read_sip_peer_tn"]

_SIPPEER_PATH = re.compile(
    r"sites/([^/\s'\"?#]+)/sippeers/([^/\s'\"?#]+)/tns(?:/([^/\s'\"?#]+))?", re.IGNORECASE
)
CONTEXT_CHARS = 4000  # text searched before an embedded SIP-peer TN body for its request path


def read_sip_peer_tn(el: etree._Element, base_line: int, before: str, source: str) -> Entry | Note:
    """`SipPeerTelephoneNumber` with MessagingSettings/SmsEnabled -> SMS on/off (an `Entry`),
    or a `Note` when it sets no SmsEnabled. `before` is the text before the body in its file."""
    site, peer, path_tn = _sip_peer_context(before, source)
    site = child_text(el, "SiteId") or site
    peer = child_text(el, "SipPeerId") or peer
    full = child_text(el, "FullNumber")
    if full and path_tn and digits_key(full) != digits_key(path_tn):
        raise element_error(
            source,
            el,
            base_line,
            f"<FullNumber> {full} does not match {path_tn} in the request path",
        )
    raw = full or path_tn
    if raw is None:
        raise element_error(
            source,
            el,
            base_line,
            "no <FullNumber> and no .../tns/{number} request path before it "
            "or in the file's path: cannot tell which number it changes",
        )
    settings = first_child(el, "MessagingSettings")
    sms = child_text(settings, "SmsEnabled") if settings is not None else None
    line = line_of(el) + base_line
    if sms is None:
        return Note(
            source,
            line,
            f"sets no MessagingSettings/SmsEnabled for {raw}: nothing "
            "to migrate (other SIP-peer TN settings still work on v2)",
        )
    if sms.lower() not in ("true", "false"):
        raise element_error(source, el, base_line, f"<SmsEnabled> {sms!r}: expected true or false")
    origin = Origin(
        source=source,
        kind=InputKind.SIP_PEER_TN,
        line=line,
        site_id=site,
        sip_peer_id=peer,
    )
    action = Action.SMS_ON if sms.lower() == "true" else Action.SMS_OFF
    return Entry(raw, line, action, origin)


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
