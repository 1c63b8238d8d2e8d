"""The state file's vocabulary: the status enums and the records the store hands out.

The closed sets the state file holds are enums here (`NumberStatus` for `numbers.status`,
`OrderState` for `orders.state`, the plan's `StepKind` for `steps.kind`); the tables
(`orchestrator.state.tables`) get a CHECK constraint generated from each, so the database
itself refuses any other value. SQL elsewhere in the wing binds enum values, never free
literals. The frozen dataclasses are what callers get instead of rows.

Nothing here touches a database (`orchestrator.state.database` owns the connection); imports
only the plan's `StepKind`, never sqlmodel or SQLAlchemy (every command imports this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from orchestrator.plan import StepKind


class NumberStatus(StrEnum):
    """Where one number of one step stands (the `numbers.status` column)."""

    PENDING = "pending"
    IN_ORDER = "in_order"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    NEEDS_ACTION = "needs_action"  # an A2P follow-up was refused; the SMS change stands
    UNKNOWN = "unknown"  # the order reported a status bwmigrate does not know


class OrderState(StrEnum):
    """Where one order stands in the exactly-once protocol."""

    PLANNED = "planned"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    DONE = "done"


# --- what callers get ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepInfo:
    """A step as stored."""

    id: int
    name: str
    kind: StepKind
    chained_from: int | None
    depends_on: tuple[int, ...]
    settings: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order as stored."""

    id: int
    step: int
    idx: int
    customer_order_id: str
    state: OrderState
    remote_id: str | None
    remote_status: str | None
    size: int
    submit_attempts: int
    attempted_at: float | None = None


@dataclass(frozen=True, slots=True)
class FailedNumber:
    """A per-number refusal reported by the API for an order.

    `status` is `failed`, or `needs_action` for an A2P refusal that leaves the SMS change
    standing (`orchestrator.api.status.refuses_a2p_only`); `note` says what to do.
    """

    number: str
    code: str
    description: str
    status: str = NumberStatus.FAILED  # or NumberStatus.NEEDS_ACTION
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ExcludedNumber:
    """A plan number kept out of every order on purpose (e.g. importTnChecker rejected it).

    Stored as failed with the API's code and description and no order, so the report still
    accounts for it.
    """

    step: int
    e164: str
    raw: str
    source: str
    code: str
    description: str
    note: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What committing an order's terminal status changed."""

    succeeded: int
    failed: int
    skipped: int
    chained_order: OrderRecord | None
    needs_action: int = 0
    unknown: int = 0


@dataclass(slots=True)
class StepCounts:
    """Number counts of one step by status."""

    step: int
    name: str
    kind: str
    total: int = 0
    pending: int = 0
    in_order: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    needs_action: int = 0
    unknown: int = 0

    def of(self, status: NumberStatus) -> int:
        """How many of the step's numbers have `status`."""
        count: int = getattr(self, status.value)
        return count

    def add(self, status: NumberStatus, n: int) -> None:
        """Count `n` more numbers as having `status` (`total` is the caller's to keep)."""
        setattr(self, status.value, self.of(status) + n)


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One number in one step, for `bwmigrate report`."""

    step: str
    kind: str
    e164: str | None
    input: str
    source: str
    status: str  # a NumberStatus value
    order_id: str | None
    customer_order_id: str | None
    error_code: str | None
    error_description: str | None
    note: str | None
    attempts: int
    updated_at: float
