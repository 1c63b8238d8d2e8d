"""What an order's answer means for its numbers: status semantics, A2P refusals, canary verdicts.

Pure decisions over the API's words (statuses and error codes), so the engine and the store
apply one meaning everywhere:

- `order_phase(status)`: an order status is still open (RECEIVED, PROCESSING), terminal with
  success for the numbers it does not list as failed (COMPLETE, PARTIAL), terminal with failure
  (FAILED, EXCEPTION — reference §8: EXCEPTION is a terminal status of import orders and never
  success), or a status bwmigrate does not know. An unknown status is never success.
- `refuses_a2p_only(role, code)`: a per-number refusal of an A2P follow-up order (the TN option
  order that carries only `A2pSettings`) leaves the SMS change standing; the number needs action
  rather than having failed (error 5128: only the SMS attribute may change on imported numbers).
- `canary_refusal(...)`: whether the canary order of an import step proves that the API refuses
  the step's body, and which plan setting to change.

No I/O, no clock, no environment; imports nothing but the standard library and `errors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "A2P_REFUSAL_CODES",
    "REJECTED_STATUS",
    "UNKNOWN_STATUS",
    "CanaryRefusal",
    "OrderPhase",
    "canary_refusal",
    "needs_action_advice",
    "order_phase",
    "refuses_a2p_only",
]


class OrderPhase(StrEnum):
    """What an order status means for the engine."""

    OPEN = "open"  # keep polling
    SUCCEEDED = "succeeded"  # terminal: numbers not listed as failed succeeded
    FAILED = "failed"  # terminal: every number not otherwise listed failed
    UNKNOWN = "unknown"  # not a status bwmigrate knows: keep polling, within bounds


REJECTED_STATUS = "REJECTED"
"""bwmigrate's own order status for a create the API refused (4xx): no order exists."""

UNKNOWN_STATUS = "UNKNOWN"
"""The order status bwmigrate records for an order whose answer gave none it could read."""

_OPEN = frozenset({"RECEIVED", "PROCESSING"})
_SUCCEEDED = frozenset({"COMPLETE", "PARTIAL"})
_FAILED = frozenset({"FAILED", "EXCEPTION", REJECTED_STATUS})


def order_phase(status: str | None) -> OrderPhase:
    """The phase of an order status (case-insensitive; None or empty is unknown)."""
    s = (status or "").strip().upper()
    if s in _OPEN:
        return OrderPhase.OPEN
    if s in _SUCCEEDED:
        return OrderPhase.SUCCEEDED
    if s in _FAILED:
        return OrderPhase.FAILED
    return OrderPhase.UNKNOWN


# Refusals of the A2P attribute alone (errors catalogue, SmsErrorType/OrderErrorType; reference
# §9.4): the number's SMS setting is untouched by them.
A2P_REFUSAL_CODES = frozenset(
    {
        "5128",  # Only SMS attribute can be changed for External telephone number(s)
        "5132",  # SMS attribute should be 'ON' for provisioning A2P
        "5133",  # A2P Long Code needs a permissive A2P value on the SIP peer
        "5134",  # attribute incompatible with the A2P Action
        "5138",  # A2P Action value is invalid
        "5139",  # A2P not enabled on the account
        "12128",  # campaign not authorized
        "13639",  # campaign not authorized
        "12129",  # message class not authorized
        "13640",  # message class not authorized
        "12192",  # campaign not active
    }
)

_ADVICE = {
    "5128": (
        "imported (hosted) numbers accept only the SMS attribute: register the campaign for "
        "these numbers with the messaging provider that hosts them, or drop `a2p` from the step"
    ),
    "5132": "turn SMS on for these numbers first, then send the A2P settings again",
    "5133": "set A2P Long Code to DefaultOn or DefaultOff on the SIP peer, then run a2p again",
    "5139": "ask Bandwidth to enable A2P on the account, then send the A2P settings again",
}
_DEFAULT_ADVICE = (
    "check the campaign id and message class in the step's `a2p` (and that the campaign is "
    "active and authorised for the account), then send the A2P settings again"
)


def refuses_a2p_only(role: str | None, code: str | None) -> bool:
    """True when the API refused, with `code`, the A2P attribute alone in an order of a step
    with `role`: only the A2P follow-up step (role "a2p") leaves its numbers needing action
    instead of failed."""
    return role == "a2p" and (code or "") in A2P_REFUSAL_CODES


def needs_action_advice(code: str | None) -> str:
    """What to do about a number whose A2P settings were refused with `code`."""
    return "SMS is on; A2P settings not applied: " + _ADVICE.get(code or "", _DEFAULT_ADVICE)


# --- canary --------------------------------------------------------------------------------------

# Codes that say the request itself was malformed or named a wrong setting, and the setting a
# user changes for each (catalogue: SystemError, OrderErrorType, ExternalTnsErrorType).
_BODY_CODES = frozenset({"1003", "1005", "1006", "1008", "1011", "1012", "1019", "5002"})
_SETTING_CODES = {
    "5016": "site_id",
    "7309": "site_id",
    "7310": "site_id (the site has no default SIP peer: give sip_peer_id)",
    "7311": "sip_peer_id",
    "7312": "sip_peer_id",
    "25131": "subscriber.name (at most 45 characters)",
    "25100": "loa_type",
    "25110": "loa_type",
    "5149": "none in the plan: the account lacks the importTnOrder API (ask Bandwidth)",
    "5150": "none in the plan: these credentials may not use the importTnOrder API",
}


@dataclass(frozen=True, slots=True)
class CanaryRefusal:
    """The API refused a canary order's body: what it said and what to change."""

    code: str
    description: str
    hint: str


def canary_refusal(
    *,
    status: str,
    codes: Iterable[tuple[str | None, str | None]],
    step_name: str,
    body_form: str,
) -> CanaryRefusal | None:
    """Whether a finished canary order proves the step's body is refused, and the fix.

    `status` is the order's terminal status (REJECTED for a create the API refused with 4xx);
    `codes` are the (code, description) pairs its answer carried (order-level and per number).
    A refused create always proves it; a FAILED or EXCEPTION order proves it only when a code
    says the request was malformed or named a wrong setting. Per-number refusals (a number not
    active, already imported, ...) prove nothing about the body: the step goes on.
    """
    pairs = [(c or "", d or "") for c, d in codes]
    s = status.upper()
    if s == REJECTED_STATUS:
        code, desc = pairs[0] if pairs else ("", "the API refused the order")
        return CanaryRefusal(code, desc, _hint(code, step_name, body_form))
    if s not in ("FAILED", "EXCEPTION"):
        return None
    for code, desc in pairs:
        if code in _BODY_CODES or code in _SETTING_CODES:
            return CanaryRefusal(code, desc, _hint(code, step_name, body_form))
    return None


def _hint(code: str, step_name: str, body_form: str) -> str:
    """One line saying which plan setting to change for a refused canary."""
    where = f'step "{step_name}"'
    if code in _SETTING_CODES:
        return f"change {_SETTING_CODES[code]} of {where}"
    if body_form == "ExternalTnsOrder":
        return (
            f'{where} sends the guide\'s ExternalTnsOrder body; set body_form = "ImportTnOrder" '
            "(the published schema's form) and give subscriber and loa_authorizing_person"
        )
    return (
        f"{where} sends the published schema's ImportTnOrder body; check its subscriber and "
        'loa_authorizing_person, or set body_form = "ExternalTnsOrder" (the migration guide\'s '
        "form) if this API expects that one"
    )
