"""The migration plan: TOML -> validated `PlanSpec`; `PlanSpec` + number files -> `CompiledPlan`.

A plan names the migration, the account, the default country, the batch size and rate settings,
and lists steps (`import`, `remove`, `messaging`), each with numbers inline and/or from files.
Compiling normalises every number, reports invalid ones with their location, drops duplicates
within a step, refuses contradictions across steps, cuts each step into orders and gives every
order a deterministic `CustomerOrderId` derived from the plan hash, so a crashed run can find its
orders again. The hash covers everything that changes what would be sent, and nothing else.

Pure: number files come in through a `read_file` callable the caller supplies (the CLI opens
files). No I/O, no clock, no environment. Credentials are never part of a plan.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from orchestrator.errors import InputError, PlanError
from orchestrator.numbers import (
    DEFAULT_COUNTRY_A3,
    InvalidNumber,
    normalize_numbers,
    region_for_a3,
)
from orchestrator.source import NumberFile, read_numbers
from orchestrator.xml import A2pSettings, Subscriber

MAX_BATCH_SIZE = 5000  # documented cap of the sibling endpoints (error 5095)
DEFAULT_BATCH_SIZE = 1000
_CUSTOMER_ORDER_ID_MAX = 40
_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential", re.IGNORECASE)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_A2P_ACTIONS = ("asSpecified", "off", "unchanged", "systemDefault", "delete")


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
    """Parse and validate plan TOML; raise `PlanError` naming the file and key on any problem."""
    try:
        doc = tomllib.loads(text.lstrip("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{path}: invalid TOML: {exc}; fix the syntax and run again") from exc
    return _Validator(path).plan(doc)


class _Validator:
    """Turns the TOML document into a `PlanSpec`, with precise error locations."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> PlanError:
        """Build the one-line error for key `where`."""
        loc = f"{self.path}: {where}" if where else self.path
        return PlanError(f"{loc}: {message}")

    def check_keys(self, table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
        """Refuse secrets and unknown keys, suggesting the closest known key."""
        for key in table:
            if _SECRET_KEYS.search(key):
                raise self.fail(
                    f"{where}{key}",
                    "credentials never go in a plan; remove it and set BWMIGRATE_* environment "
                    "variables instead (see README)",
                )
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"known keys: {', '.join(allowed)}"
                raise self.fail(f"{where}{key}", f"unknown key; {hint}")

    def text(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        *,
        required: bool = False,
        digits: bool = False,
    ) -> str | None:
        """Read a string (or integer id) value."""
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}{key}", "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(f"{where}{key}", f"must be a string, not {type(value).__name__}")
        out = str(value).strip()
        if not out:
            raise self.fail(f"{where}{key}", "must not be empty")
        if digits and not out.isdigit():
            raise self.fail(f"{where}{key}", f"must be digits, got {out!r}")
        return out

    def number(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        default: float,
        lo: float,
        hi: float,
        *,
        integer: bool = False,
    ) -> float:
        """Read a bounded number."""
        value = table.get(key, default)
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            kind = "an integer" if integer else "a number"
            raise self.fail(f"{where}{key}", f"must be {kind}, not {value!r}")
        if not lo <= value <= hi or math.isnan(value):
            raise self.fail(f"{where}{key}", f"must be between {lo:g} and {hi:g}, got {value!r}")
        return float(value)

    def plan(self, doc: Mapping[str, Any]) -> PlanSpec:
        """Validate the top level."""
        self.check_keys(
            doc,
            (
                "name",
                "account_id",
                "country",
                "batch_size",
                "rate",
                "failure_threshold",
                "rehearsal",
                "steps",
            ),
            "",
        )
        name = self.text(doc, "name", "", required=True) or ""
        if not _NAME_RE.match(name):
            raise self.fail("name", f"{name!r} must be 1-64 letters, digits, '-', '_' or '.'")
        country = (self.text(doc, "country", "") or DEFAULT_COUNTRY_A3).upper()
        try:
            region_for_a3(country)
        except InputError as exc:
            raise self.fail("country", str(exc)) from exc
        steps_doc = doc.get("steps")
        if not isinstance(steps_doc, list) or not steps_doc:
            raise self.fail(
                "steps", "add at least one [[steps]] table (import, remove or messaging)"
            )
        steps = tuple(self.step(i, s) for i, s in enumerate(steps_doc))
        seen: set[str] = set()
        for s in steps:
            if s.name in seen:
                raise self.fail(f"steps[{s.index}].name", f"{s.name!r} is used by two steps")
            seen.add(s.name)
        return PlanSpec(
            path=self.path,
            name=name,
            account_id=self.text(doc, "account_id", "", required=True, digits=True) or "",
            country=country,
            batch_size=int(
                self.number(
                    doc, "batch_size", "", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE, integer=True
                )
            ),
            rate=self.rate(doc.get("rate", {})),
            failure_threshold=self.threshold(doc.get("failure_threshold", {})),
            rehearsal=self.text(doc, "rehearsal", ""),
            steps=steps,
        )

    def table(self, value: Any, where: str) -> Mapping[str, Any]:
        """Require a TOML table."""
        if not isinstance(value, dict):
            raise self.fail(where, "must be a table")
        return value

    def rate(self, value: Any) -> RateSpec:
        """Validate [rate]."""
        t = self.table(value, "rate")
        self.check_keys(
            t,
            ("requests_per_s", "max_orders_in_flight", "poll_interval_s", "expected_order_s"),
            "rate.",
        )
        d = RateSpec()
        return RateSpec(
            requests_per_s=self.number(t, "requests_per_s", "rate.", d.requests_per_s, 0.01, 1000),
            max_orders_in_flight=int(
                self.number(
                    t,
                    "max_orders_in_flight",
                    "rate.",
                    d.max_orders_in_flight,
                    1,
                    1000,
                    integer=True,
                )
            ),
            poll_interval_s=self.number(
                t, "poll_interval_s", "rate.", d.poll_interval_s, 0.01, 3600
            ),
            expected_order_s=self.number(
                t, "expected_order_s", "rate.", d.expected_order_s, 0, 86400
            ),
        )

    def threshold(self, value: Any) -> FailureThreshold:
        """Validate [failure_threshold]."""
        t = self.table(value, "failure_threshold")
        self.check_keys(t, ("max_failed_percent", "min_finished"), "failure_threshold.")
        d = FailureThreshold()
        return FailureThreshold(
            max_failed_percent=self.number(
                t, "max_failed_percent", "failure_threshold.", d.max_failed_percent, 0, 100
            ),
            min_finished=int(
                self.number(
                    t, "min_finished", "failure_threshold.", d.min_finished, 0, 10**9, integer=True
                )
            ),
        )

    def step(self, index: int, value: Any) -> StepSpec:
        """Validate one [[steps]] table."""
        where = f"steps[{index}]."
        t = self.table(value, f"steps[{index}]")
        kind_text = self.text(t, "kind", where, required=True) or ""
        try:
            kind = StepKind(kind_text.lower())
        except ValueError:
            raise self.fail(
                f"{where}kind", f"{kind_text!r} is not one of import, remove, messaging"
            ) from None
        common = ("kind", "name", "numbers", "files")
        allowed = {
            StepKind.IMPORT: (
                *common,
                "site_id",
                "sip_peer_id",
                "loa_type",
                "subscriber",
                "loa_authorizing_person",
                "enable_messaging",
                "a2p",
            ),
            StepKind.REMOVE: common,
            StepKind.MESSAGING: (*common, "sms", "a2p"),
        }[kind]
        self.check_keys(t, allowed, where)
        name = self.text(t, "name", where) or f"{kind.value}-{index + 1}"
        if not _NAME_RE.match(name):
            raise self.fail(f"{where}name", f"{name!r} must be 1-64 letters, digits, '-', '_', '.'")
        inline = self.inline_numbers(t.get("numbers", []), where)
        files = self.files(t.get("files", []), where)
        if not inline and not files:
            raise self.fail(
                f"steps[{index}]", "has no numbers: add `numbers = [...]` or `files = [...]`"
            )
        base = StepSpec(index=index, name=name, kind=kind, inline=inline, files=files)
        if kind is StepKind.IMPORT:
            return self.import_step(base, t, where)
        if kind is StepKind.MESSAGING:
            sms = (self.text(t, "sms", where, required=True) or "").lower()
            if sms not in ("on", "off"):
                raise self.fail(f"{where}sms", f'must be "on" or "off", got {sms!r}')
            return _replace(base, sms=sms, a2p=self.a2p(t.get("a2p"), sms, where))
        return base

    def import_step(self, base: StepSpec, t: Mapping[str, Any], where: str) -> StepSpec:
        """Validate the settings of an import step."""
        loa = (self.text(t, "loa_type", where) or "CARRIER").upper()
        if loa not in ("CARRIER", "SUBSCRIBER"):
            raise self.fail(f"{where}loa_type", f"must be CARRIER or SUBSCRIBER, got {loa!r}")
        enable = t.get("enable_messaging", False)
        if not isinstance(enable, bool):
            raise self.fail(f"{where}enable_messaging", "must be true or false")
        if "a2p" in t and not enable:
            raise self.fail(f"{where}a2p", "A2P settings need `enable_messaging = true`")
        return _replace(
            base,
            site_id=self.text(t, "site_id", where, required=True, digits=True),
            sip_peer_id=self.text(t, "sip_peer_id", where, digits=True),
            loa_type=loa,
            subscriber=self.subscriber(t.get("subscriber"), where),
            loa_authorizing_person=self.text(t, "loa_authorizing_person", where),
            enable_messaging=enable,
            sms="on" if enable else None,
            a2p=self.a2p(t.get("a2p"), "on", where) if enable else None,
        )

    def subscriber(self, value: Any, where: str) -> Subscriber | None:
        """Validate an optional subscriber table (the `ImportTnOrder` body form)."""
        if value is None:
            return None
        w = f"{where}subscriber."
        t = self.table(value, w[:-1])
        keys = ("name", "house_number", "street_name", "city", "state_code", "zip", "county")
        self.check_keys(t, keys, w)
        name = self.text(t, "name", w, required=True) or ""
        if len(name) > 45:
            raise self.fail(f"{w}name", "is longer than 45 characters (API error 25131)")
        return Subscriber(name=name, **{k: self.text(t, k, w) for k in keys[1:]})

    def a2p(self, value: Any, sms: str, where: str) -> A2pSettings | None:
        """Validate optional A2P settings."""
        if value is None:
            return None
        w = f"{where}a2p."
        t = self.table(value, w[:-1])
        self.check_keys(t, ("message_class", "campaign_id", "action"), w)
        action = self.text(t, "action", w) or "asSpecified"
        if action not in _A2P_ACTIONS:
            raise self.fail(f"{w}action", f"must be one of {', '.join(_A2P_ACTIONS)}")
        klass, campaign = self.text(t, "message_class", w), self.text(t, "campaign_id", w)
        for key, val in (("message_class", klass), ("campaign_id", campaign)):
            if val is not None and len(val) > 64:
                raise self.fail(f"{w}{key}", "must be 1-64 characters")
        if action == "asSpecified" and not (klass or campaign):
            raise self.fail(w[:-1], "action asSpecified needs message_class and/or campaign_id")
        if action == "off" and (klass or campaign):
            raise self.fail(w[:-1], "action off takes no message_class or campaign_id")
        if sms == "off" and action == "asSpecified":
            raise self.fail(w[:-1], 'A2P settings need sms = "on" (API error 5132)')
        return A2pSettings(message_class=klass, campaign_id=campaign, action=action)

    def inline_numbers(self, value: Any, where: str) -> tuple[str, ...]:
        """Validate `numbers = [...]`: strings (or integers), never floats."""
        if not isinstance(value, list):
            raise self.fail(f"{where}numbers", "must be a list of strings")
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, int) and not isinstance(item, bool):
                out.append(str(item))
            else:
                raise self.fail(
                    f"{where}numbers[{i}]",
                    f'{item!r} must be a quoted string (e.g. "+19195551234")',
                )
        return tuple(out)

    def files(self, value: Any, where: str) -> tuple[NumberFile, ...]:
        """Validate `files = [...]`: paths, or tables {path, column, header}."""
        if not isinstance(value, list):
            raise self.fail(f"{where}files", "must be a list of paths or {path, column} tables")
        out = []
        for i, item in enumerate(value):
            w = f"{where}files[{i}]"
            if isinstance(item, str) and item.strip():
                out.append(NumberFile(path=item.strip()))
                continue
            t = self.table(item, w)
            self.check_keys(t, ("path", "column", "header"), f"{w}.")
            path = self.text(t, "path", f"{w}.", required=True) or ""
            column = t.get("column")
            if column is not None and (
                isinstance(column, bool)
                or not isinstance(column, str | int)
                or (isinstance(column, int) and column < 1)
            ):
                raise self.fail(f"{w}.column", "must be a header name or a 1-based column number")
            header = t.get("header")
            if header is not None and not isinstance(header, bool):
                raise self.fail(f"{w}.header", "must be true or false")
            out.append(NumberFile(path=path, column=column, header=header))
        return tuple(out)


def _replace(step: StepSpec, **changes: Any) -> StepSpec:
    """dataclasses.replace for the slotted StepSpec."""
    from dataclasses import replace

    return replace(step, **changes)


def _asdict(value: Subscriber | A2pSettings | None) -> dict[str, Any] | None:
    """A settings dataclass as a plain dict (for hashing and display)."""
    if value is None:
        return None
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


# ---------------------------------------------------------------------------------------------
# Compilation


ReadFile = Callable[[str], bytes]


def compile_plan(spec: PlanSpec, read_file: ReadFile) -> CompiledPlan:
    """Read, normalise, de-duplicate and batch every step; hash the result.

    `read_file(path)` returns the bytes of a number file named in the plan (the caller resolves
    it relative to the plan file and raises `PlanError` if it cannot be read).
    """
    invalid: list[InvalidEntry] = []
    duplicates: list[DuplicateEntry] = []
    steps = [_compile_step(spec, step, read_file, invalid, duplicates) for step in spec.steps]
    _refuse_conflicts(spec, steps)
    digest = plan_hash(spec, steps)
    for step in steps:
        step.orders = _cut_orders(spec, step, digest)
    return CompiledPlan(spec=spec, hash=digest, steps=steps, invalid=invalid, duplicates=duplicates)


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


def plan_hash(spec: PlanSpec, steps: Sequence[CompiledStep]) -> str:
    """SHA-256 over what would be sent: account, plan name, batch size, step settings, numbers.

    Rate settings, the failure threshold and the rehearsal file do not change what is sent, so a
    resumed run may change them.
    """
    h = hashlib.sha256()
    header = {
        "v": 1,
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
    `acme-cutover-3f9a1c2e-I01-00042`; `-M` marks the TN option order chained to an import.
    """
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", spec.name).strip("-")[:16].strip("-") or "plan"
    out = f"{slug}-{digest[:8]}-{_KIND_LETTER[step.kind]}{step.index + 1:02d}-{order_index:05d}"
    if chained:
        out += "-M"
    assert len(out) <= _CUSTOMER_ORDER_ID_MAX
    return out


def _cut_orders(spec: PlanSpec, step: CompiledStep, digest: str) -> list[Order]:
    """Cut a step's numbers into orders of at most `batch_size`."""
    size = spec.batch_size
    return [
        Order(
            step.spec.index,
            n,
            customer_order_id(spec, digest, step.spec, n),
            tuple(step.numbers[start : start + size]),
        )
        for n, start in enumerate(range(0, len(step.numbers), size))
    ]


# ---------------------------------------------------------------------------------------------
# Estimates for the dry run


@dataclass(frozen=True, slots=True)
class Estimate:
    """API calls and time a plan needs at its configured rate."""

    orders: int
    chained_orders: int
    api_calls: int
    eta_s: float


def estimate(plan: CompiledPlan) -> Estimate:
    """Estimate calls (per order: a create, polls until terminal) and time at the plan's rate."""
    rate = plan.spec.rate
    polls = 1 + (
        math.ceil(rate.expected_order_s / rate.poll_interval_s) if rate.poll_interval_s else 1
    )
    orders = sum(len(s.orders) for s in plan.steps)
    chained = sum(len(s.orders) for s in plan.steps if s.spec.enable_messaging)
    calls = (orders + chained) * (1 + polls)
    eta = calls / rate.requests_per_s + (rate.expected_order_s if orders else 0.0)
    if chained:
        eta += rate.expected_order_s
    return Estimate(orders=orders, chained_orders=chained, api_calls=calls, eta_s=eta)


def iter_compiled_rows(plan: CompiledPlan) -> Iterator[dict[str, Any]]:
    """Every planned number as a row: step, order index, E.164, original text, location."""
    size = plan.spec.batch_size
    for step in plan.steps:
        for i, number in enumerate(step.numbers):
            yield {
                "step": step.spec.name,
                "kind": step.spec.kind.value,
                "order_index": i // size,
                "customer_order_id": step.orders[i // size].customer_order_id,
                "e164": number,
                "input": step.raws[i],
                "source": step.locations[i],
            }
