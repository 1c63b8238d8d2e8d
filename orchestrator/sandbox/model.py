"""The sandbox's vocabulary: number formats, order kinds and statuses, decoded request bodies.

Plain data and pure functions only. This module does no I/O, reads no clock, and must not
import anything else from the sandbox (every other sandbox module imports it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class ApiVersion(StrEnum):
    """Which flavour of the API a request came in on: v2 is E.164-only, v1 is 10-digit."""

    V1 = "v1"
    V2 = "v2"


class OrderKind(StrEnum):
    """The kinds of asynchronous order the sandbox keeps (the ledger's `kind`)."""

    IMPORT = "import"
    REMOVE = "remove"
    TNOPTIONS = "tnoptions"


class OrderStatus(StrEnum):
    """`ProcessingStatus` values, exactly as the API spells them.

    EXCEPTION ends import orders only: the webhook table and the subscription callback schema
    list it for `importtnorders` (reference §8, §10); the order schemas' enums do not.
    """

    RECEIVED = "RECEIVED"
    PROCESSING = "PROCESSING"
    COMPLETE = "COMPLETE"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    EXCEPTION = "EXCEPTION"

    @property
    def terminal(self) -> bool:
        """True for COMPLETE, PARTIAL, FAILED and EXCEPTION."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {OrderStatus.COMPLETE, OrderStatus.PARTIAL, OrderStatus.FAILED, OrderStatus.EXCEPTION}
)


class NumberKind(StrEnum):
    """What the sandbox knows about a number.

    `inservice`: a Bandwidth number in service on an account (voice and messaging owned there).
    `bandwidth`: a Bandwidth-owned number that is not the caller's (on no account, or on another):
    importing it fails with 19006.
    `imported`: a non-Bandwidth number imported for hosted messaging on an account.
    Numbers the sandbox does not know are external numbers that can be imported.
    """

    INSERVICE = "inservice"
    BANDWIDTH = "bandwidth"
    IMPORTED = "imported"


_E164 = re.compile(r"\+[1-9]\d{6,14}")
_NANP_E164 = re.compile(r"\+1[2-9]\d{9}")
_NANP_10 = re.compile(r"[2-9]\d{9}")


def is_e164(text: str) -> bool:
    """True when `text` is an E.164 number (NANP numbers: +1 and ten digits, NPA not 0/1)."""
    if text.startswith("+1"):
        return _NANP_E164.fullmatch(text) is not None
    return _E164.fullmatch(text) is not None


def parse_number(text: str, version: ApiVersion) -> str | None:
    """Return the E.164 form of a number as the given API version accepts it, or None.

    v2 accepts E.164 only; v1 accepts 10-digit NANP, 11-digit with a leading 1, or E.164.
    """
    text = text.strip()
    if is_e164(text):
        return text
    if version is ApiVersion.V2:
        return None
    if len(text) == 11 and text.startswith("1"):
        text = text[1:]
    if _NANP_10.fullmatch(text):
        return "+1" + text
    return None


def render_number(number: str, version: ApiVersion) -> str:
    """Render a stored E.164 number the way `version` shows it (v1: 10-digit for +1)."""
    if version is ApiVersion.V1 and number.startswith("+1"):
        return number[2:]
    return number


_CUSTOMER_ORDER_ID = re.compile(r"[A-Za-z0-9 \-]{1,40}")


def is_valid_customer_order_id(text: str) -> bool:
    """The CustomerOrderId rule: letters, digits, dash, space; 1 to 40 characters."""
    return _CUSTOMER_ORDER_ID.fullmatch(text) is not None


@dataclass(frozen=True)
class ApiError:
    """One (code, description) pair, optionally about some numbers."""

    code: int
    description: str
    numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Warning_:
    """A per-number warning on a TN option order."""

    number: str
    description: str


@dataclass(frozen=True)
class ServiceAddress:
    """A subscriber's service address, field names as in the XML."""

    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Subscriber:
    """`Subscriber` of an `ImportTnOrder`."""

    name: str
    address: ServiceAddress | None = None


@dataclass(frozen=True)
class ImportRequest:
    """A decoded import body (seed `ExternalTnsOrder` form, `ImportTnOrder` form, or v1
    `externalTns` with `Action`). Numbers are raw text; validation happens in the state."""

    root: str
    numbers: tuple[str, ...]
    customer_order_id: str | None = None
    site_id: str | None = None
    sip_peer_id: str | None = None
    loa_type: str | None = None
    subscriber: Subscriber | None = None
    loa_authorizing_person: str | None = None
    action: str | None = None


@dataclass(frozen=True)
class RemoveRequest:
    """A decoded `RemoveImportedTnOrder` body."""

    numbers: tuple[str, ...]
    customer_order_id: str | None = None


@dataclass(frozen=True)
class A2pSettings:
    """`A2pSettings` of a TN option group."""

    action: str | None = None
    message_class: str | None = None
    campaign_id: str | None = None


@dataclass(frozen=True)
class TnOptionGroup:
    """One `TnOptionGroup`: the options (in document order) and the numbers they apply to."""

    numbers: tuple[str, ...]
    sms: str | None = None
    a2p: A2pSettings | None = None
    options: tuple[tuple[str, str], ...] = ()
    has_route_plan: bool = False


@dataclass(frozen=True)
class TnOptionRequest:
    """A decoded `TnOptionOrder` body."""

    groups: tuple[TnOptionGroup, ...]
    customer_order_id: str | None = None


@dataclass(frozen=True)
class CheckerRequest:
    """A decoded `ImportTnCheckerPayload` body."""

    numbers: tuple[str, ...]
    site_id: str | None = None
    sip_peer_id: str | None = None


@dataclass(frozen=True)
class SipPeerTnUpdate:
    """A decoded `SipPeerTelephoneNumber` PUT body."""

    messaging_sms_enabled: bool | None
    touches_messaging: bool
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SubscriptionRequest:
    """A decoded `Subscription` body."""

    order_type: str | None
    event_type: str | None
    order_id: str | None
    url: str | None
    expiry_s: int | None
    number_format: str | None
    username: str | None
    password: str | None
    email: str | None = None
    digest: str | None = None  # EmailSubscription/DigestRequested
    extra: dict[str, str] = field(default_factory=dict)


class RejectedError(Exception):
    """A request the sandbox refuses as a whole: HTTP status plus the API's errors.

    The routes render it in the shape the endpoint uses (ResponseStatus or repeated Errors).
    """

    def __init__(self, status: int, errors: list[ApiError]) -> None:
        super().__init__(f"{status}: " + "; ".join(f"{e.code} {e.description}" for e in errors))
        self.status = status
        self.errors = errors


def reject(status: int, code: int, description: str) -> RejectedError:
    """Shorthand for a one-error `RejectedError`."""
    return RejectedError(status, [ApiError(code, description)])
