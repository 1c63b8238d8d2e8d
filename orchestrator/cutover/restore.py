"""Rollback with a snapshot: the steps that put changed numbers back as the snapshot shows them
(`orchestrator.cutover.snapshot`), where the plain rollback can only invert the run.

Per number the run changed, when the snapshot read it (tndetails):

    removed by the run, hosted here before         imported again into its previous site and
                                                   SIP peer, with SMS on if it was on
    imported by the run, hosted here before        the same (re-importing resets a number's
    (a re-import)                                  attributes: removing it would not restore it)
    SMS changed by a messaging step                SMS set as it was; on with its previous A2P
                                                   campaign and message class when it had one
    A2P changed on a number not imported           its previous campaign and message class
                                                   (when it had one)

Numbers with the same previous settings go in one step (`restore-import-N`,
`restore-messaging-N`). What even a snapshot cannot restore is said (`notes`): the A2P campaign
of a number hosted for messaging (the API refuses A2P settings on imported numbers, 5128), and
the subscriber and LOA person of a re-import (tndetails does not show them). Numbers without a
snapshot row, or whose row holds only the in-service pages' view, are left to the plain rollback.

Pure: facts in, steps out. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestrator.plan import StepKind

if TYPE_CHECKING:  # a type only: lxml loads with the commands that read numbers back
    from orchestrator.api.number_state import NumberState


@dataclass(slots=True)
class RestoreStep:
    """Numbers going back to one set of previous settings, and the run's steps they undo."""

    name: str
    kind: StepKind
    numbers: list[str]
    undoes: list[str]
    site_id: str | None = None
    sip_peer_id: str | None = None
    enable_messaging: bool = False
    sms: str | None = None
    campaign_id: str | None = None
    message_class: str | None = None


@dataclass(slots=True)
class Restores:
    """The restore steps, the numbers they take over from the plain rollback, and notes."""

    steps: list[RestoreStep] = field(default_factory=list)
    handled: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


_Key = tuple[str | None, str | None, bool, str | None, str | None]
"""(site, SIP peer, SMS on, campaign, message class): numbers with one key share a step."""


def _hosted_before(state: NumberState | None) -> bool:
    """Hosted (imported) on the account before the run, on a known site: importable again (a
    Bandwidth number in service there is not: 19006)."""
    return (
        state is not None
        and state.detailed
        and state.on_account == "true"
        and state.hosted == "true"
        and bool(state.site_id)
    )


def plan_restores(
    *,
    imported: Mapping[str, str],
    removed: Mapping[str, str],
    sms_changed: Mapping[str, str],
    a2p_changed: Mapping[str, str],
    snapshot: Mapping[str, NumberState],
) -> Restores:
    """The restore steps for the numbers the run changed (number -> the step that did)."""
    out = Restores()
    imports: dict[_Key, list[tuple[str, str]]] = {}
    for found in (removed, imported):
        for number, step in found.items():
            before = snapshot.get(number)
            if before is None or not _hosted_before(before) or number in out.handled:
                continue
            key: _Key = (before.site_id, before.sip_peer_id, before.sms == "true", None, None)
            imports.setdefault(key, []).append((number, step))
            out.handled.add(number)
            if before.campaign_id:
                out.notes.append(
                    f"{number} had A2P campaign {before.campaign_id}: the API refuses A2P "
                    "settings on numbers hosted for messaging (5128), so it is not restored"
                )
    messaging: dict[_Key, list[tuple[str, str]]] = {}
    for found in (sms_changed, a2p_changed):
        for number, step in found.items():
            before = snapshot.get(number)
            if number in out.handled or before is None or not before.detailed:
                continue
            if before.sms is None or (found is a2p_changed and not before.campaign_id):
                continue
            on = before.sms == "true"
            campaign, klass = (before.campaign_id, before.message_class) if on else (None, None)
            key = (None, None, on, campaign, klass)
            messaging.setdefault(key, []).append((number, step))
            out.handled.add(number)
    for n, (site, peer, sms, _c, _m) in enumerate(sorted(imports, key=_order), start=1):
        numbers, undoes = _split(imports[(site, peer, sms, _c, _m)])
        out.steps.append(
            RestoreStep(
                f"restore-import-{n}", StepKind.IMPORT, numbers, undoes,
                site_id=site, sip_peer_id=peer, enable_messaging=sms,
            )
        )  # fmt: skip
    for n, key in enumerate(sorted(messaging, key=_order), start=1):
        numbers, undoes = _split(messaging[key])
        out.steps.append(
            RestoreStep(
                f"restore-messaging-{n}", StepKind.MESSAGING, numbers, undoes,
                sms="on" if key[2] else "off", campaign_id=key[3], message_class=key[4],
            )
        )  # fmt: skip
    if imports:
        out.notes.append(
            "numbers imported again get the site, SIP peer and SMS setting the snapshot shows; "
            "their subscriber and LOA person are not in the snapshot (fill in [import_defaults])"
        )
    return out


def _order(key: _Key) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in key)


def _split(rows: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """(numbers, the sorted distinct steps they undo)."""
    return [n for n, _s in rows], sorted({s for _n, s in rows})
