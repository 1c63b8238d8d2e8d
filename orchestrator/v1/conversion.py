"""v1 intents from every input -> one outcome per number -> plan steps, and what to report.

Inputs are applied in the order given (the reader already put listing orders in date order).
For each number, in that order:

- import and remove set its hosting (the last one wins) and discard any earlier SMS change:
  both reset a number's messaging settings on Bandwidth;
- SMS on/off set its messaging (the last one wins); one after a removal drops the removal
  (the later intent wins).

The outcome is one of: remove; import (grouped by site, SIP peer, LOA type and subscriber),
with SMS on chained to it (`enable_messaging`) or followed by an SMS-off step; SMS on; SMS off.
So no number is in two steps that conflict, and `bwmigrate plan` accepts the result unchanged.
Numbers with more than one event have their history reported: "collapsed" when the events
agree (repeats, an import then SMS on), "contradictory" when a later one overrode an earlier.

Pure: no I/O. Raw numbers are normalised here (`numbers.normalize_numbers`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from orchestrator.plan import StepKind
from orchestrator.plan.numbers import InvalidNumber, normalize_numbers
from orchestrator.v1.intent import (
    Action,
    Entry,
    ImportSettings,
    InputKind,
    Note,
    ReadResult,
    V1Failure,
)

_STEP_NAME_MAX = 64


@dataclass(frozen=True, slots=True)
class Rejected:
    """A number that cannot be planned, with where it came from and why."""

    raw: str
    where: str
    action: Action
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Planned:
    """A number in a step, with the entry that put it there (its provenance)."""

    number: str
    entry: Entry


@dataclass(slots=True)
class StepPlan:
    """One plan step: its kind, its settings and its numbers."""

    name: str
    kind: StepKind
    settings: ImportSettings | None = None
    enable_messaging: bool = False
    sms: str | None = None
    rows: list[Planned] = field(default_factory=list)

    def describe(self) -> str:
        """A one-line description for comments and reports."""
        if self.kind is StepKind.IMPORT:
            assert self.settings is not None
            tail = ", then SMS on" if self.enable_messaging else ""
            return f"import ({self.settings.describe()}){tail}"
        if self.kind is StepKind.REMOVE:
            return "remove imported numbers"
        return f"turn SMS {self.sms}"


@dataclass(frozen=True, slots=True)
class History:
    """A number read more than once: its events, in order, and what came of them."""

    number: str
    events: tuple[Entry, ...]
    outcome: str
    contradictions: tuple[str, ...]

    @property
    def contradictory(self) -> bool:
        """True when a later event overrode a different earlier one."""
        return bool(self.contradictions)


@dataclass(frozen=True, slots=True)
class FailedOnV1:
    """A number v1 reported as failed; `planned` tells whether another input plans it."""

    number: str
    failure: V1Failure
    planned: bool


@dataclass(slots=True)
class SourceCount:
    """Per-input counts for the report."""

    source: str
    kind: InputKind
    documents: int
    by_action: Counter[str]
    failed_on_v1: int
    rejected: int = 0
    notes: int = 0
    planned: int = 0  # entries that won (are the provenance of a planned row)


@dataclass(slots=True)
class Conversion:
    """The whole conversion: steps for the plan, and everything the report lists."""

    steps: list[StepPlan]
    rejected: list[Rejected]
    failed_on_v1: list[FailedOnV1]
    histories: list[History]
    notes: list[Note]
    sources: list[SourceCount]
    skipped_inputs: list[tuple[str, str]]

    @property
    def planned_numbers(self) -> int:
        """Distinct numbers in the plan."""
        return len({p.number for s in self.steps for p in s.rows})

    @property
    def contradictory(self) -> list[History]:
        """Histories where a later intent overrode a different earlier one."""
        return [h for h in self.histories if h.contradictory]

    @property
    def collapsed(self) -> list[History]:
        """Histories whose events agreed (repeats, import then SMS on)."""
        return [h for h in self.histories if not h.contradictory]


def convert(
    results: Sequence[ReadResult],
    country: str,
    skipped_inputs: Sequence[tuple[str, str]] = (),
) -> Conversion:
    """Fold every input's intents into one outcome per number and group them into steps."""
    entries = [e for r in results for e in r.entries]
    normalized = normalize_numbers([e.raw for e in entries], country)
    rejected: list[Rejected] = []
    events: dict[str, list[Entry]] = {}
    rejected_per_source: Counter[str] = Counter()
    for entry, result in zip(entries, normalized, strict=True):
        if isinstance(result, InvalidNumber):
            rejected.append(
                Rejected(
                    entry.raw,
                    entry.origin.where(entry.line),
                    entry.action,
                    str(result.reason),
                    result.message,
                )
            )
            rejected_per_source[entry.origin.source] += 1
            continue
        events.setdefault(result, []).append(entry)
    builder = _StepBuilder()
    histories: list[History] = []
    for number, history in events.items():
        outcome, contradictions = builder.place(number, history)
        if len(history) > 1:
            histories.append(History(number, tuple(history), outcome, tuple(contradictions)))
    failed = _failed_on_v1(results, country, events)
    sources = _source_counts(results, rejected_per_source, builder.winners)
    notes = [n for r in results for n in r.notes]
    return Conversion(
        steps=builder.steps(),
        rejected=rejected,
        failed_on_v1=failed,
        histories=histories,
        notes=notes,
        sources=sources,
        skipped_inputs=list(skipped_inputs),
    )


def _resolve(history: list[Entry]) -> tuple[Entry | None, Entry | None, list[str]]:
    """(hosting entry, messaging entry, contradictions) after applying `history` in order."""
    hosting: Entry | None = None
    messaging: Entry | None = None
    contradictions: list[str] = []
    for e in history:
        at = e.origin.where(e.line)
        if e.action.is_hosting:
            if messaging is not None:
                contradictions.append(
                    f"{e.action} at {at} discards the earlier {messaging.action} "
                    f"({messaging.origin.where(messaging.line)}): it resets messaging settings"
                )
            if hosting is not None and (
                hosting.action is not e.action or hosting.settings != e.settings
            ):
                contradictions.append(
                    f"{e.action} at {at} overrides {_what(hosting)} "
                    f"({hosting.origin.where(hosting.line)})"
                )
            hosting, messaging = e, None
            continue
        if hosting is not None and hosting.action is Action.REMOVE:
            contradictions.append(
                f"{e.action} at {at} comes after the removal at "
                f"{hosting.origin.where(hosting.line)}: the later intent wins, no removal"
            )
            hosting = None
        if messaging is not None and messaging.action is not e.action:
            contradictions.append(
                f"{e.action} at {at} overrides {messaging.action} "
                f"({messaging.origin.where(messaging.line)})"
            )
        messaging = e
    return hosting, messaging, contradictions


def _what(entry: Entry) -> str:
    if entry.action is Action.IMPORT and entry.settings is not None:
        return f"import ({entry.settings.describe()})"
    return str(entry.action)


class _StepBuilder:
    """Places each number's outcome into its step, creating steps on first use."""

    def __init__(self) -> None:
        self.imports: dict[tuple[ImportSettings, bool], StepPlan] = {}
        self.sms_on = StepPlan("sms-on", StepKind.MESSAGING, sms="on")
        self.sms_off = StepPlan("sms-off", StepKind.MESSAGING, sms="off")
        self.remove = StepPlan("remove", StepKind.REMOVE)
        self.winners: set[int] = set()  # id() of entries that became a row's provenance

    def add(self, step: StepPlan, number: str, entry: Entry) -> None:
        step.rows.append(Planned(number, entry))
        self.winners.add(id(entry))

    def place(self, number: str, history: list[Entry]) -> tuple[str, list[str]]:
        """Put `number` in its step(s); return the outcome text and the contradictions."""
        hosting, messaging, contradictions = _resolve(history)
        if hosting is not None and hosting.action is Action.REMOVE:
            self.add(self.remove, number, hosting)
            return "remove", contradictions
        if hosting is not None:
            assert hosting.settings is not None
            enable = messaging is not None and messaging.action is Action.SMS_ON
            key = (hosting.settings, enable)
            step = self.imports.get(key)
            if step is None:
                step = StepPlan(
                    "", StepKind.IMPORT, hosting.settings, enable, "on" if enable else None
                )
                self.imports[key] = step
            self.add(step, number, hosting)
            if messaging is not None and not enable:
                self.add(self.sms_off, number, messaging)
            return step.describe() + (
                ", then SMS off" if messaging and not enable else ""
            ), contradictions
        assert messaging is not None
        self.add(
            self.sms_on if messaging.action is Action.SMS_ON else self.sms_off, number, messaging
        )
        return f"turn SMS {'on' if messaging.action is Action.SMS_ON else 'off'}", contradictions

    def steps(self) -> list[StepPlan]:
        """Imports (by site, SIP peer, LOA type), then SMS on, SMS off, remove; empty ones
        dropped; import steps named after their settings."""
        imports = sorted(
            self.imports.values(),
            key=lambda s: (
                int(s.settings.site_id) if s.settings else 0,
                int(s.settings.sip_peer_id or 0) if s.settings else 0,
                s.settings.loa_type if s.settings else "",
                s.enable_messaging,
            ),
        )
        used: Counter[str] = Counter()
        for step in imports:
            assert step.settings is not None
            st = step.settings
            base = (
                f"import-site{st.site_id}-peer{st.sip_peer_id or 'default'}-{st.loa_type.lower()}"
            )
            if step.enable_messaging:
                base += "-sms-on"
            base = base[: _STEP_NAME_MAX - 4]
            used[base] += 1
            step.name = base if used[base] == 1 else f"{base}-{used[base]}"
        return [s for s in (*imports, self.sms_on, self.sms_off, self.remove) if s.rows]


def _failed_on_v1(
    results: Sequence[ReadResult], country: str, events: dict[str, list[Entry]]
) -> list[FailedOnV1]:
    failures = [f for r in results for f in r.failures]
    normalized = normalize_numbers([f.raw for f in failures], country)
    out = []
    for failure, result in zip(failures, normalized, strict=True):
        number = failure.raw if isinstance(result, InvalidNumber) else result
        out.append(FailedOnV1(number, failure, planned=number in events))
    return out


def _source_counts(
    results: Sequence[ReadResult], rejected: Counter[str], winners: set[int]
) -> list[SourceCount]:
    out = []
    for r in results:
        count = SourceCount(
            source=r.source,
            kind=r.kind,
            documents=r.documents,
            by_action=Counter(str(e.action) for e in r.entries),
            failed_on_v1=len(r.failures),
            rejected=rejected.get(r.source, 0),
            notes=len(r.notes),
            planned=sum(1 for e in r.entries if id(e) in winners),
        )
        out.append(count)
    return out
