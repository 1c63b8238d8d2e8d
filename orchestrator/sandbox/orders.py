"""Orders as the sandbox keeps them: timing, status by time, history, list filters.

Plain data and pure functions; the state creates orders and sets their outcome once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from orchestrator.sandbox.model import (
    ApiError,
    ApiVersion,
    OrderKind,
    OrderStatus,
    TnOptionGroup,
    Warning_,
)
from orchestrator.sandbox.validation import ValidImport


@dataclass
class Order:
    """An accepted order; `final_status` and the outcome fields are set once, at completion."""

    kind: OrderKind
    order_id: str
    account_id: str
    endpoint: str
    version: ApiVersion
    created_by: str
    customer_order_id: str | None
    numbers: tuple[str, ...]
    created_at: float
    processing_at: float
    complete_at: float
    listed_at: float
    """When the order starts to show in list endpoints (`created_at` + `faults.list_lag_s`)."""
    details: ValidImport | None = None
    groups: tuple[TnOptionGroup, ...] = ()
    final_status: OrderStatus | None = None
    completed_at: float | None = None
    errors: list[ApiError] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)

    def status_at(self, now: float) -> OrderStatus:
        """The `ProcessingStatus` at time `now`."""
        if self.final_status is not None:
            return self.final_status
        if now < self.processing_at or (
            now <= self.created_at and self.kind is not OrderKind.REMOVE
        ):
            return OrderStatus.RECEIVED
        return OrderStatus.PROCESSING

    def listed(self, now: float) -> bool:
        """True once the order shows in list endpoints (GET by id sees it at once)."""
        return now >= self.listed_at

    def modified_at(self, now: float) -> float:
        """`LastModifiedDate` at time `now`."""
        if self.completed_at is not None:
            return self.completed_at
        return (
            self.processing_at if now >= self.processing_at > self.created_at else self.created_at
        )

    def history(self, now: float) -> list[tuple[float, str]]:
        """(time, status) steps so far, for `/history`."""
        steps = [(self.created_at, OrderStatus.RECEIVED.value)]
        if now >= self.processing_at:
            steps.append((self.processing_at, OrderStatus.PROCESSING.value))
        if self.final_status is not None and self.completed_at is not None:
            steps.append((self.completed_at, self.final_status.value))
        return steps


@dataclass(frozen=True)
class OrderFilter:
    """List filters (all optional; dates are inclusive `yyyy-MM-dd`)."""

    customer_order_id: str | None = None
    statuses: frozenset[OrderStatus] = frozenset()
    tn: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    modified_from: date | None = None
    modified_to: date | None = None
    loa_type: str | None = None


def iso(epoch_s: float) -> str:
    """Epoch seconds as the API's timestamp text (`2024-05-14T09:12:03.512Z`)."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def matches(order: Order, filters: OrderFilter, now: float) -> bool:
    """True when the order is listed at time `now` and passes every filter. Dates compare
    the UTC calendar date of the sandbox clock's timestamps, bounds inclusive."""
    if not order.listed(now):
        return False
    if filters.statuses and order.status_at(now) not in filters.statuses:
        return False
    if filters.tn is not None and filters.tn not in order.numbers:
        return False
    if not _within(order.created_at, filters.created_from, filters.created_to):
        return False
    if not _within(order.modified_at(now), filters.modified_from, filters.modified_to):
        return False
    if filters.loa_type not in (None, "ALL"):
        return order.details is not None and order.details.loa_type == filters.loa_type
    return True


def _within(epoch_s: float, first: date | None, last: date | None) -> bool:
    day = datetime.fromtimestamp(epoch_s, UTC).date()
    return (first is None or day >= first) and (last is None or day <= last)
