"""Response documents: the sandbox's state rendered as the API's XML (element names, order and
casing as in the reference and the golden files in `tests/fixtures/responses/`).

Pure: takes state objects and the request's API version (which decides the number format),
returns `xmlio.Node` trees. No HTTP here.
"""

from __future__ import annotations

from orchestrator.sandbox.inventory import NumberRecord
from orchestrator.sandbox.model import (
    ApiError,
    ApiVersion,
    OrderKind,
    ServiceAddress,
    render_number,
)
from orchestrator.sandbox.orders import Order, iso
from orchestrator.sandbox.subscriptions import Subscription
from orchestrator.sandbox.xmlio import Node, el, opt

NOT_FOUND = "The resource does not exist"


def response_status(root: str, errors: list[ApiError], *, with_code: bool = True) -> Node:
    """Error shape 1: `<Root><ResponseStatus><ErrorCode/><Description/>` (first error)."""
    error = errors[0] if errors else ApiError(0, NOT_FOUND)
    return el(
        root,
        el(
            "ResponseStatus",
            opt("ErrorCode", str(error.code)) if with_code else None,
            el("Description", text=error.description),
        ),
    )


def not_found(root: str) -> Node:
    """The documented 404 variant: a ResponseStatus with only a Description."""
    return response_status(root, [ApiError(0, NOT_FOUND)], with_code=False)


def failed_create(root: str, errors: list[ApiError], *, with_status: bool = True) -> Node:
    """Error shape 2: `ProcessingStatus` FAILED and repeated `Errors` siblings."""
    return el(
        root,
        el("ProcessingStatus", text="FAILED") if with_status else None,
        *(
            el("Errors", el("Code", text=str(e.code)), el("Description", text=e.description))
            for e in errors
        ),
    )


def numbers_node(
    numbers: tuple[str, ...] | list[str], version: ApiVersion, tag: str = "TelephoneNumbers"
) -> Node:
    """`<TelephoneNumbers><TelephoneNumber>…` in the version's format."""
    return el(tag, *(el("TelephoneNumber", text=render_number(n, version)) for n in numbers))


def _order_errors(order: Order, version: ApiVersion) -> Node:
    """Error shape 3: `<Errors><Error><Code/><Description/><TelephoneNumbers/>`."""
    return el(
        "Errors",
        *(
            el(
                "Error",
                el("Code", text=str(e.code)),
                el("Description", text=e.description),
                numbers_node(e.numbers, version),
            )
            for e in order.errors
        ),
    )


def _header(order: Order, now: float) -> list[Node | None]:
    return [
        opt("CustomerOrderId", order.customer_order_id),
        el("OrderCreateDate", text=iso(order.created_at)),
        el("AccountId", text=order.account_id),
        el("CreatedByUser", text=order.created_by),
        el("OrderId", text=order.order_id),
        el("LastModifiedDate", text=iso(order.modified_at(now))),
    ]


def import_order(order: Order, now: float, version: ApiVersion, *, report: bool = False) -> Node:
    """The bare `ImportTnOrder` (or v1 `ExternalTnsOrder`) element. `SipPeerId` shows only
    when the request gave one; a `report` (GET) completes the service address with `Country`
    and `AddressType` as the live API's example does."""
    d = order.details
    assert d is not None
    external = order.endpoint == "externalTns"
    subscriber = None
    if d.subscriber is not None:
        address = d.subscriber.address
        subscriber = el(
            "Subscriber",
            el("Name", text=d.subscriber.name),
            None
            if address is None
            else el("ServiceAddress", *(el(k, text=v) for k, v in _address(address, report))),
        )
    return el(
        "ExternalTnsOrder" if external else "ImportTnOrder",
        *_header(order, now),
        opt("SiteId", d.site_id or None),
        opt("SipPeerId", d.sip_peer_id if d.sip_peer_given else None),
        subscriber,
        opt("LoaAuthorizingPerson", d.loa_authorizing_person),
        opt("Action", d.action) if external else None,
        el("LoaType", text=d.loa_type),
        numbers_node(order.numbers, version),
        el("ProcessingStatus", text=order.status_at(now).value),
        _order_errors(order, version),
    )


def _address(address: ServiceAddress, report: bool) -> list[tuple[str, str]]:
    fields = list(address.fields)
    if report:
        present = {k for k, _ in fields}
        fields += [(k, v) for k, v in (("Country", "United States"), ("AddressType", "Service"))
                   if k not in present]  # fmt: skip
    return fields


def remove_order(order: Order, now: float, version: ApiVersion) -> Node:
    """The bare `RemoveImportedTnOrder` element."""
    return el(
        "RemoveImportedTnOrder",
        *_header(order, now),
        numbers_node(order.numbers, version),
        el("ProcessingStatus", text=order.status_at(now).value),
        _order_errors(order, version),
    )


def tnoption_order(order: Order, now: float, version: ApiVersion) -> Node:
    """The bare `TnOptionOrder` element, groups echoed, per-number `ErrorList` (shape 4)."""
    header = _header(order, now)
    groups = []
    for g in order.groups:
        a2p = None
        if g.a2p is not None:
            a2p = el(
                "A2pSettings",
                opt("MessageClass", g.a2p.message_class),
                opt("CampaignId", g.a2p.campaign_id),
                opt("Action", g.a2p.action),
            )
        groups.append(
            el(
                "TnOptionGroup",
                opt("Sms", g.sms),
                *(el(k, text=v) for k, v in g.options),
                a2p,
                el("TelephoneNumbers", *(el("TelephoneNumber", text=t) for t in g.numbers)),
            )
        )
    warnings = None
    if order.warnings:
        warnings = el(
            "Warnings",
            *(
                el(
                    "Warning",
                    el("TelephoneNumber", text=render_number(w.number, version)),
                    el("Description", text=w.description),
                )
                for w in order.warnings
            ),
        )
    return el(
        "TnOptionOrder",
        *header[1:],
        el("ProcessingStatus", text=order.status_at(now).value),
        header[0],
        el("TnOptionGroups", *groups),
        el(
            "ErrorList",
            *(
                el(
                    "Error",
                    el("Code", text=str(e.code)),
                    el("Description", text=e.description),
                    *(el("TelephoneNumber", text=render_number(n, version)) for n in e.numbers),
                )
                for e in order.errors
            ),
        ),
        warnings,
    )


def order_element(order: Order, now: float, version: ApiVersion) -> Node:
    """The bare order element for any kind."""
    if order.kind is OrderKind.TNOPTIONS:
        return tnoption_order(order, now, version)
    if order.endpoint == "removeImportedTnOrders":
        return remove_order(order, now, version)
    return import_order(order, now, version, report=True)


SUMMARY = {
    "importTnOrders": ("ImportTnOrders", "ImportTnOrderSummary", "import_tn_orders"),
    "removeImportedTnOrders": (
        "RemoveImportedTnOrders", "RemoveImportedTnOrderSummary", "remove_imported_tn_orders",
    ),
    "tnoptions": ("TnOptionOrders", "TnOptionOrderSummary", "tn_option"),
}  # fmt: skip


LIST_REPORT = "TnOptionOrderReportResponse"
"""The v2 TN option list's wrapper (the excerpt's GetTnOptionOrders example, reference §9.3);
v1 answers the bare `<TnOptionOrders>` of RAML and the SDK fixtures [X]."""


def order_list(
    endpoint: str,
    total: int,
    orders: list[Order],
    now: float,
    version: ApiVersion,
    links: dict[str, str] | None = None,
) -> Node:
    """A list of order summaries (`TotalCount` first, then paging `Links` if given; mixed-case
    names as documented); the v2 TN option list inside `TnOptionOrderReportResponse`."""
    listing = _summaries(endpoint, total, orders, now, links or {})
    if endpoint == "tnoptions" and version is ApiVersion.V2:
        return el(LIST_REPORT, listing)
    return listing


def _summaries(
    endpoint: str, total: int, orders: list[Order], now: float, links: dict[str, str]
) -> Node:
    root, item, order_type = SUMMARY[endpoint]
    return el(
        root,
        el("TotalCount", text=str(total)),
        *([el("Links", *(el(k, text=v) for k, v in links.items()))] if links else []),
        *(
            el(
                item,
                el("accountId", text=o.account_id),
                el("CountOfTNs", text=str(len(o.numbers))),
                opt("CustomerOrderId", o.customer_order_id),
                el("userId", text=o.created_by),
                el("lastModifiedDate", text=iso(o.modified_at(now))),
                el("OrderDate", text=iso(o.created_at)),
                el("OrderType", text=order_type),
                el("OrderStatus", text=o.status_at(now).value),
                el("OrderId", text=o.order_id),
            )
            for o in orders
        ),
    )


def external_order_list(
    total: int, orders: list[Order], now: float, links: dict[str, str] | None = None
) -> Node:
    """v1 `ExternalTnsOrders`: full orders, not summaries, with paging `Links` if given."""
    return el(
        "ExternalTnsOrders",
        el("TotalCount", text=str(total)),
        *([el("Links", *(el(k, text=v) for k, v in links.items()))] if links else []),
        *(import_order(o, now, ApiVersion.V1) for o in orders),
    )


_LABEL = {"importTnOrders": "Import TN", "externalTns": "External TNs",
          "removeImportedTnOrders": "Remove Imported TN", "tnoptions": "TN Option"}  # fmt: skip


def history(order: Order, now: float) -> Node:
    """`OrderHistoryWrapper` with one `OrderHistory` per status step."""
    label = _LABEL[order.endpoint]
    return el(
        "OrderHistoryWrapper",
        *(
            el(
                "OrderHistory",
                el("OrderDate", text=iso(at)),
                el("Note", text=_history_note(label, status)),
                el("Author", text=order.created_by if status == "RECEIVED" else "system"),
                el("Status", text=status),
            )
            for at, status in order.history(now)
        ),
    )


def _history_note(label: str, status: str) -> str:
    if status == "EXCEPTION":
        return f"{label} order ended in an exception."  # [I] no documented note
    return f"{label} order is {status.lower()}."


def checker(ok: list[str], errors: list[ApiError], version: ApiVersion) -> Node:
    """`ImportTnCheckerResponse` (200); `ImportTnErrors` is omitted when every number passes."""
    return el(
        "ImportTnCheckerResponse",
        el(
            "ImportTnCheckerPayload",
            numbers_node(ok, version),
            el(
                "ImportTnErrors",
                *(
                    el(
                        "ImportTnError",
                        el("Code", text=str(e.code)),
                        el("Description", text=e.description),
                        numbers_node(e.numbers, version),
                    )
                    for e in errors
                ),
            )
            if errors
            else None,
        ),
    )


def sippeer_tn(record: NumberRecord, version: ApiVersion) -> Node:
    """`SipPeerTelephoneNumberResponse` for one number."""
    attributes = ("External", "Imported") if record.kind.value == "imported" else ()
    return el(
        "SipPeerTelephoneNumberResponse",
        el(
            "SipPeerTelephoneNumber",
            el("FullNumber", text=render_number(record.number, version)),
            el("CallingNameDisplay", text="true"),
            el("TnAttributes", *(el("TnAttribute", text=a) for a in attributes))
            if attributes
            else None,
            el("MessagingSettings", el("SmsEnabled", text=_bool(record.sms_enabled))),
        ),
    )


def sippeer_warning(number: str, version: ApiVersion, description: str) -> Node:
    """A v1 SIP-peer TN PUT answer carrying one warning."""
    return el(
        "SipPeerTelephoneNumberResponse",
        el(
            "SipPeerTelephoneNumber",
            el(
                "Warnings",
                el(
                    "Warning",
                    el("TelephoneNumber", text=render_number(number, version)),
                    el("Description", text=description),
                ),
            ),
        ),
    )


def tn_details(record: NumberRecord, version: ApiVersion, now: float) -> Node:
    """`TelephoneNumberResponse/TelephoneNumberDetails`: ownership and messaging state. A
    number imported for hosted messaging also carries `TnAttributes/TnAttribute` Hosted and
    one `HostedTelephoneNumberDetails/HostedTelephoneNumberDetail` with its account, site, SIP
    peer, service type and messaging settings (the excerpt's tndetails examples)."""
    hosted = record.kind.value == "imported"
    services = ("Hosted Messaging",) if hosted else ("Voice", "Messaging")
    return el(
        "TelephoneNumberResponse",
        el(
            "TelephoneNumberDetails",
            el("FullNumber", text=render_number(record.number, version)),
            *_placement(record),
            el("Status", text="Inservice"),
            el("LastModified", text=iso(record.updated_at or now)),
            el("ServiceTypes", *(el("ServiceType", text=s) for s in services)),
            _messaging_settings(record),
            el("TnAttributes", el("TnAttribute", text="Hosted")) if hosted else None,
            el(
                "HostedTelephoneNumberDetails",
                el(
                    "HostedTelephoneNumberDetail",
                    *_placement(record),
                    el("ServiceTypes", el("ServiceType", text="Hosted Messaging")),
                    _messaging_settings(record),
                    el("TnAttributes", el("TnAttribute", text="Hosted")),
                ),
            )
            if hosted
            else None,
        ),
    )


def _placement(record: NumberRecord) -> list[Node | None]:
    return [
        opt("AccountId", record.account_id),
        el("Site", el("Id", text=record.site_id)) if record.site_id else None,
        el("SipPeer", el("PeerId", text=record.sip_peer_id)) if record.sip_peer_id else None,
    ]


def _messaging_settings(record: NumberRecord) -> Node:
    a2p_state = "overridden" if record.campaign_id or record.message_class else "system_default"
    return el(
        "MessagingSettings",
        el("SmsEnabled", text=_bool(record.sms_enabled)),
        opt("CampaignId", record.campaign_id),
        opt("MessageClass", record.message_class),
        el("A2pState", text=a2p_state),
    )


def subscription(sub: Subscription, now: float) -> Node:
    """One `Subscription` element (the password is never returned)."""
    r = sub.request
    callback = None
    if r.url is not None:
        callback = el(
            "CallbackSubscription",
            el("URL", text=r.url),
            el("Expiry", text=str(sub.expiry_left_s(now))),
            el("NumberFormat", text=sub.number_format),
            el("CallbackCredentials", el("BasicAuthentication", el("Username", text=r.username)))
            if r.username
            else None,
        )
    return el(
        "Subscription",
        el("SubscriptionId", text=sub.id),
        opt("OrderType", r.order_type),
        opt("OrderId", r.order_id),
        opt("EventType", r.event_type),
        callback,
        el(
            "EmailSubscription",
            el("Email", text=r.email),
            el("DigestRequested", text=r.digest or "NONE"),
        )
        if r.email
        else None,
    )


def subscriptions(subs: list[Subscription], now: float) -> Node:
    """`SubscriptionsResponse/Subscriptions` (also used for a single GET)."""
    return el("SubscriptionsResponse", el("Subscriptions", *(subscription(s, now) for s in subs)))


def _bool(value: bool) -> str:
    return "true" if value else "false"
