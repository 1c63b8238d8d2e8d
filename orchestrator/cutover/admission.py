"""Whether a run may start on a state file: the target it belongs to, the plan, the check.

`Cutover.open` asks `admit` before it writes anything to an existing state file, then `adopt`
takes the file over (re-targets it, or drops an earlier plan of which nothing took effect):

- a state file belongs to the target that accepted something from it: once an order was sent
  there (submitting, submitted or done), it resumes only against that target, and a rehearsal
  never against a live account. Until then (every order still planned: the target refused the
  connection, the credentials, or never saw a request) the file may be re-targeted: the
  corrected command takes it over (`Admission.retarget_from`);
- a run started with `--checked FILE` resumes only with that file, one started without only
  without (a changed plan itself is the store's to judge: `Store.discard_plan_without_effect`).

`admit` reads the state file and writes nothing. Must not print or read the environment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.api.credentials import redact_url
from orchestrator.cutover.preflight import CheckedFile
from orchestrator.errors import StateMismatchError
from orchestrator.plan import CompiledPlan
from orchestrator.state.store import OrderState, Store

__all__ = ["Admission", "admit", "adopt"]


@dataclass(frozen=True, slots=True)
class Admission:
    """What opening the state file for this run will change: `retarget_from` names the target
    the file was made for when no order was accepted there (None: same target, or new file)."""

    retarget_from: str | None = None


def admit(
    store: Store,
    plan: CompiledPlan,
    target_id: str,
    source_hash: str,
    checked: CheckedFile | None,
) -> Admission:
    """Refuse a state file tied to another target, or (when only `--checked` differs from how
    the run started) say so more clearly than "the plan changed"."""
    meta = store.meta()
    stored_target = meta.get("target")
    retarget_from = None
    if stored_target is not None and stored_target != target_id:
        sent = sum(n for s, n in store.order_counts().items() if s != OrderState.PLANNED.value)
        if sent:
            raise StateMismatchError(
                f"{store.path}: this state file holds a run against {redact_url(stored_target)} "
                f"({sent} order(s) sent there), not {target_id}; resume it with that target, or "
                "pass another --state file (rehearsals default to state/<plan>.rehearsal.db)"
            )
        retarget_from = stored_target
    _refuse_other_check(store, meta, plan, source_hash, checked)
    return Admission(retarget_from)


def _refuse_other_check(
    store: Store,
    meta: dict[str, str],
    plan: CompiledPlan,
    source_hash: str,
    checked: CheckedFile | None,
) -> None:
    """A run started with (or without) `--checked` resumes only the same way."""
    stored = meta.get("plan_hash")
    if stored is None or stored == plan.hash:
        return
    started_with = meta.get("checked_file")
    if started_with and meta.get("checked_source_hash") == source_hash:
        raise StateMismatchError(
            f"{store.path}: this run started with --checked {started_with}; pass the same "
            "file again to resume it"
            + (" (the file given now records another check)" if checked else "")
        )
    if checked and stored == source_hash:
        raise StateMismatchError(
            f"{store.path}: this run started without --checked; resume it without, or pass "
            "another --state file to run the checked plan as a new migration"
        )


def adopt(
    store: Store,
    plan: CompiledPlan,
    target_id: str,
    admission: Admission,
    note: Callable[[str], None],
) -> None:
    """Take over an admitted state file: re-target one no target accepted anything from, and
    drop an earlier plan of which nothing took effect; say so."""
    if admission.retarget_from is not None:
        store.set_meta("target", target_id)
        note(
            f"{store.path} was made for {redact_url(admission.retarget_from)}, which accepted no "
            f"order: it now holds a run against {target_id}."
        )
    if store.discard_plan_without_effect(plan.hash):
        note(
            "The plan changed since this state file was made, but nothing of the earlier plan "
            "took effect (no number succeeded, no order open): "
            f"{store.path} starts over with the changed plan."
        )
