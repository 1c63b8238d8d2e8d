"""What each number should be after a run, and how what the API says differs from it.

`expect` walks every step of the state file (each chained step right after the step it follows)
and each number's outcome in it, and keeps, per number and field of
`orchestrator.api.number_state.FIELDS`, the value the run should have left and the step that
set it:

    import succeeded       on_account true, site_id = the step's site, sip_peer_id = its peer
                           (when the plan names one; otherwise the site's default, not checked)
    remove succeeded       on_account false (nothing else is checked: the number is gone)
    SMS on / off succeeded sms true / false ("needs action" too: the SMS change stands)
    A2P succeeded          campaign_id and message_class the step set (action asSpecified;
                           not when it "needs action": the API refused them)
    failed or skipped      the step changed nothing: its fields as the snapshot had them (no
                           snapshot: not checked)
    in order, unknown      not checked (the outcome is not known)

`compare` sets one number's expectations against its state as read: `matches`, or the
drifted fields (expected vs actual). A number expected off the account that is off matches
whatever its other fields; one expected on it that is off drifts on `on_account` alone.

Pure: facts in, verdicts out. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.api.number_state import FIELDS, PAGE_FIELDS, NumberState
from orchestrator.plan import StepKind

_CHANGED = frozenset({"succeeded", "needs_action"})
_UNCHANGED = frozenset({"failed", "skipped"})
_A2P_FIELDS = frozenset({"campaign_id", "message_class"})


@dataclass(frozen=True, slots=True)
class StepEffect:
    """A step as the state file holds it: what it sets when a number succeeds in it."""

    id: int
    name: str
    kind: StepKind
    settings: Mapping[str, Any]
    chained_from: int | None = None


@dataclass(frozen=True, slots=True)
class Expected:
    """One field's value after the run, and the step that set it."""

    value: str | None
    step: str


@dataclass(frozen=True, slots=True)
class Drift:
    """One field of one number that is not what the run left."""

    number: str
    step: str
    field: str
    expected: str | None
    actual: str | None


Expectations = dict[str, dict[str, Expected]]


def _effects(step: StepEffect) -> dict[str, str | None]:
    """The fields a step sets on a number that succeeds in it."""
    s = step.settings
    if step.kind is StepKind.IMPORT:
        out: dict[str, str | None] = {"on_account": "true", "site_id": s.get("site_id")}
        if s.get("sip_peer_id"):
            out["sip_peer_id"] = s["sip_peer_id"]
        return out
    if step.kind is StepKind.REMOVE:
        return {"on_account": "false"}
    if s.get("role") == "a2p":
        a2p = s.get("a2p") or {}
        if (a2p.get("action") or "asSpecified") != "asSpecified":
            return {}
        out = {k: a2p[k] for k in ("campaign_id", "message_class") if a2p.get(k) is not None}
        return {"on_account": "true", **out} if out else {}
    sms = s.get("sms")
    if sms not in ("on", "off"):
        return {}
    return {"on_account": "true", "sms": "true" if sms == "on" else "false"}


def ordered_steps(steps: Sequence[StepEffect]) -> list[StepEffect]:
    """Plan steps in order, each followed by the steps chained to it (and theirs)."""
    children: dict[int, list[StepEffect]] = {}
    for step in steps:
        if step.chained_from is not None:
            children.setdefault(step.chained_from, []).append(step)
    out: list[StepEffect] = []

    def visit(step: StepEffect) -> None:
        out.append(step)
        for child in children.get(step.id, ()):
            visit(child)

    for step in steps:
        if step.chained_from is None:
            visit(step)
    return out


def expect(
    steps: Sequence[StepEffect],
    outcomes: Iterable[tuple[str, str, str]],
    snapshot: Mapping[str, NumberState],
) -> Expectations:
    """Per number, per field: what the run should have left. `outcomes` are (step name,
    number, status) rows of the state file."""
    by_step: dict[str, list[tuple[str, str]]] = {}
    for step_name, number, status in outcomes:
        by_step.setdefault(step_name, []).append((number, status))
    result: Expectations = {}
    for step in ordered_steps(steps):
        effects = _effects(step)
        for number, status in by_step.get(step.name, ()):
            fields = result.setdefault(number, {})
            if status in _CHANGED:
                if effects.get("on_account") == "false":
                    fields.clear()
                for name, value in effects.items():
                    if status == "needs_action" and name in _A2P_FIELDS:
                        continue  # the A2P settings were refused; the SMS change stands
                    fields[name] = Expected(value, step.name)
            elif status in _UNCHANGED and number in snapshot:
                before = snapshot[number]
                for name in effects:
                    if name not in fields and _known(before, name):
                        fields[name] = Expected(before.field(name), step.name)
    return {n: f for n, f in result.items() if f}


def _known(state: NumberState, name: str) -> bool:
    """True when the snapshot read this field (pages know only membership)."""
    return state.detailed or name == "on_account"


def needs_details(fields: Mapping[str, Expected]) -> bool:
    """True when a number's expectations go beyond what the pages cover."""
    if fields.get("on_account", Expected(None, "")).value == "false":
        return False
    return any(name not in PAGE_FIELDS for name in fields)


def compare(number: str, fields: Mapping[str, Expected], actual: NumberState) -> list[Drift]:
    """The drifted fields of one number (empty: it matches), in `FIELDS` order."""
    on = fields.get("on_account")
    if on is not None and on.value != actual.on_account:
        return [Drift(number, on.step, "on_account", on.value, actual.on_account)]
    if actual.on_account == "false":
        return []  # expected off and off; or no on_account expectation and not on the account
    return [
        Drift(number, fields[name].step, name, fields[name].value, actual.field(name))
        for name in FIELDS
        if name in fields and name != "on_account" and fields[name].value != actual.field(name)
    ]
