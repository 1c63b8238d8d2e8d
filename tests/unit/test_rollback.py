"""The rollback plan from store facts: what is undone, what is not, and that it is a valid plan."""

from __future__ import annotations

import pytest

from orchestrator.cutover.rollback import (
    ChangedNumber,
    Reimport,
    RollbackSource,
    StepFact,
    build_rollback,
    rollback_name,
)
from orchestrator.errors import PlanError
from orchestrator.plan import StepKind, compile_plan, parse_plan

ORIGINAL = """
name = "acme"
account_id = "9900012"
batch_size = 50
canary = 3
[rate]
requests_per_s = 7
visibility_window_s = 45
[failure_threshold]
max_failed_percent = 20
min_finished = 10
[[steps]]
kind = "import"
name = "hosted"
site_id = "743"
enable_messaging = true
numbers = ["+19195550100"]
"""

STEPS = [
    StepFact("hosted", StepKind.IMPORT),
    StepFact("gone", StepKind.REMOVE),
    StepFact("sms-on", StepKind.MESSAGING, sms="on"),
    StepFact("sms-off", StepKind.MESSAGING, sms="off"),
    StepFact("hosted:sms-on", StepKind.MESSAGING, sms="on", chained_from="hosted", role="sms"),
    StepFact("hosted:sms-on:a2p", StepKind.MESSAGING, chained_from="hosted:sms-on", role="a2p"),
    StepFact("sms-on:a2p", StepKind.MESSAGING, chained_from="sms-on", role="a2p"),
]


def _source() -> RollbackSource:
    return RollbackSource(parse_plan(ORIGINAL, "acme.toml"), "ab" * 32, "state/acme.db", "sandbox")


def _build(changed: list[ChangedNumber], reimport: Reimport | None = None):  # type: ignore[no-untyped-def]
    return build_rollback(
        _source(),
        STEPS,
        changed,
        file_stem="undo",
        written_at="2026-01-01T00:00:00+00:00",
        reimport=reimport,
    )


def _compile(text: str, files: dict[str, str]):  # type: ignore[no-untyped-def]
    return compile_plan(parse_plan(text, "undo.toml"), lambda name: files[name].encode())


def test_each_kind_of_change_is_inverted_into_its_own_step() -> None:
    """Imports become removals, SMS on becomes off and off becomes on."""
    plan = _build(
        [
            ChangedNumber("hosted", "+19195550100"),
            ChangedNumber("hosted:sms-on", "+19195550100"),
            ChangedNumber("sms-on", "+19195550200"),
            ChangedNumber("sms-off", "+19195550300"),
        ]
    )
    got = {(s.name, s.kind, s.sms): s.numbers for s in plan.steps}
    assert got == {
        ("undo-imports", StepKind.REMOVE, None): ["+19195550100"],
        ("undo-sms-on", StepKind.MESSAGING, "off"): ["+19195550200"],
        ("undo-sms-off", StepKind.MESSAGING, "on"): ["+19195550300"],
    }


def test_the_rollback_is_a_plan_that_compiles_with_the_original_settings() -> None:
    """The TOML parses and compiles; account, batch size, canary, rate (visibility window
    included) and threshold are kept."""
    plan = _build(
        [ChangedNumber("hosted", "+19195550100"), ChangedNumber("sms-on", "+19195550200")]
    )
    compiled = _compile(plan.text, plan.files)
    spec = compiled.spec
    assert spec.name == "acme-rollback"
    assert (spec.account_id, spec.batch_size, spec.canary) == ("9900012", 50, 3)
    assert (spec.rate.requests_per_s, spec.rate.visibility_window_s) == (7, 45)
    assert spec.failure_threshold.max_failed_percent == 20
    assert [s.numbers for s in compiled.steps] == [["+19195550100"], ["+19195550200"]]
    assert not compiled.invalid


def test_a_number_imported_by_the_run_is_only_removed_not_also_reconfigured() -> None:
    """Removal restores the number entirely, so no messaging step touches it (no conflict)."""
    plan = _build(
        [ChangedNumber("hosted", "+19195550100"), ChangedNumber("sms-off", "+19195550100")]
    )
    assert [(s.name, s.numbers) for s in plan.steps] == [("undo-imports", ["+19195550100"])]
    _compile(plan.text, plan.files)


def test_sms_the_api_said_was_already_on_is_left_alone() -> None:
    """A number the run did not change (the API's "already Enabled" warning) is not turned off."""
    warning = "SMS is already Enabled or number is in processing."
    plan = _build(
        [ChangedNumber("sms-on", "+19195550200", warning), ChangedNumber("sms-on", "+19195550201")]
    )
    assert [s.numbers for s in plan.steps] == [["+19195550201"]]
    assert any("already had that SMS setting" in note for note in plan.not_undone)


def test_removed_numbers_are_reimported_only_where_the_operator_says() -> None:
    """Without a site the removals are listed as not undone; with one they become an import,
    whose subscriber and LOA person (not in the state file) are a commented template to fill
    in: the plan is refused until then, and compiles once they (or the guide's form) are given."""
    changed = [ChangedNumber("gone", "+19195550400")]
    without = _build(changed)
    assert without.steps == []
    assert any("--site-id" in note for note in without.not_undone)
    with_site = _build(changed, Reimport("486", "500025", "SUBSCRIBER", enable_messaging=True))
    assert "[import_defaults]" in with_site.text.splitlines()
    assert '# loa_authorizing_person = ""' in with_site.text.splitlines()
    with pytest.raises(PlanError, match=r"steps\[0\] \('undo-removals'\): 1 number is \+1"):
        _compile(with_site.text, with_site.files)
    guide = with_site.text.replace('# body_form = "', 'body_form = "')
    step = _compile(guide, with_site.files).steps[0]
    assert step.numbers == ["+19195550400"]
    assert (step.spec.kind, step.spec.site_id, step.spec.sip_peer_id) == (
        StepKind.IMPORT,
        "486",
        "500025",
    )
    assert (step.spec.loa_type, step.spec.enable_messaging) == ("SUBSCRIBER", True)
    assert step.spec.body_form == "ExternalTnsOrder"


def test_a2p_sent_to_numbers_the_run_did_not_import_is_listed_as_not_undone() -> None:
    """The A2P follow-up of an import is undone by the removal; that of a messaging step is
    not (the earlier campaign is unknown), and the rollback says so."""
    plan = _build(
        [
            ChangedNumber("hosted", "+19195550100"),
            ChangedNumber("hosted:sms-on:a2p", "+19195550100"),
            ChangedNumber("sms-on", "+19195550200"),
            ChangedNumber("sms-on:a2p", "+19195550200"),
        ]
    )
    assert [(s.name, s.numbers) for s in plan.steps] == [
        ("undo-imports", ["+19195550100"]),
        ("undo-sms-on", ["+19195550200"]),
    ]
    notes = [n for n in plan.not_undone if "A2P settings" in n]
    assert notes == [
        "A2P settings the run sent for 1 number it did not import (steps sms-on:a2p) are not "
        "undone: the state file does not record the campaign they had before"
    ]


def test_number_files_keep_the_run_order_and_say_where_they_come_from() -> None:
    """One E.164 number per line, in the order the run changed them, after a comment."""
    numbers = [f"+1919555{i:04d}" for i in (7, 3, 5)]
    plan = _build([ChangedNumber("hosted", n) for n in numbers])
    text = plan.files["undo.undo-imports.txt"]
    assert text.splitlines()[0].startswith("# undo-imports: 3 numbers changed by step hosted")
    assert text.splitlines()[1:] == numbers


def test_nothing_changed_gives_no_steps() -> None:
    """A run that changed nothing has nothing to undo."""
    assert _build([]).steps == []


@pytest.mark.parametrize("name", ["a", "x" * 64])
def test_the_rollback_name_is_always_a_valid_plan_name(name: str) -> None:
    """`<name>-rollback`, cut to the 64 characters a plan name allows."""
    out = rollback_name(name)
    assert out.endswith("-rollback") and len(out) <= 64
    step = '[[steps]]\nkind = "remove"\nnumbers = ["+19195550100"]\n'
    text = f'name = "{out}"\naccount_id = "1"\n{step}'
    assert parse_plan(text, "p.toml").name == out


def test_outside_text_in_comments_cannot_break_out_of_them() -> None:
    """A state path or target holding a newline or an escape code stays inside its comment: the
    rollback plan parses to the same settings and carries no control character (issue 12 #6)."""
    source = RollbackSource(
        parse_plan(ORIGINAL, "acme.toml"),
        "ab" * 32,
        'state/x\nname = "hijacked"\n\x1b[2J.db',
        'https://h.example/api/v2\r\naccount_id = "1"',
    )
    changed = [ChangedNumber("hosted", "+19195550100")]
    plan = build_rollback(
        source, STEPS, changed, file_stem="undo", written_at="2026-01-01T00:00", reimport=None
    )
    for text in (plan.text, *plan.files.values()):
        assert all(ch.isprintable() or ch == "\n" for ch in text)
    spec = parse_plan(plan.text, "undo.toml")
    assert (spec.name, spec.account_id) == ("acme-rollback", "9900012")
    _compile(plan.text, plan.files)
