"""Rollback with a snapshot (`orchestrator.cutover.restore` through `build_rollback`): numbers go
back to what the snapshot shows where it read them, and only there."""

from __future__ import annotations

from orchestrator.api.number_state import NumberState
from orchestrator.cutover.rollback import (
    ChangedNumber,
    Reimport,
    RollbackSource,
    StepFact,
    build_rollback,
)
from orchestrator.plan import StepKind, parse_plan

PLAN = parse_plan(
    'name = "cut"\naccount_id = "9900012"\n[[steps]]\nkind = "remove"\nnumbers = ["+19195550001"]'
    "\n",
    "cut.toml",
)
SOURCE = RollbackSource(PLAN, "0" * 64, "state/cut.db", "https://api.example/api/v2")
STEPS = [
    StepFact("release", StepKind.REMOVE),
    StepFact("quiet", StepKind.MESSAGING, sms="off"),
    StepFact("move", StepKind.IMPORT),
]
CHANGED = [
    ChangedNumber("release", "+19195550001"),
    ChangedNumber("release", "+19195550002"),
    ChangedNumber("release", "+19195550005"),
    ChangedNumber("quiet", "+19195550003"),
    ChangedNumber("move", "+19195550004"),
]
SNAPSHOT = {
    "+19195550001": NumberState("+19195550001", "true", "486", "500025", "true", "C9", "M",
                                detailed=True, hosted="true"),
    "+19195550002": NumberState("+19195550002", "true"),  # pages only: site unknown
    "+19195550003": NumberState("+19195550003", "true", "743", "303716", "true", "CAMP", "M",
                                detailed=True),
    "+19195550004": NumberState("+19195550004", "false", detailed=True),
    "+19195550005": NumberState("+19195550005", "true", "743", detailed=True, hosted="false"),
}  # fmt: skip


def _build(**kw: object) -> object:
    return build_rollback(SOURCE, STEPS, CHANGED, file_stem="undo", written_at="now", **kw)  # type: ignore[arg-type]


def test_the_snapshot_restores_what_it_read_and_leaves_the_rest_to_the_inverse() -> None:
    """A removed number read by tndetails goes back to its site and peer with SMS on; one seen
    only in the pages, or in service but not hosted (importing it fails: 19006), is left to
    --site-id (not undone without it); SMS goes back on with its
    campaign; a number external before its import is removed. The campaign of a hosted number
    cannot be restored (5128): the plan says so."""
    plan = _build(snapshot=SNAPSHOT)
    steps = {s.name: s for s in plan.steps}  # type: ignore[attr-defined]
    assert {n: s.numbers for n, s in steps.items()} == {
        "undo-imports": ["+19195550004"],
        "restore-import-1": ["+19195550001"],
        "restore-messaging-1": ["+19195550003"],
    }
    text = plan.text  # type: ignore[attr-defined]
    assert 'site_id = "486"\nsip_peer_id = "500025"' in text and "enable_messaging = true" in text
    assert 'a2p = { campaign_id = "CAMP", message_class = "M" }' in text
    notes = " ".join(plan.not_undone)  # type: ignore[attr-defined]
    assert "2 numbers removed by the run not re-imported" in notes  # 0002 and 0005
    assert "+19195550001 had A2P campaign C9" in notes


def test_without_a_snapshot_the_rollback_inverts_and_says_what_it_cannot_restore() -> None:
    """No snapshot: the plain inverse (SMS back on without a campaign), and a note that the
    previous settings are not known; --site-id still places the removed numbers."""
    plan = _build(reimport=Reimport("743"))
    assert [s.name for s in plan.steps] == ["undo-imports", "undo-sms-off", "undo-removals"]  # type: ignore[attr-defined]
    assert any("has no snapshot" in n for n in plan.not_undone)  # type: ignore[attr-defined]
