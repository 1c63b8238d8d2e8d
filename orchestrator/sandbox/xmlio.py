"""The sandbox's own XML: a hardened reader, a tiny writer, and decoders of request bodies.

Deliberately independent of the client's codec (`orchestrator/api/xml.py`, lxml): this module
must not import it, so one codec bug cannot hide on both sides; the golden files in
`tests/fixtures/` are the contract between the two. It reads with the standard library's
expat and refuses any DOCTYPE, entity declaration or external entity reference. It returns
plain dataclasses from `model`, never parser objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.parsers import expat
from xml.sax.saxutils import escape

from orchestrator.sandbox.model import (
    A2pSettings,
    ApiError,
    CheckerRequest,
    ImportRequest,
    RejectedError,
    RemoveRequest,
    ServiceAddress,
    SipPeerTnUpdate,
    Subscriber,
    SubscriptionRequest,
    TnOptionGroup,
    TnOptionRequest,
)

DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
MALFORMED_CODE = 1019  # "bad request" in the generic catalogue
MAX_BODY_BYTES = 4 * 1024 * 1024  # 5000 numbers take ~250 kB; anything far larger is refused


class Node:
    """An XML element: tag, text (stripped), children. Used for reading and for writing."""

    __slots__ = ("children", "tag", "text")

    def __init__(self, tag: str, text: str = "", children: list[Node] | None = None) -> None:
        self.tag = tag
        self.text = text
        self.children = children if children is not None else []

    def child(self, tag: str) -> Node | None:
        """The first direct child named `tag`."""
        for node in self.children:
            if node.tag == tag:
                return node
        return None

    def child_text(self, tag: str) -> str | None:
        """The text of the first direct child named `tag`, or None when absent."""
        node = self.child(tag)
        return None if node is None else node.text

    def all(self, tag: str) -> Iterator[Node]:
        """Every direct child named `tag`."""
        return (node for node in self.children if node.tag == tag)


def el(tag: str, *children: Node | None, text: str | None = None) -> Node:
    """Build an element; `None` children are skipped so optional parts read naturally."""
    return Node(tag, text or "", [c for c in children if c is not None])


def opt(tag: str, text: str | None) -> Node | None:
    """An element with `text`, or None (skipped by `el`) when `text` is None."""
    return None if text is None else Node(tag, text)


def to_bytes(root: Node) -> bytes:
    """Serialise with the API's XML declaration."""
    parts = [DECLARATION]
    _write(root, parts)
    return "".join(parts).encode("utf-8")


def _write(node: Node, parts: list[str]) -> None:
    if node.children:
        parts.append(f"<{node.tag}>")
        for child in node.children:
            _write(child, parts)
        parts.append(f"</{node.tag}>")
    elif node.text:
        parts.append(f"<{node.tag}>{escape(node.text)}</{node.tag}>")
    else:
        parts.append(f"<{node.tag}/>")


class _HostileError(Exception):
    pass


def parse(body: bytes) -> Node:
    """Parse a request body; refuse DTDs, entities and oversize bodies with `RejectedError`."""
    if len(body) > MAX_BODY_BYTES:
        raise _bad(f"The request body exceeds {MAX_BODY_BYTES} bytes")
    stack: list[Node] = []
    texts: list[list[str]] = []
    root: list[Node] = []

    def start(tag: str, _attrs: dict[str, str]) -> None:
        node = Node(tag)
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)
        texts.append([])

    def end(_tag: str) -> None:
        stack.pop().text = "".join(texts.pop()).strip()

    def chars(data: str) -> None:
        if texts:
            texts[-1].append(data)

    def hostile(*_args: object) -> int:
        raise _HostileError

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = hostile
    parser.EntityDeclHandler = hostile
    parser.UnparsedEntityDeclHandler = hostile
    parser.ExternalEntityRefHandler = hostile
    try:
        parser.Parse(body, True)
    except _HostileError as exc:
        raise _bad("DOCTYPE and entity declarations are not allowed") from exc
    except expat.ExpatError as exc:
        raise _bad(f"The request body is not well-formed XML ({exc})") from exc
    if not root:
        raise _bad("The request body is empty")
    return root[0]


def _bad(description: str) -> RejectedError:
    return RejectedError(400, [ApiError(MALFORMED_CODE, description)])


def _expect_root(node: Node, *names: str) -> None:
    if node.tag not in names:
        raise _bad(f"Unexpected root element '{node.tag}'; expected {' or '.join(names)}")


def _numbers(node: Node | None, container: str = "TelephoneNumbers") -> tuple[str, ...]:
    if node is None:
        return ()
    holder = node.child(container)
    if holder is None:
        return ()
    return tuple(n.text for n in holder.all("TelephoneNumber"))


def decode_import(body: bytes) -> ImportRequest:
    """An import body: the seed's `ExternalTnsOrder` form or the `ImportTnOrder` form."""
    root = parse(body)
    _expect_root(root, "ImportTnOrder", "ExternalTnsOrder")
    subscriber = None
    sub = root.child("Subscriber")
    if sub is not None:
        address = sub.child("ServiceAddress")
        subscriber = Subscriber(
            name=sub.child_text("Name") or "",
            address=None
            if address is None
            else ServiceAddress(tuple((c.tag, c.text) for c in address.children)),
        )
    return ImportRequest(
        root=root.tag,
        numbers=_numbers(root),
        customer_order_id=root.child_text("CustomerOrderId"),
        site_id=root.child_text("SiteId"),
        sip_peer_id=root.child_text("SipPeerId"),
        loa_type=root.child_text("LoaType"),
        subscriber=subscriber,
        loa_authorizing_person=root.child_text("LoaAuthorizingPerson"),
        action=root.child_text("Action"),
    )


def decode_remove(body: bytes) -> RemoveRequest:
    """A `RemoveImportedTnOrder` body."""
    root = parse(body)
    _expect_root(root, "RemoveImportedTnOrder")
    return RemoveRequest(
        numbers=_numbers(root), customer_order_id=root.child_text("CustomerOrderId")
    )


def decode_tnoptions(body: bytes) -> TnOptionRequest:
    """A `TnOptionOrder` body."""
    root = parse(body)
    _expect_root(root, "TnOptionOrder")
    groups_node = root.child("TnOptionGroups")
    groups = []
    for group in groups_node.all("TnOptionGroup") if groups_node is not None else ():
        a2p_node = group.child("A2pSettings")
        a2p = None
        if a2p_node is not None:
            a2p = A2pSettings(
                action=a2p_node.child_text("Action"),
                message_class=a2p_node.child_text("MessageClass"),
                campaign_id=a2p_node.child_text("CampaignId"),
            )
        options = tuple(
            (c.tag, c.text)
            for c in group.children
            if c.tag not in ("TelephoneNumbers", "A2pSettings", "Sms", "OriginationRoutePlan")
        )
        groups.append(
            TnOptionGroup(
                numbers=_numbers(group),
                sms=group.child_text("Sms"),
                a2p=a2p,
                options=options,
                has_route_plan=group.child("OriginationRoutePlan") is not None,
            )
        )
    return TnOptionRequest(
        groups=tuple(groups), customer_order_id=root.child_text("CustomerOrderId")
    )


def decode_checker(body: bytes) -> CheckerRequest:
    """An `ImportTnCheckerPayload` body."""
    root = parse(body)
    _expect_root(root, "ImportTnCheckerPayload")
    return CheckerRequest(
        numbers=_numbers(root),
        site_id=root.child_text("SiteId"),
        sip_peer_id=root.child_text("SipPeerId"),
    )


def decode_sippeer_tn(body: bytes) -> SipPeerTnUpdate:
    """A `SipPeerTelephoneNumber` PUT body."""
    root = parse(body)
    _expect_root(root, "SipPeerTelephoneNumber")
    messaging = root.child("MessagingSettings")
    sms: bool | None = None
    if messaging is not None:
        text = messaging.child_text("SmsEnabled")
        sms = None if text is None else text.lower() == "true"
    return SipPeerTnUpdate(
        messaging_sms_enabled=sms,
        touches_messaging=messaging is not None,
        options=tuple(
            (c.tag, c.text) for c in root.children if c.tag not in ("MessagingSettings",)
        ),
    )


def decode_subscription(body: bytes) -> SubscriptionRequest:
    """A `Subscription` body."""
    root = parse(body)
    _expect_root(root, "Subscription")
    callback = root.child("CallbackSubscription")
    email = root.child("EmailSubscription")
    basic = None
    if callback is not None:
        creds = callback.child("CallbackCredentials")
        basic = None if creds is None else creds.child("BasicAuthentication")
    expiry = None if callback is None else callback.child_text("Expiry")
    return SubscriptionRequest(
        order_type=root.child_text("OrderType"),
        event_type=root.child_text("EventType"),
        order_id=root.child_text("OrderId"),
        url=None if callback is None else (callback.child_text("URL") or ""),
        expiry_s=int(expiry) if expiry and expiry.isdigit() else None,
        number_format=None if callback is None else callback.child_text("NumberFormat"),
        username=None if basic is None else basic.child_text("Username"),
        password=None if basic is None else basic.child_text("Password"),
        email=None if email is None else email.child_text("Email"),
        digest=None if email is None else email.child_text("DigestRequested"),
    )
