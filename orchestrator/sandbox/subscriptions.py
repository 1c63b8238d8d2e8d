"""Notification subscriptions: validation and storage (callbacks: `sandbox/notify.py`).

Pure bookkeeping; the caller (the state) holds the lock and supplies ids and time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from orchestrator.sandbox.codes import describe
from orchestrator.sandbox.model import ApiVersion, SubscriptionRequest, reject

ORDER_TYPES = frozenset(
    {
        "portins", "orders", "portouts", "disconnects", "dldas", "lsrorders", "e911s",
        "tnoptions", "externalTns", "lidb", "bulkPortins", "importtnorders",
        "removeImportedTnOrders", "csrs", "emergencyNotificationGroup",
        "emergencyEndpointGroup", "tollfreePortingValidations", "importVoiceTnOrders",
        "removeImportedVoiceTnOrders",
    }
)  # fmt: skip
V2_DROPPED_ORDER_TYPES = frozenset({"externalTns"})
EVENT_TYPES = frozenset({"MESSAGING_LOST"})
NUMBER_FORMATS = ("LEGACY", "E164")
DEFAULT_EXPIRY_S = 86400


@dataclass(frozen=True)
class Subscription:
    """A stored subscription; `number_format` already defaulted by API version."""

    id: str
    account_id: str
    request: SubscriptionRequest
    number_format: str
    created_at: float

    def expiry_left_s(self, now: float) -> int:
        """Seconds until the subscription expires (what GET shows as `Expiry`)."""
        total = self.request.expiry_s if self.request.expiry_s is not None else DEFAULT_EXPIRY_S
        return max(0, int(total - (now - self.created_at)))


class SubscriptionBook:
    """Subscriptions by id."""

    def __init__(self) -> None:
        self._by_id: dict[str, Subscription] = {}

    def create(
        self,
        sub_id: str,
        account_id: str,
        req: SubscriptionRequest,
        version: ApiVersion,
        now: float,
    ) -> Subscription:
        """Validate and add; 400 for invalid bodies, 409 (16008) for a duplicate."""
        number_format = _validate(req, version)
        for other in self._by_id.values():
            if other.account_id == account_id and _same_target(other.request, req):
                raise reject(409, 16008, describe(16008))
        sub = Subscription(sub_id, account_id, req, number_format, now)
        self._by_id[sub_id] = sub
        return sub

    def replace(self, sub_id: str, req: SubscriptionRequest, version: ApiVersion) -> Subscription:
        """PUT: full replacement (omitted fields revert to defaults)."""
        old = self._by_id[sub_id]
        new = replace(old, request=req, number_format=_validate(req, version))
        self._by_id[sub_id] = new
        return new

    def get(self, account_id: str, sub_id: str) -> Subscription | None:
        """The subscription of that account with that id, or None."""
        sub = self._by_id.get(sub_id)
        return sub if sub is not None and sub.account_id == account_id else None

    def any(self) -> bool:
        """True when any subscription exists (the notifier idles otherwise)."""
        return bool(self._by_id)

    def list(self, account_id: str) -> list[Subscription]:
        """The account's subscriptions, oldest first."""
        return [s for s in self._by_id.values() if s.account_id == account_id]

    def delete(self, account_id: str, sub_id: str) -> bool:
        """Remove; False when there was none."""
        if self.get(account_id, sub_id) is None:
            return False
        del self._by_id[sub_id]
        return True


def _validate(req: SubscriptionRequest, version: ApiVersion) -> str:
    if not req.order_type and not req.event_type:
        raise reject(400, 14508, describe(14508))
    if req.order_type and (
        req.order_type not in ORDER_TYPES
        or (version is ApiVersion.V2 and req.order_type in V2_DROPPED_ORDER_TYPES)
    ):
        raise reject(400, 14500, describe(14500))
    if req.event_type and req.event_type not in EVENT_TYPES:
        raise reject(400, 14507, describe(14507))
    if req.url is None and req.email is None:
        raise reject(400, 14503, describe(14503))
    if req.url is not None and not req.url.startswith(("http://", "https://")):
        code = 14503 if not req.url else 14506
        raise reject(400, code, describe(code))
    if (req.username is None) != (req.password is None):
        raise reject(400, 14505, describe(14505))
    number_format = req.number_format or ("E164" if version is ApiVersion.V2 else "LEGACY")
    if number_format not in NUMBER_FORMATS:
        raise reject(400, 14501, describe(14501))  # [I] "invalid object": the closest code
    return number_format


def _same_target(a: SubscriptionRequest, b: SubscriptionRequest) -> bool:
    return (a.order_type, a.event_type, a.order_id, a.url, a.email) == (
        b.order_type, b.event_type, b.order_id, b.url, b.email,
    )  # fmt: skip
