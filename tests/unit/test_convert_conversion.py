"""Folding intents per number (last wins), grouping steps, and rendering a plan `plan` accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import PlanError
from orchestrator.plan import StepKind, compile_plan, parse_plan
from orchestrator.v1.conversion import convert
from orchestrator.v1.intent import (
    Action,
    Entry,
    ImportSettings,
    InputKind,
    Origin,
    ReadResult,
    V1Failure,
)
from orchestrator.v1.orders import read_xml_input
from orchestrator.v1.planfile import (
    CSV_COLUMNS,
    render_outputs,
    steps_needing_import_details,
    summary,
)

V1 = Path(__file__).parents[1] / "fixtures" / "v1"
SITE_A = ImportSettings("743", "303716", "CARRIER")
SITE_B = ImportSettings("744", None, "SUBSCRIBER")


def result_of(*events: tuple[str, Action, ImportSettings | None], source: str = "in.xml"):
    """A ReadResult whose entries are (raw, action, settings) at lines 1, 2, 3..."""
    origin = Origin(source=source, kind=InputKind.EXTERNAL_TNS_BODY)
    result = ReadResult(source=source, kind=InputKind.EXTERNAL_TNS_BODY, documents=1)
    result.entries = [
        Entry(raw, i, action, origin, settings)
        for i, (raw, action, settings) in enumerate(events, start=1)
    ]
    return result


def steps_of(conversion):
    return {s.name: [p.number for p in s.rows] for s in conversion.steps}


def test_last_intent_wins_and_the_history_is_contradictory():
    """Import, then remove, then import again: imported; the history says why."""
    c = convert(
        [
            result_of(("9199918388", Action.IMPORT, SITE_A)),
            result_of(("9199918388", Action.REMOVE, None), source="b.xml"),
            result_of(("919-991-8388", Action.IMPORT, SITE_B), source="c.xml"),
        ],
        "USA",
    )
    assert steps_of(c) == {"import-site744-peerdefault-subscriber": ["+19199918388"]}
    (history,) = c.histories
    assert history.contradictory
    assert [e.origin.source for e in history.events] == ["in.xml", "b.xml", "c.xml"]
    assert len(history.contradictions) == 2


def test_repeated_identical_imports_collapse_without_contradiction():
    """The same import twice is one planned number and one collapsed history."""
    c = convert(
        [result_of(("9199918388", Action.IMPORT, SITE_A), ("+19199918388", Action.IMPORT, SITE_A))],
        "USA",
    )
    assert steps_of(c) == {"import-site743-peer303716-carrier": ["+19199918388"]}
    assert len(c.collapsed) == 1 and not c.contradictory


def test_import_then_sms_on_chains_messaging_to_the_import():
    """An SMS-on after an import becomes `enable_messaging` on the import step."""
    c = convert(
        [result_of(("9199918388", Action.IMPORT, SITE_A), ("9199918388", Action.SMS_ON, None))],
        "USA",
    )
    (step,) = c.steps
    assert step.kind is StepKind.IMPORT and step.enable_messaging
    assert step.name == "import-site743-peer303716-carrier-sms-on"
    assert len(c.collapsed) == 1


def test_import_then_sms_off_is_an_import_and_an_sms_off_step():
    """An SMS-off after an import: the import step, then the sms-off step for that number."""
    c = convert(
        [result_of(("9199918388", Action.IMPORT, SITE_A), ("9199918388", Action.SMS_OFF, None))],
        "USA",
    )
    assert steps_of(c) == {
        "import-site743-peer303716-carrier": ["+19199918388"],
        "sms-off": ["+19199918388"],
    }


def test_sms_change_before_an_import_is_discarded_and_reported():
    """Import resets messaging: an earlier SMS-on is dropped, as a contradiction."""
    c = convert(
        [result_of(("9199918388", Action.SMS_ON, None), ("9199918388", Action.IMPORT, SITE_A))],
        "USA",
    )
    assert steps_of(c) == {"import-site743-peer303716-carrier": ["+19199918388"]}
    assert "resets messaging" in c.contradictory[0].contradictions[0]


def test_sms_change_after_a_removal_wins_over_the_removal():
    """Remove then SMS on: the later intent wins; no removal is planned."""
    c = convert(
        [result_of(("9199918388", Action.REMOVE, None), ("9199918388", Action.SMS_ON, None))], "USA"
    )
    assert steps_of(c) == {"sms-on": ["+19199918388"]}
    assert c.contradictory


def test_invalid_numbers_are_rejected_with_reason_and_location():
    """A number that is not E.164-able is rejected, naming file:line and the reason."""
    c = convert(
        [result_of(("9199918388", Action.REMOVE, None), ("919-FAX-LINE", Action.REMOVE, None))],
        "USA",
    )
    (rejected,) = c.rejected
    assert (rejected.raw, rejected.where, rejected.reason) == (
        "919-FAX-LINE",
        "in.xml:2",
        "letters",
    )
    assert c.sources[0].rejected == 1 and c.sources[0].planned == 1


def test_failed_on_v1_is_reported_and_marked_when_planned_elsewhere():
    """A v1 failure is not planned, but it says whether another input plans the number."""
    failing = result_of(("9199918388", Action.IMPORT, SITE_A))
    origin = Origin(source="list.xml", kind=InputKind.EXTERNAL_TNS_REPORT, status="FAILED")
    failing.failures = [
        V1Failure("9199918388", 3, Action.IMPORT, origin, "25060", "owned"),
        V1Failure("4158714245", 4, Action.IMPORT, origin, "25060", "owned"),
    ]
    c = convert([failing], "USA")
    assert [(f.number, f.planned) for f in c.failed_on_v1] == [
        ("+19199918388", True), ("+14158714245", False),
    ]  # fmt: skip


def test_steps_are_ordered_imports_then_messaging_then_remove():
    """Imports by site and peer first, then SMS on, SMS off, remove."""
    c = convert(
        [
            result_of(
                ("2129332865", Action.REMOVE, None),
                ("3369788814", Action.SMS_OFF, None),
                ("3366750329", Action.SMS_ON, None),
                ("9844741417", Action.IMPORT, SITE_B),
                ("9198064286", Action.IMPORT, SITE_A),
            )
        ],
        "USA",
    )
    assert [s.name for s in c.steps] == [
        "import-site743-peer303716-carrier", "import-site744-peerdefault-subscriber",
        "sms-on", "sms-off", "remove",
    ]  # fmt: skip


def _mixed_inputs() -> list[ReadResult]:
    """An externalTns listing (no subscriber), an ImportTnOrder body (with one), SMS logs."""
    return [
        read_xml_input((V1 / name).read_bytes(), name)
        for name in (
            "external_tns_orders_listing.xml",
            "import_tn_order.xml",
            "sippeer_requests.log",
        )
    ]


def test_rendered_plan_compiles_to_exactly_the_planned_numbers():
    """The plan text and CSVs compile with `parse_plan`/`compile_plan`, nothing lost or added
    (the subscriber and LOA person still to fill in aside)."""
    c = convert(_mixed_inputs(), "USA")
    files = render_outputs(c, name="acme", account_id="9900012", country="USA", plan_stem="acme")
    spec = parse_plan(files["acme.toml"].decode(), "acme.toml")
    compiled = compile_plan(spec, lambda name: files[name], require_import_details=False)
    assert compiled.valid_count == sum(len(s.rows) for s in c.steps)
    assert not compiled.invalid and not compiled.duplicates
    importing = next(s for s in spec.steps if s.subscriber is not None)
    assert importing.loa_authorizing_person == "The Authguy"
    header = files["acme.numbers/sms-on.csv"].decode().splitlines()[0]
    assert header == ",".join(CSV_COLUMNS)
    assert "password" not in files["acme.toml"].decode().lower()


def test_imports_without_subscriber_get_a_template_the_plan_refuses_until_filled_in():
    """+1 imports whose v1 inputs carried no subscriber or LOA person get a commented
    [import_defaults] (nothing sent from it as written); `plan` refuses the plan, naming the
    step, until it is filled in; the step whose input carried them keeps its own."""
    c = convert(_mixed_inputs(), "USA")
    needing = steps_needing_import_details(c)
    assert needing == ["import-site743-peerdefault-carrier", "import-site743-peer303716-carrier"]
    files = render_outputs(c, name="acme", account_id="9900012", country="USA", plan_stem="acme")
    text = files["acme.toml"].decode()
    assert "[import_defaults]" in text.splitlines()
    assert '# loa_authorizing_person = ""' in text.splitlines()
    spec = parse_plan(text, "acme.toml")
    imports = [s for s in spec.steps if s.kind is StepKind.IMPORT]
    assert [s.subscriber is None for s in imports] == [False, True, True]

    def read(name: str) -> bytes:
        return files[name]

    with pytest.raises(PlanError, match=r"\('import-site743-peerdefault-carrier'\): .* \+1"):
        compile_plan(spec, read)
    filled = text.replace(
        '# subscriber = { name = "", house_number = "", street_name = "", city = "", '
        'state_code = "", zip = "" }',
        'subscriber = { name = "Acme", house_number = "1", street_name = "Main", city = "Cary", '
        'state_code = "NC", zip = "27511" }',
    ).replace('# loa_authorizing_person = ""', 'loa_authorizing_person = "Jo Smith"')
    done = compile_plan(parse_plan(filled, "acme.toml"), read)
    subscribers = [s.spec.subscriber for s in done.steps if s.spec.kind is StepKind.IMPORT]
    assert [sub.name if sub else None for sub in subscribers] == ["ABC Inc.", "Acme", "Acme"]
    report = files["acme.report.md"].decode()
    assert "## To fill in before `bwmigrate plan`: subscriber and LOA person" in report
    assert summary(c)["import_details_needed"] == needing


def test_inputs_that_carried_subscriber_and_loa_need_no_template():
    """Only ImportTnOrder bodies (with subscriber and LOA person): no template, plan compiles."""
    c = convert([read_xml_input((V1 / "import_tn_order.xml").read_bytes(), "i.xml")], "USA")
    files = render_outputs(c, name="acme", account_id="9900012", country="USA", plan_stem="acme")
    assert "import_defaults" not in files["acme.toml"].decode()
    assert summary(c)["import_details_needed"] == []
    compile_plan(parse_plan(files["acme.toml"].decode(), "acme.toml"), lambda n: files[n])


def test_report_lists_failures_histories_and_notes():
    """The Markdown report names every section with its count."""
    inputs = [
        read_xml_input((V1 / name).read_bytes(), name)
        for name in ("external_tns_orders_listing.xml", "external_tns_import.xml")
    ]
    c = convert(inputs, "USA")
    report = render_outputs(c, name="acme", account_id="1", country="USA", plan_stem="acme")[
        "acme.report.md"
    ].decode()
    assert "## Failed on v1 (not counted as done): 2" in report
    assert "| +13369788814 | import |" in report
    assert "## Contradictory histories (a later intent overrode an earlier one): 2" in report
    assert "PROCESSING on v1" in report
