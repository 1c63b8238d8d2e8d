"""The plan model: what a migration plan says, and what compiling it produces.

`PlanSpec` is a parsed plan file (`orchestrator.plan.planfile` builds it); `CompiledPlan` is the
result of `orchestrator.plan.compile.compile_plan`: every step's valid numbers in E.164, cut into
orders with deterministic CustomerOrderIds, and the hash that identifies what would be sent.
Plain data: no I/O, no clock, no environment; imports nothing above the plan wing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from orchestrator.plan.numbers import DEFAULT_COUNTRY_A3
from orchestrator.plan.source import NumberFile

BODY_FORMS = ("ImportTnOrder", "ExternalTnsOrder")
"""Import bodies: the published v2 schema's `ImportTnOrder` (the default) and the migration
guide's `ExternalTnsOrder`-shaped one (reference §8). Mirrors `orchestrator.spec.IMPORT_BODY_FORMS`
(tests/unit/test_architecture.py checks they agree)."""
MAX_BATCH_SIZE = 5000  # documented cap of the sibling endpoints (error 5095)
DEFAULT_BATCH_SIZE = 1000
DEFAULT_CANARY = 5  # numbers in an import step's first order, sent before the rest
DEFAULT_BODY_FORM = BODY_FORMS[0]  # "ImportTnOrder": the published v2 schema's form
GUIDE_BODY_FORM = BODY_FORMS[1]  # "ExternalTnsOrder": the migration guide's form
NANP_PREFIX = "+1"  # numbers for which the schema's form needs a subscriber and LOA person
SUBSCRIBER_REQUIRED = ("name", "house_number", "street_name", "city", "state_code", "zip")
MAX_VISIBILITY_WINDOW_S = 600.0
REHEARSAL_MAX_ORDER_S = 10.0
"""A rehearsal's sandbox completes orders in min(expected_order_s, this) (the dry run's
estimate of a rehearsal uses it too)."""
_CUSTOMER_ORDER_ID_MAX = 40


class StepKind(StrEnum):
    """What a step does on v2 (and which v1 usage it replaces)."""

    IMPORT = "import"  # v1 externalTns IMPORT / importTnOrders -> importTnOrders/messaging
    REMOVE = "remove"  # v1 externalTns REMOVE / removeImportedTnOrders -> .../messaging
    MESSAGING = "messaging"  # v1 sippeers/{p}/tns messaging toggles -> tnoptions


_KIND_LETTER = {StepKind.IMPORT: "I", StepKind.REMOVE: "R", StepKind.MESSAGING: "M"}


@dataclass(frozen=True, slots=True)
class Budget:
    """The account's request limit and the share of it a run may use (`plan/budget.py`);
    the rest is left for the customer's live traffic."""

    account_limit_per_s: float
    share_per_s: float

    @property
    def share_percent(self) -> float:
        """The share as a percentage of the limit."""
        return 100.0 * self.share_per_s / self.account_limit_per_s


@dataclass(frozen=True, slots=True)
class RateSpec:
    """The account's request budget and polling cadence.

    `requests_per_s` is the run's rate: the plan's `requests_per_s`, or the share of `budget`
    when the plan states the account's limit.
    """

    requests_per_s: float = 10.0
    max_orders_in_flight: int = 10
    poll_interval_s: float = 2.0
    expected_order_s: float = 10.0  # typical time to a terminal status; for estimates only
    # How long after a POST whose outcome is unknown the engine keeps looking for the order in
    # the order lists (they may show a new order seconds late) before treating it as absent.
    visibility_window_s: float = 30.0
    budget: Budget | None = None


@dataclass(frozen=True, slots=True)
class FailureThreshold:
    """Abort when over `max_failed_percent` of finished numbers failed, after `min_finished`."""

    max_failed_percent: float = 50.0
    min_finished: int = 100


@dataclass(frozen=True, slots=True)
class StepSpec:
    """One step as written in the plan."""

    index: int
    name: str
    kind: StepKind
    inline: tuple[str, ...] = ()
    files: tuple[NumberFile, ...] = ()
    site_id: str | None = None
    sip_peer_id: str | None = None
    loa_type: str = "CARRIER"
    subscriber: Subscriber | None = None
    loa_authorizing_person: str | None = None
    enable_messaging: bool = False
    sms: str | None = None  # "on" | "off" for messaging steps; "on" for a chained import
    a2p: A2pSettings | None = None
    body_form: str = DEFAULT_BODY_FORM  # import steps: "ImportTnOrder" or "ExternalTnsOrder"
    canary: int = 0  # import steps: numbers in the first order, sent before the rest; 0 = none

    @property
    def messaging_sms(self) -> str | None:
        """The SMS state this step (or its chained TN option order) sets, if any."""
        if self.kind is StepKind.IMPORT:
            return "on" if self.enable_messaging else None
        return self.sms

    def settings(self) -> dict[str, Any]:
        """What this step sends besides its numbers (hashed, shown in dry runs)."""
        out: dict[str, Any] = {"kind": self.kind.value, "name": self.name}
        if self.kind is StepKind.IMPORT:
            out |= {
                "site_id": self.site_id,
                "sip_peer_id": self.sip_peer_id,
                "loa_type": self.loa_type,
                "subscriber": _asdict(self.subscriber),
                "loa_authorizing_person": self.loa_authorizing_person,
                "enable_messaging": self.enable_messaging,
                "body_form": self.body_form,
                "canary": self.canary,
            }
        if self.messaging_sms is not None:
            out |= {"sms": self.messaging_sms, "a2p": _asdict(self.a2p)}
        return out


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A parsed and validated plan file (numbers not yet read)."""

    path: str
    name: str
    account_id: str
    country: str = DEFAULT_COUNTRY_A3
    batch_size: int = DEFAULT_BATCH_SIZE
    canary: int = DEFAULT_CANARY  # the plan-level value import steps inherit
    rate: RateSpec = field(default_factory=RateSpec)
    failure_threshold: FailureThreshold = field(default_factory=FailureThreshold)
    rehearsal: str | None = None  # sandbox seed file for `run --sandbox`, relative to the plan
    steps: tuple[StepSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class InvalidEntry:
    """A number the plan cannot use, with where it came from and why."""

    step_index: int
    raw: str
    location: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class DuplicateEntry:
    """A number listed twice in one step; the first occurrence is kept (and sent)."""

    step_index: int
    number: str
    location: str
    first_location: str
    raw: str = ""  # the text as the number file wrote it


@dataclass(frozen=True, slots=True)
class Order:
    """One v2 order a step will submit: its position, its CustomerOrderId and its numbers."""

    step_index: int
    index: int
    customer_order_id: str
    numbers: tuple[str, ...]


@dataclass(slots=True)
class CompiledStep:
    """A step's valid, de-duplicated numbers (E.164) with their origins, cut into orders."""

    spec: StepSpec
    numbers: list[str]
    raws: list[str]
    locations: list[str]
    orders: list[Order]
    invalid_count: int
    duplicate_count: int
    depends_on: tuple[int, ...] = ()  # earlier steps sharing numbers with this one (run first)

    @property
    def input_count(self) -> int:
        """Entries read for this step: valid + invalid + duplicates."""
        return len(self.numbers) + self.invalid_count + self.duplicate_count


@dataclass(slots=True)
class CompiledPlan:
    """Everything a run needs, and the hash that identifies it."""

    spec: PlanSpec
    hash: str
    steps: list[CompiledStep]
    invalid: list[InvalidEntry]
    duplicates: list[DuplicateEntry]

    @property
    def valid_count(self) -> int:
        """Numbers that will be sent, over all steps."""
        return sum(len(s.numbers) for s in self.steps)

    @property
    def input_count(self) -> int:
        """Entries read, over all steps."""
        return sum(s.input_count for s in self.steps)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """The end customer named on an `ImportTnOrder` (the v2 schema requires it, with its service
    address, for +1 NANP numbers)."""

    name: str
    house_number: str | None = None
    street_name: str | None = None
    city: str | None = None
    state_code: str | None = None
    zip: str | None = None
    county: str | None = None


@dataclass(frozen=True, slots=True)
class A2pSettings:
    """The `A2pSettings` of a TN option group (10DLC message class and campaign)."""

    message_class: str | None = None
    campaign_id: str | None = None
    action: str = "asSpecified"


def _asdict(value: Subscriber | A2pSettings | None) -> dict[str, Any] | None:
    """A settings dataclass as a plain dict (for hashing and display)."""
    if value is None:
        return None
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


ReadFile = Callable[[str], bytes]
