"""The state file's schema: the status enums, the tables, and the records the store hands out.

The closed sets the state file holds are enums here (`NumberStatus` for `numbers.status`,
`OrderState` for `orders.state`, the plan's `StepKind` for `steps.kind`), and each column gets a
CHECK constraint generated from its enum, so the database itself refuses any other value. SQL
elsewhere in the wing binds enum values, never free literals. Tables are declared with sqlmodel
(the wing creates them and then works on them with bulk SQL); the frozen dataclasses are what
callers get instead of rows.

Nothing here touches a database (`orchestrator.state.database` owns the connection); imports
only the plan's `StepKind`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

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


# --- schema (sqlmodel) ------------------------------------------------------------------------


def _one_of(table: str, column: str, values: type[StrEnum]) -> CheckConstraint:
    """A CHECK constraint, named `ck_<table>_<column>`: `column` holds one of the enum's values.

    Written `column = 'a' OR column = 'b' ...`, not `column IN (...)`: SQLite builds an
    ephemeral table for an IN list each time it checks a row, which halves the bulk insert and
    update rates (bench/cutover_bench.py's checkpoint); the OR chain costs next to nothing.
    """
    terms = []
    for member in values:
        assert "'" not in member.value, member  # enum values are code constants, never quoted
        terms.append(f"{column} = '{member.value}'")
    return CheckConstraint(" OR ".join(terms), name=f"ck_{table}_{column}")


def _zero() -> Any:
    """A counter column: 0 in Python and in the database (bulk SQL inserts rely on it)."""
    return Field(default=0, sa_column_kwargs={"server_default": "0"})


class MetaRow(SQLModel, table=True):
    """Key/value facts about the state file: schema version, plan hash, plan text."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class StepRow(SQLModel, table=True):
    """A plan step, or the TN option step chained to an import."""

    __tablename__ = "steps"
    __table_args__ = (_one_of("steps", "kind", StepKind),)
    id: int = Field(primary_key=True)
    name: str
    kind: str
    chained_from: int | None = None
    depends_on: str = "[]"  # JSON list of step ids that must finish first
    settings: str = "{}"  # JSON, as shown by the dry run


class NumberRow(SQLModel, table=True):
    """One number in one step: the unit of progress."""

    __tablename__ = "numbers"
    __table_args__ = (
        Index("ix_numbers_step_seq", "step", "seq", unique=True),
        Index("ix_numbers_order_e164", "order_id", "e164"),
        _one_of("numbers", "status", NumberStatus),
    )
    id: int | None = Field(default=None, primary_key=True)
    step: int
    seq: int
    e164: str | None = None
    raw: str
    source: str
    status: str  # a NumberStatus value
    order_id: int | None = None
    error_code: str | None = None
    error_description: str | None = None
    note: str | None = None
    attempts: int = _zero()
    updated_at: float = _zero()


class OrderRow(SQLModel, table=True):
    """One v2 order and its place in the exactly-once protocol."""

    __tablename__ = "orders"
    __table_args__ = (_one_of("orders", "state", OrderState),)
    id: int | None = Field(default=None, primary_key=True)
    step: int = Field(index=True)
    idx: int
    customer_order_id: str = Field(unique=True)
    state: str = Field(index=True)  # an OrderState value
    remote_id: str | None = None
    remote_status: str | None = None
    size: int
    submit_attempts: int = _zero()
    created_at: float
    submitted_at: float | None = None
    finished_at: float | None = None
    last_error: str | None = None
    attempted_at: float | None = None  # when the last POST was committed as intended


class RunRow(SQLModel, table=True):
    """One invocation of `bwmigrate run` on this state file."""

    __tablename__ = "runs"
    id: int | None = Field(default=None, primary_key=True)
    started_at: float
    ended_at: float | None = None
    pid: int
    target: str
    exit_code: int | None = None
    requests: int = _zero()
    rate_limited: int = _zero()
    retried: int = _zero()


class LeaseRow(SQLModel, table=True):
    """Who holds the state file now (informational; the OS lock is the authority)."""

    __tablename__ = "lease"
    id: int = Field(default=1, primary_key=True)
    pid: int
    host: str
    command: str
    acquired_at: float


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
