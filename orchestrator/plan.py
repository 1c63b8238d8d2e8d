"""The migration plan: the model (`PlanSpec`), and `PlanSpec` + number files -> `CompiledPlan`.

A plan names the migration, the account, the default country, the batch size and rate settings,
and lists steps (`import`, `remove`, `messaging`), each with numbers inline and/or from files.
Compiling normalises every number, reports invalid ones with their location, drops duplicates
within a step, refuses contradictions across steps and +1 imports the published schema's body
cannot carry without a subscriber and LOA person, cuts each step into orders (an import step's
first order is its canary) and gives every order a deterministic `CustomerOrderId` derived from
the plan hash, so a crashed run can find its orders again. The hash covers everything that
changes what would be sent, and nothing else.

Chained steps (the store creates them, the dry run shows them): an import with
`enable_messaging` is followed by a TN option step turning SMS on (`<import>:sms-on`); a step
that turns SMS on with A2P settings is followed by a TN option step carrying only the A2P
settings (`<SMS step>:a2p`), because A2P on imported numbers is refused (5128) and must not take
the SMS change down with it.

The TOML schema is `orchestrator.planfile` (reached through `parse_plan`). Pure: number files
come in through a `read_file` callable the caller supplies (the CLI opens files). No I/O, no
clock, no environment. Credentials are never part of a plan.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from orchestrator.errors import PlanError
from orchestrator.numbers import (
    DEFAULT_COUNTRY_A3,
    InvalidNumber,
    normalize_numbers,
)
from orchestrator.source import NumberFile, read_numbers
from orchestrator.xml import (
    IMPORT_BODY_FORMS,
    A2pSettings,
    Subscriber,
    build_import_order,
    build_remove_order,
    build_tn_option_order,
)

MAX_BATCH_SIZE = 5000  # documented cap of the sibling endpoints (error 5095)
DEFAULT_BATCH_SIZE = 1000
DEFAULT_CANARY = 5  # numbers in an import step's first order, sent before the rest
DEFAULT_BODY_FORM = IMPORT_BODY_FORMS[0]  # "ImportTnOrder": the published v2 schema's form
GUIDE_BODY_FORM = IMPORT_BODY_FORMS[1]  # "ExternalTnsOrder": the migration guide's form
NANP_PREFIX = "+1"  # numbers for which the schema's form needs a subscriber and LOA person
SUBSCRIBER_REQUIRED = ("name", "house_number", "street_name", "city", "state_code", "zip")
MAX_VISIBILITY_WINDOW_S = 600.0
_CUSTOMER_ORDER_ID_MAX = 40


class StepKind(StrEnum):
    """What a step does on v2 (and which v1 usage it replaces)."""

    IMPORT = "import"  # v1 externalTns IMPORT / importTnOrders -> importTnOrders/messaging
    REMOVE = "remove"  # v1 externalTns REMOVE / removeImportedTnOrders -> .../messaging
    MESSAGING = "messaging"  # v1 sippeers/{p}/tns messaging toggles -> tnoptions


_KIND_LETTER = {StepKind.IMPORT: "I", StepKind.REMOVE: "R", StepKind.MESSAGING: "M"}


@dataclass(frozen=True, slots=True)
class RateSpec:
    """The account's request budget and polling cadence."""

    requests_per_s: float = 10.0
    max_orders_in_flight: int = 10
    poll_interval_s: float = 2.0
    expected_order_s: float = 10.0  # typical time to a terminal status; for estimates only
    # How long after a POST whose outcome is unknown the engine keeps looking for the order in
    # the order lists (they may show a new order seconds late) before treating it as absent.
    visibility_window_s: float = 30.0


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
    """A number listed twice in one step; the first occurrence is kept."""

    step_index: int
    number: str
    location: str
    first_location: str


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


# ---------------------------------------------------------------------------------------------
# Parsing and validation


def parse_plan(text: str, path: str) -> PlanSpec:
    """Parse and validate plan TOML; raise `PlanError` naming the file and key on any problem.

    The schema lives in `orchestrator.planfile` (it builds this module's dataclasses).
    """
    from orchestrator.planfile import read_plan

    return read_plan(text, path)


def _asdict(value: Subscriber | A2pSettings | None) -> dict[str, Any] | None:
    """A settings dataclass as a plain dict (for hashing and display)."""
    if value is None:
        return None
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


# ---------------------------------------------------------------------------------------------
# Compilation


ReadFile = Callable[[str], bytes]


def compile_plan(
    spec: PlanSpec, read_file: ReadFile, *, require_import_details: bool = True
) -> CompiledPlan:
    """Read, normalise, de-duplicate and batch every step; hash the result.

    `read_file(path)` returns the bytes of a number file named in the plan (the caller resolves
    it relative to the plan file and raises `PlanError` if it cannot be read). Unless
    `require_import_details` is False (convert checks a plan whose subscriber is still to be
    filled in), a +1 import in the schema's form without a subscriber and LOA person is refused.
    """
    invalid: list[InvalidEntry] = []
    duplicates: list[DuplicateEntry] = []
    steps = [_compile_step(spec, step, read_file, invalid, duplicates) for step in spec.steps]
    _refuse_conflicts(spec, steps)
    if require_import_details:
        _refuse_missing_import_details(spec, steps)
    _refuse_international_a2p(spec, steps)
    digest = plan_hash(spec, steps)
    for step in steps:
        step.orders = cut_orders(spec, step, digest)
    return CompiledPlan(spec=spec, hash=digest, steps=steps, invalid=invalid, duplicates=duplicates)


def with_canary(spec: PlanSpec, canary: int) -> PlanSpec:
    """`spec` with every import step's canary set to `canary` (`run --canary N`)."""
    steps = tuple(replace(s, canary=canary) if s.kind is StepKind.IMPORT else s for s in spec.steps)
    return replace(spec, canary=canary, steps=steps)


def _entries(
    spec: PlanSpec, step: StepSpec, read_file: ReadFile
) -> tuple[list[str], list[int], array[int], list[str]]:
    """Collect a step's raw entries: texts, source ids, lines (or inline indexes), labels."""
    raws: list[str] = list(step.inline)
    src: list[int] = [0] * len(raws)
    lines = array("q", range(len(raws)))
    labels = [f"{spec.path}:steps[{step.index}].numbers"]
    for source_id, nf in enumerate(step.files, start=1):
        labels.append(nf.path)
        for raw, line in read_numbers(nf, read_file(nf.path)):
            raws.append(raw)
            src.append(source_id)
            lines.append(line)
    return raws, src, lines, labels


def _location(labels: list[str], source_id: int, line: int) -> str:
    """`file:line` for file entries, `plan.toml:steps[i].numbers[j]` for inline ones."""
    return f"{labels[0]}[{line}]" if source_id == 0 else f"{labels[source_id]}:{line}"


def _compile_step(
    spec: PlanSpec,
    step: StepSpec,
    read_file: ReadFile,
    invalid: list[InvalidEntry],
    duplicates: list[DuplicateEntry],
) -> CompiledStep:
    """Normalise one step's entries; keep the first occurrence of each number."""
    raws, src, lines, labels = _entries(spec, step, read_file)
    results = normalize_numbers(raws, spec.country)
    first_seen: dict[str, int] = {}
    kept: list[int] = []
    numbers: list[str] = []
    invalid_count = duplicate_count = 0
    for i, result in enumerate(results):
        if isinstance(result, InvalidNumber):
            invalid_count += 1
            invalid.append(
                InvalidEntry(
                    step.index,
                    raws[i],
                    _location(labels, src[i], lines[i]),
                    str(result.reason),
                    result.message,
                )
            )
            continue
        first = first_seen.setdefault(result, i)
        if first != i:
            duplicate_count += 1
            duplicates.append(
                DuplicateEntry(
                    step.index,
                    result,
                    _location(labels, src[i], lines[i]),
                    _location(labels, src[first], lines[first]),
                )
            )
            continue
        kept.append(i)
        numbers.append(result)
    return CompiledStep(
        spec=step,
        numbers=numbers,
        raws=[raws[i] for i in kept],
        locations=[_location(labels, src[i], lines[i]) for i in kept],
        orders=[],
        invalid_count=invalid_count,
        duplicate_count=duplicate_count,
    )


def _effects(step: StepSpec) -> frozenset[str]:
    """What a step changes about a number: its hosting, its messaging, or both."""
    if step.kind is StepKind.REMOVE:
        return frozenset({"hosting", "messaging"})
    if step.kind is StepKind.IMPORT:
        return frozenset({"hosting", "messaging"} if step.enable_messaging else {"hosting"})
    return frozenset({"messaging"})


def _why(a: StepSpec, b: StepSpec) -> str:
    """Explain a conflict between two steps."""
    kinds = {a.kind, b.kind}
    if kinds == {StepKind.IMPORT, StepKind.REMOVE}:
        return "a number cannot be imported and removed in one plan"
    if a.kind is b.kind is StepKind.IMPORT:
        return "importing a number twice resets its attributes on Bandwidth"
    if a.messaging_sms and b.messaging_sms and a.messaging_sms != b.messaging_sms:
        return "messaging cannot be turned on and off in one plan"
    return "a number may be changed by one step only"


def _refuse_conflicts(spec: PlanSpec, steps: list[CompiledStep]) -> None:
    """Refuse numbers that two steps would change in contradictory or repeated ways.

    Steps that share numbers without conflicting (an import, then a messaging step for the same
    numbers) are ordered: the later one depends on the earlier one.
    """
    for i, a in enumerate(steps):
        for b in steps[i + 1 :]:
            common = set(a.numbers).intersection(b.numbers)
            if not common:
                continue
            if not _effects(a.spec) & _effects(b.spec):
                b.depends_on = (*b.depends_on, a.spec.index)
                continue
            number = min(common)
            pa, pb = a.numbers.index(number), b.numbers.index(number)
            more = f" ({len(common)} numbers in all)" if len(common) > 1 else ""
            raise PlanError(
                f"{spec.path}: {number} is in step {a.spec.name!r} ({a.locations[pa]}) and step "
                f"{b.spec.name!r} ({b.locations[pb]}){more}: {_why(a.spec, b.spec)}; "
                "keep each number in one of them"
            )


def missing_import_details(
    subscriber: Subscriber | None, loa_authorizing_person: str | None
) -> list[str]:
    """What the `ImportTnOrder` body lacks for +1 numbers: `subscriber` (or the keys it lacks,
    `subscriber.<key>`) and `loa_authorizing_person`."""
    if subscriber is None:
        missing = ["subscriber"]
    else:
        missing = [f"subscriber.{k}" for k in SUBSCRIBER_REQUIRED if not getattr(subscriber, k)]
    if not loa_authorizing_person:
        missing.append("loa_authorizing_person")
    return missing


def _toml_snippet(step: StepSpec, missing: list[str]) -> str:
    """The TOML to add: the subscriber table (values given kept, "..." for the missing ones)
    and/or the LOA person."""
    parts = []
    if any(m.startswith("subscriber") for m in missing):
        given = step.subscriber
        keys = SUBSCRIBER_REQUIRED + (("county",) if given and given.county else ())
        values = [
            f"{k} = {json.dumps(getattr(given, k) if given and getattr(given, k) else '...')}"
            for k in keys
        ]
        parts.append(f"subscriber = {{ {', '.join(values)} }}")
    if "loa_authorizing_person" in missing:
        parts.append('loa_authorizing_person = "..."')
    return " and ".join(parts)


def _refuse_missing_import_details(spec: PlanSpec, steps: list[CompiledStep]) -> None:
    """Refuse an import step in the schema's form with +1 numbers but no subscriber or LOA
    person: the published v2 schema requires them for NANP numbers."""
    for step in steps:
        s = step.spec
        if s.kind is not StepKind.IMPORT or s.body_form != DEFAULT_BODY_FORM:
            continue
        nanp = sum(1 for n in step.numbers if n.startswith(NANP_PREFIX))
        missing = missing_import_details(s.subscriber, s.loa_authorizing_person) if nanp else []
        if missing:
            raise PlanError(
                f"{spec.path}: steps[{s.index}] ({s.name!r}): {nanp} "
                f"{'numbers are' if nanp > 1 else 'number is'} +1 (NANP), for which the "
                f"{DEFAULT_BODY_FORM} body (the published v2 schema's form, sent by "
                f"default) requires what this step lacks: {', '.join(missing)}; add to the step "
                f"or to [import_defaults]: {_toml_snippet(s, missing)}; or send the migration "
                f"guide's {GUIDE_BODY_FORM} form, which has neither: "
                f'body_form = "{GUIDE_BODY_FORM}"'
            )


def _refuse_international_a2p(spec: PlanSpec, steps: list[CompiledStep]) -> None:
    """Refuse A2P settings for numbers outside +1: the published schema's TN option order takes
    `A2pSettings` only for NANP numbers (10DLC is a US scheme)."""
    for step in steps:
        s = step.spec
        if s.a2p is None or s.messaging_sms is None:
            continue
        other = [n for n in step.numbers if not n.startswith(NANP_PREFIX)]
        if other:
            raise PlanError(
                f"{spec.path}: steps[{s.index}] ({s.name!r}): a2p is set, but {len(other)} "
                f"{'numbers are' if len(other) > 1 else 'number is'} not +1 (NANP), e.g. "
                f"{other[0]}; the published v2 schema takes A2P settings (10DLC) only for NANP "
                "numbers: move those numbers to a step without a2p"
            )


def plan_hash(spec: PlanSpec, steps: Sequence[CompiledStep]) -> str:
    """SHA-256 over what would be sent: account, plan name, batch size, step settings (body
    form and canary included), numbers.

    Rate settings (the visibility window included), the failure threshold and the rehearsal
    file do not change what is sent, so a resumed run may change them.
    """
    h = hashlib.sha256()
    header = {
        "v": 2,
        "name": spec.name,
        "account_id": spec.account_id,
        "batch_size": spec.batch_size,
    }
    h.update(json.dumps(header, sort_keys=True).encode())
    for step in steps:
        h.update(b"\x1estep")
        h.update(json.dumps(step.spec.settings(), sort_keys=True).encode())
        h.update("\n".join(step.numbers).encode())
    return h.hexdigest()


def customer_order_id(
    spec: PlanSpec, digest: str, step: StepSpec, order_index: int, *, chained: bool = False
) -> str:
    """The deterministic CustomerOrderId of an order: letters, digits, dashes; at most 40 chars.

    `<plan name, 16 chars>-<hash, 8>-<kind letter><step>-<order>[-M]`, for example
    `acme-cutover-3f9a1c2e-I01-00042`; `-M` marks the TN option order chained to an import, and
    a further `-A` the A2P follow-up of the order that turned SMS on.
    """
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", spec.name).strip("-")[:16].strip("-") or "plan"
    out = f"{slug}-{digest[:8]}-{_KIND_LETTER[step.kind]}{step.index + 1:02d}-{order_index:05d}"
    if chained:
        out = chained_customer_order_id(out)
    assert len(out) <= _CUSTOMER_ORDER_ID_MAX
    return out


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


def canary_size(spec: PlanSpec, step: StepSpec, count: int) -> int:
    """Numbers in an import step's canary order: min(canary, batch size, numbers); 0 = none."""
    if step.kind is not StepKind.IMPORT:
        return 0
    return min(step.canary, spec.batch_size, count)


def cut_orders(spec: PlanSpec, step: CompiledStep, digest: str) -> list[Order]:
    """Cut a step's numbers into orders: the canary order first (import steps), then orders
    of at most `batch_size`."""
    size, count = spec.batch_size, len(step.numbers)
    first = canary_size(spec, step.spec, count)
    starts = ([0] if first else []) + list(range(first, count, size))
    if not starts:
        return []
    ends = [*starts[1:], count]
    return [
        Order(
            step.spec.index,
            n,
            customer_order_id(spec, digest, step.spec, n),
            tuple(step.numbers[start:end]),
        )
        for n, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


# ---------------------------------------------------------------------------------------------
# Estimates for the dry run


@dataclass(frozen=True, slots=True)
class Estimate:
    """API calls and time a plan needs at its configured rate."""

    orders: int  # the plan's own orders, canary orders included
    chained_orders: int  # TN option orders turning SMS on after imports
    api_calls: int
    eta_s: float
    a2p_orders: int = 0  # A2P follow-ups of the orders that turn SMS on


def estimate(plan: CompiledPlan) -> Estimate:
    """Estimate calls (per order: a create, polls until terminal) and time at the plan's rate.

    Time: the calls at the rate, plus one typical order duration for each wave that must wait
    for the one before: the first orders, the rest of an import step after its canary, the
    chained SMS orders, the A2P follow-ups.
    """
    rate = plan.spec.rate
    polls = 1 + (
        math.ceil(rate.expected_order_s / rate.poll_interval_s) if rate.poll_interval_s else 1
    )
    orders = sum(len(s.orders) for s in plan.steps)
    chained = sum(len(s.orders) for s in plan.steps if s.spec.enable_messaging)
    a2p = sum(len(s.orders) for s in plan.steps if asks_a2p(s.spec))
    calls = (orders + chained + a2p) * (1 + polls)
    held = any(
        len(s.orders) > 1 and canary_size(plan.spec, s.spec, len(s.numbers)) for s in plan.steps
    )
    waves = sum(1 for n in (orders, held, chained, a2p) if n)
    eta = calls / rate.requests_per_s + waves * rate.expected_order_s
    return Estimate(
        orders=orders, chained_orders=chained, api_calls=calls, eta_s=eta, a2p_orders=a2p
    )


def iter_compiled_rows(plan: CompiledPlan) -> Iterator[dict[str, Any]]:
    """Every planned number as a row: step, order index, E.164, original text, location."""
    for step in plan.steps:
        i = 0
        for order in step.orders:
            for number in order.numbers:
                yield {
                    "step": step.spec.name,
                    "kind": step.spec.kind.value,
                    "order_index": order.index,
                    "customer_order_id": order.customer_order_id,
                    "e164": number,
                    "input": step.raws[i],
                    "source": step.locations[i],
                }
                i += 1
