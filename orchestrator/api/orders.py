"""One table of what each step kind becomes on the v2 API, and the body of each order.

`ORDER_KINDS` maps a plan step kind to its `OrderEndpoint`: the API order kind (what the
client's order methods take), the path under `accounts/{id}/` where such orders are created,
listed and read, the `OrderType` a subscription (and its notifications) names them by, and
what `doctor` calls them. Every module that needs one of these reads it here: the client's
paths, the engine's order kind, the audit log's list paths, `plan --show-xml`, `doctor`.
To add an endpoint, add a row (and its body to `order_body`).

`order_body` builds the XML body of one order of a stored step from its settings.

Pure: no I/O, no clock, no environment. Imports the plan model and the XML request builders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from orchestrator.api.xml_request import (
    build_import_order,
    build_remove_order,
    build_tn_option_order,
)
from orchestrator.plan.model import A2pSettings, StepKind, Subscriber

__all__ = ["ORDER_KINDS", "OrderEndpoint", "OrderKind", "order_body", "order_endpoint"]


class OrderKind(StrEnum):
    """The three v2 order endpoints, as the client's order methods name them."""

    IMPORT = "import"
    REMOVE = "remove"
    TNOPTIONS = "tnoptions"


@dataclass(frozen=True, slots=True)
class OrderEndpoint:
    """Where one kind of order lives on the v2 API (reference §4-§7, §10)."""

    kind: OrderKind
    path: str  # under accounts/{id}/: POST creates, GET lists, GET <path>/{order id} reads one
    subscription_type: str  # the OrderType of a subscription and of its notifications
    title: str  # what `doctor` and messages call these orders


ORDER_KINDS: Mapping[StepKind, OrderEndpoint] = MappingProxyType(
    {
        StepKind.IMPORT: OrderEndpoint(
            OrderKind.IMPORT, "importTnOrders/messaging", "importtnorders", "import orders"
        ),
        StepKind.REMOVE: OrderEndpoint(
            OrderKind.REMOVE,
            "removeImportedTnOrders/messaging",
            "removeImportedTnOrders",
            "removal orders",
        ),
        StepKind.MESSAGING: OrderEndpoint(
            OrderKind.TNOPTIONS, "tnoptions", "tnoptions", "TN option orders"
        ),
    }
)


def order_endpoint(kind: str) -> OrderEndpoint:
    """The endpoint of an API order kind (`OrderKind`) or of a plan step kind (`StepKind`:
    "messaging" is the TN option endpoint); a `ValueError` for anything else."""
    for step_kind, endpoint in ORDER_KINDS.items():
        if kind in (endpoint.kind.value, step_kind.value):
            return endpoint
    raise ValueError(f"unknown order kind {kind!r}")


def order_body(
    kind: StepKind, settings: Mapping[str, Any], customer_order_id: str, numbers: Sequence[str]
) -> bytes:
    """The v2 XML body of one order of a step of `kind` with `settings` (`StepSpec.settings()`,
    `chained_settings()` or `chained_a2p_settings()`, as the state file stores them).

    A step turning SMS on sends SMS only (its A2P settings go in the chained A2P step's orders,
    which carry no SMS); SMS off is sent with the step's A2P settings, if any.
    """
    if kind is StepKind.IMPORT:
        sub = Subscriber(**settings["subscriber"]) if settings.get("subscriber") else None
        return build_import_order(
            body_form=settings["body_form"], customer_order_id=customer_order_id,
            site_id=settings["site_id"], sip_peer_id=settings.get("sip_peer_id"),
            loa_type=settings["loa_type"], numbers=numbers, subscriber=sub,
            loa_authorizing_person=settings.get("loa_authorizing_person"),
        )  # fmt: skip
    if kind is StepKind.REMOVE:
        return build_remove_order(customer_order_id=customer_order_id, numbers=numbers)
    sms = settings.get("sms")
    a2p = A2pSettings(**settings["a2p"]) if settings.get("a2p") and sms != "on" else None
    return build_tn_option_order(
        customer_order_id=customer_order_id, sms=sms, a2p=a2p, numbers=numbers
    )
