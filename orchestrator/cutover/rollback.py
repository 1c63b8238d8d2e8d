"""The rollback plan: what a run changed (as its state file records it) -> a plan that undoes it.

Undoing is itself a plan, so it is dry-run, rehearsed, rate-limited, resumable and reported like
any other. Only numbers whose change *succeeded* are undone; per number, the net effect wins:

    imported by the run                       -> removed (a removal restores the number to its
                                                 pre-import state, messaging included)
    removed by the run                        -> imported again, when the operator says where
                                                 (site, SIP peer); otherwise listed as not undone
    SMS turned on by a messaging step         -> SMS off
    SMS turned off by a messaging step        -> SMS on
    SMS "turned on" that was already on       -> left alone (the API's warning says so: the run
    (the API's "already enabled" warning)        did not change it)

The chained TN option orders of an import (SMS on, then its A2P settings) need no step of their
own: removing the number undoes them. With a snapshot (`build_rollback(snapshot=...)`, taken
before the run's first order) numbers go back to what the snapshot shows instead, where it
knows more than the run's inverse (`orchestrator.cutover.restore`: a removed number re-imported
into its previous site and SIP peer with its SMS setting; a re-imported one likewise; SMS and
A2P campaign as they were). Without one, what the state file cannot know is not guessed: a removed
number's messaging settings and campaign, an SMS-off number's campaign, the campaign a number had
before the run's A2P settings, whether an imported number had been imported on this account
before the run (re-importing resets its attributes; removing it then is not a restore), and who
the subscriber and LOA person of a re-import are (the plan gets a commented `[import_defaults]`
to fill in).

Pure: facts in, TOML text and number-file contents out. No I/O, no clock, no environment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestrator.cutover.restore import Restores, plan_restores
from orchestrator.plan import PlanSpec, StepKind
from orchestrator.plan.planfile import import_defaults_template
from orchestrator.text import counted, printable

if TYPE_CHECKING:  # a type only: lxml loads with the commands that read numbers back
    from orchestrator.api.number_state import NumberState

_ALREADY = re.compile(r"already\s+(enabled|disabled)", re.IGNORECASE)
_NAME_MAX = 64


@dataclass(frozen=True, slots=True)
class StepFact:
    """A step of the run as its state file holds it."""

    name: str
    kind: StepKind
    sms: str | None = None  # "on" | "off" for messaging steps
    chained_from: str | None = None  # the step a chained TN option step follows
    role: str | None = None  # chained steps: "sms" (SMS on after an import) or "a2p"


@dataclass(frozen=True, slots=True)
class ChangedNumber:
    """A number whose change succeeded in a step, with the API's warning note, if any."""

    step: str
    number: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Reimport:
    """Where numbers the run removed go back to (the state file does not know)."""

    site_id: str
    sip_peer_id: str | None = None
    loa_type: str = "CARRIER"
    enable_messaging: bool = False


@dataclass(frozen=True, slots=True)
class RollbackSource:
    """The run being undone."""

    spec: PlanSpec
    plan_hash: str
    state_path: str
    target: str | None


@dataclass(slots=True)
class RollbackStep:
    """One step of the rollback plan and the numbers it sends."""

    name: str
    kind: StepKind
    numbers: list[str]
    undoes: list[str]  # the original steps whose changes it reverses
    file: str
    sms: str | None = None
    # restored from a snapshot (`orchestrator.cutover.restore`): the previous settings
    site_id: str | None = None
    sip_peer_id: str | None = None
    enable_messaging: bool = False
    campaign_id: str | None = None
    message_class: str | None = None


@dataclass(slots=True)
class RollbackPlan:
    """The plan text, its number files (name -> contents), its steps, and what is not undone."""

    name: str
    text: str
    files: dict[str, str]
    steps: list[RollbackStep]
    not_undone: list[str] = field(default_factory=list)

    @property
    def numbers(self) -> int:
        """Numbers the rollback changes."""
        return sum(len(s.numbers) for s in self.steps)


@dataclass(slots=True)
class _Net:
    """Per-number effects collected from the run, first step first."""

    imported: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    sms_on: dict[str, str] = field(default_factory=dict)
    sms_off: dict[str, str] = field(default_factory=dict)
    a2p: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0


def _collect(steps: Sequence[StepFact], changed: Iterable[ChangedNumber]) -> _Net:
    """Sort succeeded numbers by what their step did to them."""
    by_name = {s.name: s for s in steps}
    net = _Net()
    for row in changed:
        step = by_name.get(row.step)
        if step is not None and step.role == "a2p":
            net.a2p.setdefault(row.number, step.name)
        if step is None or step.chained_from is not None:
            continue  # a chained SMS-on order is undone by removing the imported number
        if step.kind is StepKind.IMPORT:
            net.imported.setdefault(row.number, step.name)
        elif step.kind is StepKind.REMOVE:
            net.removed.setdefault(row.number, step.name)
        elif row.note and _ALREADY.search(row.note):
            net.unchanged += 1
        elif step.sms == "on":
            net.sms_on.setdefault(row.number, step.name)
        elif step.sms == "off":
            net.sms_off.setdefault(row.number, step.name)
    return net


def rollback_name(plan_name: str) -> str:
    """`<plan name>-rollback`, within the 64 characters a plan name may have."""
    suffix = "-rollback"
    return plan_name[: _NAME_MAX - len(suffix)] + suffix


def build_rollback(
    source: RollbackSource,
    steps: Sequence[StepFact],
    changed: Iterable[ChangedNumber],
    *,
    file_stem: str,
    written_at: str,
    reimport: Reimport | None = None,
    snapshot: Mapping[str, NumberState] | None = None,
) -> RollbackPlan:
    """The rollback plan of a run. Number files are named `<file_stem>.<step>.txt`."""
    net = _collect(steps, changed)
    restores = _take_restores(net, snapshot or {}, explicit_site=reimport is not None)
    hosting = net.imported.keys() | net.removed.keys()
    plan = RollbackPlan(rollback_name(source.spec.name), "", {}, [])

    def add(name: str, kind: StepKind, found: dict[str, str], sms: str | None = None) -> None:
        hosting_step = kind in (StepKind.REMOVE, StepKind.IMPORT)
        numbers = [n for n in found if hosting_step or n not in hosting]
        if numbers:
            undoes = sorted(set(found[n] for n in numbers))
            file = f"{file_stem}.{name}.txt"
            plan.steps.append(RollbackStep(name, kind, numbers, undoes, file, sms))

    add("undo-imports", StepKind.REMOVE, net.imported)
    add("undo-sms-on", StepKind.MESSAGING, net.sms_on, "off")
    add("undo-sms-off", StepKind.MESSAGING, net.sms_off, "on")
    if net.removed and reimport is not None:
        add("undo-removals", StepKind.IMPORT, net.removed)
    elif net.removed:
        plan.not_undone.append(
            f"{counted(len(net.removed), 'number')} removed by the run not re-imported: the "
            "state file does not know their site (give --site-id to re-import them)"
        )
    plan.not_undone.extend(_not_undone(net, reimport))
    _add_restores(plan, restores, file_stem, bool(snapshot))
    for step in plan.steps:
        plan.files[step.file] = _number_file(step, source)
    plan.text = _render(plan, source, written_at, reimport)
    return plan


def _not_undone(net: _Net, reimport: Reimport | None) -> list[str]:
    """What the plain rollback leaves as it is, and why."""
    notes: list[str] = []
    if net.unchanged:
        notes.append(
            f"{counted(net.unchanged, 'number')} the run asked to change already had that SMS "
            "setting (the API said so); left as they are"
        )
    if net.sms_off:
        notes.append(
            "SMS turned back on does not restore a 10DLC campaign the numbers had: the state "
            "file does not record it"
        )
    if net.removed and reimport is not None:
        notes.append(
            "re-imported numbers get the site and SIP peer given here; their earlier messaging "
            "settings and campaign are not recorded in the state file"
        )
    kept_a2p = [n for n in net.a2p if n not in net.imported]
    if kept_a2p:
        notes.append(
            f"A2P settings the run sent for {len(kept_a2p)} "
            f"{'numbers' if len(kept_a2p) > 1 else 'number'} it did not import (steps "
            f"{', '.join(sorted(set(net.a2p[n] for n in kept_a2p)))}) are not undone: the state "
            "file does not record the campaign they had before"
        )
    return notes


def _take_restores(
    net: _Net, snapshot: Mapping[str, NumberState], *, explicit_site: bool
) -> Restores:
    """The snapshot's restore steps; the numbers they handle leave the plain rollback. A site
    the operator names (`--site-id`) wins over the snapshot's for the numbers the run removed."""
    restores = plan_restores(
        imported=net.imported,
        removed={} if explicit_site else net.removed,
        sms_changed={**net.sms_on, **net.sms_off},
        a2p_changed=net.a2p,
        snapshot=snapshot,
    )
    for found in (net.imported, net.removed, net.sms_on, net.sms_off, net.a2p):
        for number in restores.handled & found.keys():
            del found[number]
    return restores


def _add_restores(plan: RollbackPlan, restores: Restores, file_stem: str, snapshot: bool) -> None:
    """The restore steps after the plain ones, and what the snapshot could not restore."""
    for r in restores.steps:
        step = RollbackStep(r.name, r.kind, r.numbers, r.undoes, f"{file_stem}.{r.name}.txt", r.sms)
        step.site_id, step.sip_peer_id = r.site_id, r.sip_peer_id
        step.enable_messaging = r.enable_messaging
        step.campaign_id, step.message_class = r.campaign_id, r.message_class
        plan.steps.append(step)
    plan.not_undone.extend(restores.notes)
    if not snapshot and plan.not_undone:
        plan.not_undone.append(
            "the state file has no snapshot (a run takes one before its first order; "
            "`bwmigrate snapshot`), so previous settings are not known"
        )


def _number_file(step: RollbackStep, source: RollbackSource) -> str:
    """One E.164 number per line, after a comment saying where they come from."""
    head = (
        f"# {step.name}: {counted(len(step.numbers), 'number')} changed by "
        f"{'step' if len(step.undoes) == 1 else 'steps'} {', '.join(step.undoes)} of plan "
        f"{source.spec.name} "
        f"(state {printable(source.state_path)})\n"
    )
    return head + "\n".join(step.numbers) + "\n"


def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are a subset of TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def _describe(step: RollbackStep) -> str:
    what = {
        StepKind.REMOVE: "remove",
        StepKind.IMPORT: "import again"
        + (f" into site {step.site_id} (as before the run)" if step.site_id else ""),
        StepKind.MESSAGING: f"SMS {step.sms}"
        + (f" with campaign {step.campaign_id}" if step.campaign_id else ""),
    }[step.kind]
    return (
        f"{step.name}: {what} {counted(len(step.numbers), 'number')} "
        f"(undoes {', '.join(step.undoes)})"
    )


def _render(
    plan: RollbackPlan, source: RollbackSource, written_at: str, reimport: Reimport | None
) -> str:
    """The plan file."""
    spec = source.spec
    lines = [
        f"# Rollback of plan {spec.name!r} (hash {source.plan_hash[:12]}) as recorded in",
        f"# {printable(source.state_path)}"
        + (f" (run against {printable(source.target)})" if source.target else "")
        + f"; written {written_at}.",
        "# It undoes what that run changed:",
        *(f"#   {_describe(s)}" for s in plan.steps),
    ]
    if plan.not_undone:
        lines.append("# Not undone:")
        lines.extend(f"#   {printable(note)}" for note in plan.not_undone)
    lines += [
        "# Review it with `bwmigrate plan`, rehearse it with `bwmigrate run --sandbox`, then run",
        "# it like any plan (it has its own state file and is resumable).",
        "",
        f"name = {_q(plan.name)}",
        f"account_id = {_q(spec.account_id)}",
        f"country = {_q(spec.country)}",
        f"batch_size = {spec.batch_size}",
        f"canary = {spec.canary}",
        "",
        "[rate]",
        f"requests_per_s = {spec.rate.requests_per_s!r}",
        f"max_orders_in_flight = {spec.rate.max_orders_in_flight}",
        f"poll_interval_s = {spec.rate.poll_interval_s!r}",
        f"expected_order_s = {spec.rate.expected_order_s!r}",
        f"visibility_window_s = {spec.rate.visibility_window_s!r}",
        "",
        "[failure_threshold]",
        f"max_failed_percent = {spec.failure_threshold.max_failed_percent!r}",
        f"min_finished = {spec.failure_threshold.min_finished}",
    ]
    if any(step.kind is StepKind.IMPORT for step in plan.steps):
        lines += ["", *import_defaults_template("the state file does not record them")]
    for step in plan.steps:
        lines += ["", "[[steps]]", f"kind = {_q(step.kind.value)}", f"name = {_q(step.name)}"]
        lines += _step_lines(step, reimport)
        lines.append(f"files = [{_q(step.file)}]")
    return "\n".join(lines) + "\n"


def _step_lines(step: RollbackStep, reimport: Reimport | None) -> list[str]:
    """A step's settings: SMS (and a restored A2P campaign), or where a re-import goes."""
    lines: list[str] = []
    if step.kind is StepKind.MESSAGING:
        lines.append(f"sms = {_q(step.sms or '')}")
        a2p = {"campaign_id": step.campaign_id, "message_class": step.message_class}
        given = ", ".join(f"{k} = {_q(v)}" for k, v in a2p.items() if v)
        if given:
            lines.append(f"a2p = {{ {given} }}")
    if step.kind is StepKind.IMPORT and step.site_id is not None:
        reimport = Reimport(step.site_id, step.sip_peer_id, "CARRIER", step.enable_messaging)
    if step.kind is StepKind.IMPORT and reimport is not None:
        lines.append(f"site_id = {_q(reimport.site_id)}")
        if reimport.sip_peer_id:
            lines.append(f"sip_peer_id = {_q(reimport.sip_peer_id)}")
        lines.append(f"loa_type = {_q(reimport.loa_type)}")
        lines.append(f"enable_messaging = {str(reimport.enable_messaging).lower()}")
    return lines
