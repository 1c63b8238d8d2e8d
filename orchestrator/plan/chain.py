"""The steps chained after a plan step, and their settings and CustomerOrderIds.

An import with `enable_messaging` is followed by a TN option step turning SMS on
(`<import>:sms-on`); a step that turns SMS on with A2P settings is followed by a TN option step
carrying only the A2P settings (`<SMS step>:a2p`), because A2P on imported numbers is refused
(5128) and must not take the SMS change down with it. The store creates these steps from a
compiled plan; the engine plans their orders as the orders they follow end. Pure.
"""

from __future__ import annotations

from typing import Any

from orchestrator.plan.model import StepKind, StepSpec, _asdict


def chained_customer_order_id(import_customer_order_id: str) -> str:
    """The CustomerOrderId of the TN option order chained to an import order."""
    return f"{import_customer_order_id}-M"


def a2p_customer_order_id(sms_customer_order_id: str) -> str:
    """The CustomerOrderId of the A2P follow-up of the order that turned SMS on."""
    return f"{sms_customer_order_id}-A"


def asks_a2p(step: StepSpec) -> bool:
    """True when `step` turns SMS on with A2P settings (sent as a chained A2P-only step)."""
    return step.messaging_sms == "on" and step.a2p is not None


def sms_step_name(step: StepSpec) -> str:
    """The step turning SMS on for `step`'s numbers: an import's chained TN option step
    (`<import>:sms-on`), or the messaging step itself."""
    return f"{step.name}:sms-on" if step.kind is StepKind.IMPORT else step.name


def a2p_step_name(step: StepSpec) -> str:
    """The chained A2P step of a step that `asks_a2p`: `<SMS step name>:a2p`."""
    return f"{sms_step_name(step)}:a2p"


def chained_settings(step: StepSpec) -> dict[str, Any]:
    """The settings of the TN option step chained to an import step: SMS on, nothing else."""
    return {
        "kind": StepKind.MESSAGING.value,
        "sms": "on",
        "chained_from": step.name,
        "role": "sms",
    }


def chained_a2p_settings(step: StepSpec) -> dict[str, Any]:
    """The settings of the A2P step chained to the step turning SMS on for `step` (see
    `asks_a2p`): its A2P settings only, no SMS."""
    return {
        "kind": StepKind.MESSAGING.value,
        "a2p": _asdict(step.a2p),
        "chained_from": sms_step_name(step),
        "role": "a2p",
    }
