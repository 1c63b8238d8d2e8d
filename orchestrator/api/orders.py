"""One table of what each step kind becomes on the v2 API, and the body of each order.

`ORDER_KINDS` maps a plan step kind to its API order kind (the path segment the client posts
to and lists, the order type subscriptions name). `order_body` builds the XML body of one order
of a stored step from its settings. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.api.xml import build_import_order, build_remove_order, build_tn_option_order
from orchestrator.plan.model import A2pSettings, StepKind, Subscriber


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
