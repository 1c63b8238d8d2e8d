"""The sandbox's violation -> catalogue code table (`orchestrator.sandbox.refusal`)."""

from __future__ import annotations

import pytest

from orchestrator.sandbox import xmlio
from orchestrator.sandbox.codes import DESCRIPTIONS
from orchestrator.sandbox.model import ApiError, ApiVersion, RejectedError
from orchestrator.sandbox.refusal import ANSWERS, answer_violations, check_request
from orchestrator.spec import Violation
from orchestrator.spec.violation import RULES


@pytest.mark.parametrize("row", ANSWERS, ids=lambda r: f"{r.rule}-{r.element or '*'}-{r.code}")
def test_each_row_fills_every_placeholder_of_its_text(row):
    """A row's text (its own, or the catalogue's for its code) has one `%s` per `fill` name."""
    text = row.text if row.text is not None else DESCRIPTIONS[row.code]
    assert text.count("%s") == len(row.fill)


def test_every_referee_rule_has_an_answer_for_any_element():
    """Each rule the referee reports has a row for any element of any operation, so no
    violation falls through to the bare 1019."""
    generic = {r.rule for r in ANSWERS if not r.element and not r.operations and not r.version}
    assert generic == set(RULES)


def test_violations_are_answered_in_order_each_once():
    """Two numbers breaking the same rule are one 1022; the order of first occurrence stays."""
    root = xmlio.parse(b"<RemoveImportedTnOrder><X/><TelephoneNumbers/></RemoveImportedTnOrder>")
    path = "/RemoveImportedTnOrder/TelephoneNumbers/TelephoneNumber"
    violations = [
        Violation(f"{path}[1]", "pattern", "is '1', not an E.164 number", "TelephoneNumber"),
        Violation("/RemoveImportedTnOrder/X", "unknown-element", "X is not allowed here", "X"),
        Violation(f"{path}[2]", "pattern", "is '2', not an E.164 number", "TelephoneNumber"),
    ]
    assert answer_violations(violations, "CreateRemoveImportedTnOrder", ApiVersion.V2, root) == [
        ApiError(1022, "TelephoneNumber is in an invalid format"),
        ApiError(1005, "X is not allowed"),
    ]


def test_a_rows_operation_and_version_narrow_it():
    """The same violation answers the checker's 7201 (naming the number), v2's 1022 and v1's
    5070 elsewhere."""
    body = b"<ImportTnCheckerPayload><TelephoneNumbers><TelephoneNumber>617</TelephoneNumber>"
    root = xmlio.parse(body + b"</TelephoneNumbers></ImportTnCheckerPayload>")
    path = "/ImportTnCheckerPayload/TelephoneNumbers/TelephoneNumber[1]"
    violation = Violation(path, "pattern", "is '617', not an E.164 number", "TelephoneNumber")
    answers = [
        answer_violations([violation], operation, version, root)
        for operation, version in (
            ("CreateRequestImportTnChecker", ApiVersion.V2),
            ("CreateRemoveImportedTnOrder", ApiVersion.V2),
            ("CreateRemoveImportedTnOrder", ApiVersion.V1),
        )
    ]
    assert answers == [
        [ApiError(7201, "617 is not a valid NANPA telephone number.")],
        [ApiError(1022, "TelephoneNumber is in an invalid format")],
        [ApiError(5070, "Telephone number is invalid.")],
    ]


def test_lenient_mode_still_checks_the_import_form():
    """`strict=False` skips the schema but not the seed's accepted import forms."""
    body = b"<ExternalTnsOrder><Flavour/></ExternalTnsOrder>"
    check_request("CreateImportMessagingTnOrder", body, ApiVersion.V2,
                  forms=("ExternalTnsOrder",), strict=False)  # fmt: skip
    with pytest.raises(RejectedError) as refused:
        check_request("CreateImportMessagingTnOrder", body, ApiVersion.V2,
                      forms=("ImportTnOrder",), strict=False)  # fmt: skip
    assert [e.code for e in refused.value.errors] == [1019]
