"""Order-notification subscriptions and callbacks: the bodies bwmigrate sends and reads (pure).

- `subscription_body`: the `<Subscription>` for one order type with a callback URL and Basic
  callback credentials (reference §10; the password is never returned by the API);
- `parse_subscriptions`: the `SubscriptionsResponse` list (id, order type, URL);
- `parse_notification`: a `<Notification>` callback (order type, id, CustomerOrderId, status).

No I/O. The password travels only in the body built here: the client keeps subscription
bodies out of exchanges and the audit log (`orchestrator.api.client`).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from orchestrator.api.safe_xml import local_name, parse_xml
from orchestrator.errors import XmlError

__all__ = [
    "ORDER_TYPE_OF_KIND",
    "Notification",
    "SubscriptionInfo",
    "parse_notification",
    "parse_subscriptions",
    "subscription_body",
]

# The subscription OrderType of each order endpoint kind (`orchestrator.api.orders.OrderKind`).
ORDER_TYPE_OF_KIND = {
    "import": "importtnorders",
    "remove": "removeImportedTnOrders",
    "tnoptions": "tnoptions",
}


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    """A subscription as listed."""

    subscription_id: str
    order_type: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Notification:
    """An order notification."""

    order_type: str | None
    order_id: str | None
    customer_order_id: str | None
    status: str | None
    subscription_id: str | None


def subscription_body(
    order_type: str, url: str, username: str, password: str, expiry_s: int
) -> bytes:
    """A `<Subscription>` with a callback URL and Basic callback credentials."""
    return (
        "<Subscription>"
        f"<OrderType>{escape(order_type)}</OrderType>"
        "<CallbackSubscription>"
        f"<URL>{escape(url)}</URL><Expiry>{int(expiry_s)}</Expiry>"
        "<CallbackCredentials><BasicAuthentication>"
        f"<Username>{escape(username)}</Username><Password>{escape(password)}</Password>"
        "</BasicAuthentication></CallbackCredentials>"
        "</CallbackSubscription></Subscription>"
    ).encode()


def parse_subscriptions(body: bytes) -> list[SubscriptionInfo]:
    """Every `Subscription` of a `SubscriptionsResponse` (with or without `<Subscriptions>`)."""
    root = parse_xml(body)
    out = []
    for sub in root.iter():
        if local_name(sub) != "Subscription":
            continue
        sub_id = _text(sub, "SubscriptionId")
        if sub_id is None:
            continue
        url = None
        for cb in sub.iter():
            if local_name(cb) == "CallbackSubscription":
                url = _text(cb, "URL")
        out.append(SubscriptionInfo(sub_id, _text(sub, "OrderType"), url))
    return out


def parse_notification(body: bytes) -> Notification:
    """A `<Notification>` callback; `XmlError` for anything else."""
    root = parse_xml(body)
    if local_name(root) != "Notification":
        raise XmlError(f"expected <Notification>, got <{local_name(root)}>")
    status = _text(root, "Status")
    return Notification(
        order_type=_text(root, "OrderType"),
        order_id=_text(root, "OrderId"),
        customer_order_id=_text(root, "CustomerOrderId"),
        status=status.upper() if status else None,
        subscription_id=_text(root, "SubscriptionId"),
    )


def _text(el: object, name: str) -> str | None:
    for child in el.iterchildren():  # type: ignore[attr-defined]
        if local_name(child) == name:
            text = (child.text or "").strip()
            return text or None
    return None
