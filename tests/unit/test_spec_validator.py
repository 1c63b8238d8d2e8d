"""The schema referee: the excerpt's own examples conform, and every rule refuses what it should."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from orchestrator.api.subscription import ORDER_TYPE_OF_KIND, subscription_body
from orchestrator.spec import (
    IMPORT_BODY_FORMS,
    Example,
    Violation,
    documented_statuses,
    operation_examples,
    validate_import_body,
    validate_request,
    validate_response,
)
from orchestrator.spec.violation import RULES

FIXTURES = Path(__file__).parent.parent / "fixtures"
IMPORT = "CreateImportMessagingTnOrder"

# --- the excerpt's examples -------------------------------------------------------------------

WRONG_EXAMPLES = {
    ("GetTnOptionOrders", 200, "example"): (
        "two alternative answers (summaries, then detailed orders) in one document, joined by"
        " <!-- OR -->, so <TnOptionOrders> occurs twice; each half is checked on its own"
    ),
}
"""Examples that are provably not one valid body, with the reason."""


def _example_id(example: Example) -> str:
    return f"{example.operation_id}-{example.status or 'request'}-{example.name}"


def _validate(example: Example) -> list[Violation]:
    if example.status is None:
        return validate_request(example.operation_id, example.body)
    return validate_response(example.operation_id, example.status, example.body)


EXAMPLES = operation_examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=_example_id)
def test_every_example_conforms_to_its_operation(example: Example) -> None:
    """Each request and response example of the excerpt validates against its own schema."""
    key = (example.operation_id, example.status, example.name)
    violations = _validate(example)
    if key in WRONG_EXAMPLES:
        assert violations, f"{key} now conforms: drop it from WRONG_EXAMPLES"
    else:
        assert violations == []


def test_wrong_examples_table_names_real_examples() -> None:
    """Every entry of the wrong-examples table is an example of the excerpt."""
    keys = {(e.operation_id, e.status, e.name) for e in EXAMPLES}
    assert set(WRONG_EXAMPLES) <= keys


def test_each_half_of_the_tn_option_list_example_conforms() -> None:
    """The tnoptions list example's summary half and detailed half are each a valid answer."""
    (example,) = [e for e in EXAMPLES if e.operation_id == "GetTnOptionOrders"]
    head, _, tail = example.body.decode().partition("<!-- OR -->")
    root_open, root_close = "<TnOptionOrderReportResponse>", "</TnOptionOrderReportResponse>"
    summaries = head + root_close
    details = head[: head.index(root_open) + len(root_open)] + tail
    for half in (summaries, details):
        assert validate_response("GetTnOptionOrders", 200, half.encode()) == []
    assert "<TnOptionOrderSummary>" in summaries and "<TnOptionGroups>" in details


def test_examples_cover_every_operation_with_an_xml_example() -> None:
    """The examples are those of the excerpt: 49 XML bodies, requests without a status."""
    assert len(EXAMPLES) == 49
    assert {e.direction for e in EXAMPLES if e.status is None} == {"request"}
    assert {e.direction for e in EXAMPLES if e.status is not None} == {"response"}
    assert {e.media_type for e in EXAMPLES} == {"application/xml"}
    assert all(e.body.startswith(b"<?xml") for e in EXAMPLES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        EXAMPLES[0].name = "x"  # type: ignore[misc]


# --- bodies for the negative tests -------------------------------------------------------------

SUBSCRIBER = (
    "<Subscriber><Name>ABC Inc.</Name><ServiceAddress><HouseNumber>11235</HouseNumber>"
    "<StreetName>Back</StreetName><City>Denver</City><StateCode>CO</StateCode><Zip>27541</Zip>"
    "</ServiceAddress></Subscriber>"
)
LOA = "<LoaAuthorizingPerson>The Authguy</LoaAuthorizingPerson><LoaType>CARRIER</LoaType>"


def numbers(*tns: str) -> str:
    return (
        "<TelephoneNumbers>"
        + "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in tns)
        + "</TelephoneNumbers>"
    )


def doc(root: str, *parts: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><{root}>{"".join(parts)}</{root}>'.encode()


def import_order(*parts: str, tns: tuple[str, ...] = ("+19199918388",)) -> bytes:
    head = parts or (
        "<CustomerOrderId>ICPA-123 A</CustomerOrderId><SiteId>743</SiteId>",
        SUBSCRIBER,
        LOA,
    )
    return doc("ImportTnOrder", *head, numbers(*tns))


def rules(violations: list[Violation]) -> list[tuple[str, str, str]]:
    return [(v.rule, v.path, v.element) for v in violations]


def test_a_full_import_order_conforms() -> None:
    """The schema form with subscriber, LOA and E.164 NANP numbers has no violations."""
    assert validate_request(IMPORT, import_order()) == []


def test_wrong_root_is_one_root_violation() -> None:
    """A remove order posted as an import is refused by its root alone."""
    body = doc("RemoveImportedTnOrder", numbers("+19199918388"))
    assert rules(validate_request(IMPORT, body)) == [
        ("root", "/RemoveImportedTnOrder", "RemoveImportedTnOrder")
    ]


def test_element_names_are_case_sensitive() -> None:
    """`<siteId>` is not `<SiteId>`: unknown, and SiteId is then missing."""
    body = import_order("<siteId>743</siteId>", SUBSCRIBER, LOA)
    assert rules(validate_request(IMPORT, body)) == [
        ("unknown-element", "/ImportTnOrder/siteId", "siteId"),
        ("required", "/ImportTnOrder/SiteId", "SiteId"),
    ]


def test_unknown_element_is_named_with_what_is_allowed() -> None:
    """An `Action` (externalTns vocabulary) in an ImportTnOrder is an unknown element."""
    body = import_order("<SiteId>743</SiteId><Action>IMPORT</Action>", SUBSCRIBER, LOA)
    (violation,) = validate_request(IMPORT, body)
    assert (violation.rule, violation.path, violation.element) == (
        "unknown-element",
        "/ImportTnOrder/Action",
        "Action",
    )
    assert "SiteId" in violation.message and "\n" not in violation.message


def test_missing_required_child_names_the_child() -> None:
    """Without SiteId the order is refused naming SiteId."""
    (violation,) = validate_request(IMPORT, import_order(SUBSCRIBER, LOA))
    assert violation == Violation(
        "/ImportTnOrder/SiteId", "required", "SiteId is required", "SiteId"
    )


def test_single_element_twice_is_repeated() -> None:
    """Two SiteIds are one "repeated" violation."""
    body = import_order("<SiteId>743</SiteId><SiteId>744</SiteId>", SUBSCRIBER, LOA)
    assert rules(validate_request(IMPORT, body)) == [
        ("repeated", "/ImportTnOrder/SiteId", "SiteId")
    ]


def test_enum_refuses_other_values() -> None:
    """LoaType is CARRIER or SUBSCRIBER, case-sensitively."""
    body = import_order(
        "<SiteId>743</SiteId>",
        SUBSCRIBER,
        "<LoaAuthorizingPerson>X</LoaAuthorizingPerson>",
        "<LoaType>carrier</LoaType>",
    )
    (violation,) = validate_request(IMPORT, body)
    assert (violation.rule, violation.element) == ("enum", "LoaType")
    assert "CARRIER, SUBSCRIBER" in violation.message


def test_subscriber_name_longer_than_45_is_max_length() -> None:
    """Subscriber/Name may hold 45 characters, not 46."""

    def with_name(name: str) -> bytes:
        return import_order("<SiteId>743</SiteId>", SUBSCRIBER.replace("ABC Inc.", name), LOA)

    assert validate_request(IMPORT, with_name("N" * 45)) == []
    assert validate_request(IMPORT, with_name("N" * 46)) == [
        Violation(
            "/ImportTnOrder/Subscriber/Name",
            "max-length",
            "Subscriber/Name is longer than 45 characters",
            "Name",
        )
    ]


@pytest.mark.parametrize(
    ("value", "rule"),
    [("ABC_123", "pattern"), ("Ordre n°1", "pattern"), ("A" * 41, "max-length")],
)
def test_customer_order_id_prose_rule(value: str, rule: str) -> None:
    """CustomerOrderId: letters, digits, dashes and spaces, at most 40 (import, remove, options)."""
    cid = f"<CustomerOrderId>{value}</CustomerOrderId>"
    bodies = {
        IMPORT: import_order(cid + "<SiteId>743</SiteId>", SUBSCRIBER, LOA),
        "CreateRemoveImportedTnOrder": doc("RemoveImportedTnOrder", cid, numbers("+19199918388")),
        "CreateTnOptionOrder": doc(
            "TnOptionOrder",
            cid,
            f"<TnOptionGroups><TnOptionGroup><Sms>on</Sms>{numbers('+19199918388')}</TnOptionGroup></TnOptionGroups>",
        ),
    }
    for operation, body in bodies.items():
        assert [(v.rule, v.element) for v in validate_request(operation, body)] == [
            (rule, "CustomerOrderId")
        ]


def test_site_id_must_be_an_integer() -> None:
    """SiteId "abc" is a type violation."""
    body = import_order("<SiteId>abc</SiteId>", SUBSCRIBER, LOA)
    assert rules(validate_request(IMPORT, body)) == [("type", "/ImportTnOrder/SiteId", "SiteId")]


@pytest.mark.parametrize(
    "number",
    ["9199918388", "19199918388", "+0199918388", "+1 919 991 8388", "+1234567890123456", ""],
)
def test_telephone_numbers_are_e164(number: str) -> None:
    """A v2 number is + then 2-15 digits; the failing item is named by its position."""
    body = import_order("<SiteId>743</SiteId>", SUBSCRIBER, LOA, tns=("+19199918388", number))
    assert rules(validate_request(IMPORT, body)) == [
        ("pattern", "/ImportTnOrder/TelephoneNumbers/TelephoneNumber[2]", "TelephoneNumber")
    ]


def test_empty_number_list_is_min_items() -> None:
    """`<TelephoneNumbers/>` needs at least one TelephoneNumber."""
    body = doc("RemoveImportedTnOrder", "<TelephoneNumbers/>")
    assert rules(validate_request("CreateRemoveImportedTnOrder", body)) == [
        ("min-items", "/RemoveImportedTnOrder/TelephoneNumbers", "TelephoneNumber")
    ]


def test_text_where_elements_belong_and_elements_where_text_belongs() -> None:
    """Mixed content and nested elements inside a value are type violations."""
    body = (
        import_order("<SiteId>743</SiteId>", SUBSCRIBER, LOA, tns=("+19199918388",))
        .replace(b"<TelephoneNumbers>", b"<TelephoneNumbers>junk")
        .replace(b"<SiteId>743</SiteId>", b"<SiteId><Id>743</Id></SiteId>")
    )
    assert rules(validate_request(IMPORT, body)) == [
        ("type", "/ImportTnOrder/SiteId", "SiteId"),
        ("type", "/ImportTnOrder/TelephoneNumbers", "TelephoneNumbers"),
    ]


# --- the NANP prose rule of CreateImportMessagingTnOrder ----------------------------------------


def test_nanp_numbers_need_subscriber_and_loa() -> None:
    """+1 numbers without Subscriber, LOA person and LOA type: one violation naming each."""
    body = import_order("<SiteId>743</SiteId>", tns=("+19199918388", "+14158714245"))
    assert rules(validate_request(IMPORT, body)) == [
        ("nanp-required", "/ImportTnOrder/Subscriber", "Subscriber"),
        ("nanp-required", "/ImportTnOrder/LoaAuthorizingPerson", "LoaAuthorizingPerson"),
        ("nanp-required", "/ImportTnOrder/LoaType", "LoaType"),
    ]


def test_one_nanp_number_among_international_ones_is_enough() -> None:
    """A single +1 number in the order makes the NANP fields required."""
    body = import_order("<SiteId>743</SiteId>", LOA, tns=("+442071234567", "+19199918388"))
    assert rules(validate_request(IMPORT, body)) == [
        ("nanp-required", "/ImportTnOrder/Subscriber", "Subscriber")
    ]


def test_international_only_numbers_need_none_of_them() -> None:
    """Without +1 numbers, only SiteId and TelephoneNumbers are required."""
    body = import_order("<SiteId>743</SiteId>", tns=("+442071234567", "+33142685300"))
    assert validate_request(IMPORT, body) == []


def test_nanp_subscriber_needs_its_service_address_fields() -> None:
    """A NANP subscriber needs ServiceAddress; a given address needs its five RAML fields."""
    bare = "<Subscriber><Name>ABC</Name></Subscriber>"
    assert rules(validate_request(IMPORT, import_order("<SiteId>743</SiteId>", bare, LOA))) == [
        ("nanp-required", "/ImportTnOrder/Subscriber/ServiceAddress", "ServiceAddress")
    ]
    no_city = SUBSCRIBER.replace("<City>Denver</City>", "")
    assert rules(validate_request(IMPORT, import_order("<SiteId>743</SiteId>", no_city, LOA))) == [
        ("required", "/ImportTnOrder/Subscriber/ServiceAddress/City", "City")
    ]


def test_blank_loa_person_counts_as_missing_for_nanp() -> None:
    """An empty LoaAuthorizingPerson does not authorize a NANP import."""
    loa = "<LoaAuthorizingPerson> </LoaAuthorizingPerson><LoaType>CARRIER</LoaType>"
    body = import_order("<SiteId>743</SiteId>", SUBSCRIBER, loa)
    assert [v.rule for v in validate_request(IMPORT, body)] == ["nanp-required"]


# --- the two import body forms ------------------------------------------------------------------

GUIDE_FORM = doc(
    "ExternalTnsOrder",
    "<CustomerOrderId>ICPA123ABC</CustomerOrderId><SiteId>743</SiteId><SipPeerId>303716</SipPeerId>",
    "<LoaType>CARRIER</LoaType>",
    numbers("+19199918388", "+14158714245"),
)


def test_guide_form_accepts_its_element_set() -> None:
    """The guide's body, full or minimal (SiteId and numbers), conforms to its own form."""
    assert validate_import_body(GUIDE_FORM, "ExternalTnsOrder") == []
    minimal = doc("ExternalTnsOrder", "<SiteId>743</SiteId>", numbers("+19199918388"))
    assert validate_import_body(minimal, "ExternalTnsOrder") == []


@pytest.mark.parametrize(
    "extra",
    ["<Action>IMPORT</Action>", SUBSCRIBER, "<LoaAuthorizingPerson>X</LoaAuthorizingPerson>"],
)
def test_guide_form_refuses_action_and_subscriber(extra: str) -> None:
    """Action (v1 externalTns), Subscriber and the LOA person are not in the guide's form."""
    body = GUIDE_FORM.replace(b"<SiteId>", extra.encode() + b"<SiteId>")
    (violation,) = validate_import_body(body, "ExternalTnsOrder")
    assert violation.rule == "unknown-element"
    assert violation.element == extra[1 : extra.index(">")]


def test_guide_form_checks_values_too() -> None:
    """LoaType, E.164 and the required SiteId hold in the guide's form as well."""
    body = GUIDE_FORM.replace(b"CARRIER", b"OTHER").replace(b"+14158714245", b"4158714245")
    assert [v.rule for v in validate_import_body(body, "ExternalTnsOrder")] == ["enum", "pattern"]
    no_site = doc("ExternalTnsOrder", numbers("+19199918388"))
    assert [v.element for v in validate_import_body(no_site, "ExternalTnsOrder")] == ["SiteId"]


def test_each_form_refuses_the_other_by_root() -> None:
    """Each import form refuses the other's root; the schema's form is the default."""
    assert IMPORT_BODY_FORMS == ("ImportTnOrder", "ExternalTnsOrder")
    assert [v.rule for v in validate_import_body(GUIDE_FORM, "ImportTnOrder")] == ["root"]
    assert [v.rule for v in validate_import_body(import_order(), "ExternalTnsOrder")] == ["root"]
    assert validate_import_body(import_order(), "ImportTnOrder") == []


def test_unknown_import_form_is_a_programming_error() -> None:
    """Asking for a form that does not exist raises, naming the known forms."""
    with pytest.raises(ValueError, match="ExternalTnsOrder"):
        validate_import_body(GUIDE_FORM, "externalTns")


# --- malformed and hostile documents ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n",
        b"<ImportTnOrder><SiteId>743</ImportTnOrder>",
        b"<ImportTnOrder>&undefined;</ImportTnOrder>",
        b'<!DOCTYPE ImportTnOrder [<!ENTITY site "743">]>'
        b"<ImportTnOrder><SiteId>&site;</SiteId></ImportTnOrder>",
        b"not xml at all",
    ],
    ids=["empty", "blank", "mismatched", "undefined-entity", "internal-entity", "text"],
)
def test_malformed_or_entity_bearing_body_is_one_xml_violation(body: bytes) -> None:
    """A body that is not a DTD-free, well-formed document gives exactly one "xml" violation."""
    (violation,) = validate_request(IMPORT, body)
    assert (violation.rule, violation.path, violation.element) == ("xml", "/", "")
    assert "\n" not in violation.message


@pytest.mark.parametrize(
    "name",
    [
        "billion_laughs.xml",
        "deeply_nested.xml",
        "truncated.xml",
        "xxe_external_dtd.xml",
        "xxe_file.xml",
        "xxe_http.xml",
        "xxe_parameter_entity.xml",
        "html_error_page.html",
    ],
)
def test_hostile_fixtures_are_one_xml_violation(name: str) -> None:
    """Entity bombs, external entities, over-deep and truncated documents never get through."""
    body = (FIXTURES / "hostile" / name).read_bytes()
    assert [v.rule for v in validate_request(IMPORT, body)] == ["xml"]
    assert [v.rule for v in validate_response("ReadImportMessagingTnOrder", 200, body)] == ["xml"]


# --- other operations' rules ----------------------------------------------------------------------


def checker(*tns: str) -> bytes:
    return doc("ImportTnCheckerPayload", numbers(*tns), "<SiteId>486</SiteId>")


def test_checker_refuses_duplicates_and_more_than_5000_numbers() -> None:
    """importTnChecker's prose: no duplicate numbers, at most 5000, SiteId required."""
    op = "CreateRequestImportTnChecker"
    assert validate_request(op, checker("+13032281000", "+14109235436")) == []
    assert rules(validate_request(op, checker("+13032281000", "+14109235436", "+13032281000"))) == [
        (
            "duplicate",
            "/ImportTnCheckerPayload/TelephoneNumbers/TelephoneNumber[3]",
            "TelephoneNumber",
        )
    ]
    many = [f"+1919555{i:04d}" for i in range(5001)]
    assert [v.rule for v in validate_request(op, checker(*many))] == ["max-items"]
    assert [v.rule for v in validate_request(op, checker(*many[:5000]))] == []
    no_site = doc("ImportTnCheckerPayload", numbers("+13032281000"))
    assert [(v.rule, v.element) for v in validate_request(op, no_site)] == [("required", "SiteId")]


def option_order(*groups: str) -> bytes:
    body = "".join(f"<TnOptionGroup>{g}</TnOptionGroup>" for g in groups)
    return doc("TnOptionOrder", f"<TnOptionGroups>{body}</TnOptionGroups>")


def test_tn_option_sms_values() -> None:
    """Sms is on, off or unchanged."""
    op = "CreateTnOptionOrder"
    for value in ("on", "off", "unchanged"):
        assert (
            validate_request(op, option_order(f"<Sms>{value}</Sms>" + numbers("+12018551020")))
            == []
        )
    assert [
        v.rule
        for v in validate_request(op, option_order("<Sms>true</Sms>" + numbers("+12018551020")))
    ] == ["enum"]


def test_tn_option_order_needs_groups_with_numbers() -> None:
    """An order without groups, or a group without numbers, is refused."""
    op = "CreateTnOptionOrder"
    assert [(v.rule, v.element) for v in validate_request(op, doc("TnOptionOrder"))] == [
        ("required", "TnOptionGroups")
    ]
    assert [(v.rule, v.element) for v in validate_request(op, option_order("<Sms>on</Sms>"))] == [
        ("required", "TelephoneNumbers")
    ]


def test_a2p_action_off_forbids_class_and_campaign() -> None:
    """Action off/systemDefault/delete take no MessageClass or CampaignId; asSpecified does."""
    op = "CreateTnOptionOrder"
    tns = numbers("+12018551020")
    campaign = "<MessageClass>M</MessageClass><CampaignId>CA3XKE1</CampaignId>"
    ok = option_order(f"<A2pSettings>{campaign}<Action>asSpecified</Action></A2pSettings>{tns}")
    assert validate_request(op, ok) == []
    bad = option_order(f"<A2pSettings>{campaign}<Action>off</Action></A2pSettings>{tns}")
    assert rules(validate_request(op, bad)) == [
        (
            "forbidden",
            "/TnOptionOrder/TnOptionGroups/TnOptionGroup[1]/A2pSettings/MessageClass",
            "MessageClass",
        ),
        (
            "forbidden",
            "/TnOptionOrder/TnOptionGroups/TnOptionGroup[1]/A2pSettings/CampaignId",
            "CampaignId",
        ),
    ]
    plain = option_order(f"<A2pSettings><Action>off</Action></A2pSettings>{tns}")
    assert validate_request(op, plain) == []


def test_nanpa_only_options_refuse_international_numbers() -> None:
    """A2pSettings (a NANPA option) on a +44 number is refused; Sms alone is fine there."""
    op = "CreateTnOptionOrder"
    a2p = "<A2pSettings><Action>systemDefault</Action></A2pSettings>"
    body = option_order(a2p + numbers("+12018551020", "+442071234567"))
    assert rules(validate_request(op, body)) == [
        (
            "nanp-only",
            "/TnOptionOrder/TnOptionGroups/TnOptionGroup[1]/TelephoneNumbers/TelephoneNumber[2]",
            "TelephoneNumber",
        )
    ]
    assert validate_request(op, option_order("<Sms>on</Sms>" + numbers("+442071234567"))) == []


def test_open_enum_keywords_escape_the_length_rules() -> None:
    """PortOutPasscode: "unchanged" is a keyword; a custom value still needs 4-10 characters."""
    op = "CreateTnOptionOrder"
    tns = numbers("+12018551020")
    for value, expected in (
        ("unchanged", []),
        ("systemDefault", []),
        ("a1b2", []),
        ("ab", ["min-length"]),
        ("a" * 11, ["max-length"]),
    ):
        body = option_order(f"<PortOutPasscode>{value}</PortOutPasscode>{tns}")
        assert [v.rule for v in validate_request(op, body)] == expected, value


def test_call_forward_is_e164_or_a_keyword() -> None:
    """CallForward is an E.164 number, unchanged or systemDefault (not the schema's '10digit')."""
    op = "CreateTnOptionOrder"
    tns = numbers("+12018551020")
    for value, expected in (("+16042661720", []), ("unchanged", []), ("10digit", ["pattern"])):
        body = option_order(f"<CallForward>{value}</CallForward>{tns}")
        assert [v.rule for v in validate_request(op, body)] == expected, value


def test_subscription_must_say_what_for_and_how() -> None:
    """A subscription needs OrderType or EventType, and an email or a callback block."""
    op = "CreateSubscriptions"
    callback = "<CallbackSubscription><URL>https://example.com/cb</URL></CallbackSubscription>"
    assert (
        validate_request(op, doc("Subscription", "<OrderType>importtnorders</OrderType>", callback))
        == []
    )
    assert validate_request(op, doc("Subscription", callback)) != []
    assert validate_request(op, doc("Subscription", "<OrderType>importtnorders</OrderType>")) != []
    both = doc(
        "Subscription",
        "<OrderType>tnoptions</OrderType><EventType>MESSAGING_LOST</EventType>",
        callback,
    )
    assert [v.rule for v in validate_request(op, both)] == ["unknown-element"]
    assert [
        v.rule
        for v in validate_request(op, doc("Subscription", "<OrderType>bogus</OrderType>", callback))
    ] == ["enum"]


@pytest.mark.parametrize("kind", sorted(ORDER_TYPE_OF_KIND))
def test_the_subscription_body_bwmigrate_sends_conforms(kind: str) -> None:
    """`subscription_body` for each order kind's OrderType (URL, expiry and Basic callback
    credentials with characters XML escapes) validates against CreateSubscriptions; the same
    body with a word for its expiry does not (the referee reads the callback block)."""
    body = subscription_body(
        ORDER_TYPE_OF_KIND[kind], "https://example.com/cb?a=1&b=2", "bwmigrate", "p<w>&'\"", 3600
    )
    assert validate_request("CreateSubscriptions", body) == []
    wrong = body.replace(b"<Expiry>3600</Expiry>", b"<Expiry>soon</Expiry>")
    assert rules(validate_request("CreateSubscriptions", wrong)) == [
        ("type", "/Subscription/CallbackSubscription/Expiry", "Expiry")
    ]


# --- responses -----------------------------------------------------------------------------------

ORDER_GET = next(
    e.body for e in EXAMPLES if (e.operation_id, e.status) == ("ReadImportMessagingTnOrder", 200)
)


def test_responses_are_strict_unless_told_to_tolerate() -> None:
    """An element the schema does not name is a violation, unless allow_unknown=True."""
    body = ORDER_GET.replace(b"<ProcessingStatus>", b"<Bonus>1</Bonus><ProcessingStatus>")
    assert rules(validate_response("ReadImportMessagingTnOrder", 200, body)) == [
        ("unknown-element", "/ImportTnOrder/Bonus", "Bonus")
    ]
    assert validate_response("ReadImportMessagingTnOrder", 200, body, allow_unknown=True) == []


def test_tolerant_responses_still_check_values() -> None:
    """allow_unknown tolerates extra elements, not bad values."""
    body = ORDER_GET.replace(b"<ProcessingStatus>PARTIAL", b"<ProcessingStatus>DONE")
    for strict in (True, False):
        found = validate_response("ReadImportMessagingTnOrder", 200, body, allow_unknown=not strict)
        assert [v.rule for v in found] == ["enum"]


def test_import_order_may_end_in_exception() -> None:
    """EXCEPTION is an import order status (the excerpt's own order callback lists it)."""
    body = ORDER_GET.replace(b"<ProcessingStatus>PARTIAL", b"<ProcessingStatus>EXCEPTION")
    assert validate_response("ReadImportMessagingTnOrder", 200, body) == []


def test_list_summaries_use_the_examples_spelling() -> None:
    """Import summaries spell accountId, CountOfTNs, OrderStatus as the example does."""
    (example,) = [e for e in EXAMPLES if e.operation_id == "ReadImportMessagingTnOrders"]
    body = example.body.replace(b"accountId>", b"AccountId>")
    assert {v.element for v in validate_response("ReadImportMessagingTnOrders", 200, body)} == {
        "AccountId"
    }


def test_create_failure_answers_are_shape_two() -> None:
    """A refused import/remove create is ProcessingStatus FAILED with repeated Errors."""
    for op, root in (
        ("CreateImportMessagingTnOrder", "ImportTnOrderResponse"),
        ("CreateRemoveImportedTnOrder", "RemoveImportedTnOrdersResponse"),
    ):
        body = doc(
            root,
            "<ProcessingStatus>FAILED</ProcessingStatus>",
            "<Errors><Code>7309</Code><Description>x</Description></Errors>" * 2,
        )
        assert validate_response(op, 400, body) == []
        assert [
            v.rule
            for v in validate_response(
                op, 400, doc(root, "<ProcessingStatus>FAILED</ProcessingStatus>")
            )
        ] == ["required"]


def test_empty_bodies() -> None:
    """No payload is right where the excerpt says so, and an "xml" violation elsewhere."""
    assert validate_response("CreateSubscriptions", 201, b"") == []
    assert validate_response("ReadInserviceTns", 204, b"") == []  # documented without a schema
    assert validate_response("ReadInserviceTn", 404, b"") == []
    assert [v.rule for v in validate_response("ReadImportMessagingTnOrder", 200, b"")] == ["xml"]
    assert [v.rule for v in validate_response("ReadInserviceTns", 404, b"<a>")] == ["xml"]


def test_unknown_operation_and_undocumented_status_raise() -> None:
    """Questions the excerpt cannot answer are programming errors, not violations."""
    with pytest.raises(ValueError, match="unknown operationId"):
        validate_request("CreateImportTnOrder", import_order())
    with pytest.raises(ValueError, match="documented: 200"):
        validate_response("ReadImportMessagingTnOrder", 404, b"")
    with pytest.raises(ValueError, match="takes no request body"):
        validate_request("ReadImportMessagingTnOrder", b"<x/>")
    assert documented_statuses("CreateImportMessagingTnOrder") == (201, 400)


# --- what bwmigrate builds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "operation"),
    [
        ("import_order_importtnorder_form.xml", "ImportTnOrder"),
        ("import_order_seed_form.xml", "ExternalTnsOrder"),
        ("remove_order.xml", "CreateRemoveImportedTnOrder"),
        ("tn_option_order_sms_on.xml", "CreateTnOptionOrder"),
        ("tn_option_order_sms_off.xml", "CreateTnOptionOrder"),
        ("tn_option_order_a2p.xml", "CreateTnOptionOrder"),
        ("import_checker.xml", "CreateRequestImportTnChecker"),
    ],
)
def test_golden_request_bodies_conform(name: str, operation: str) -> None:
    """The request bodies the client's builders produce (golden fixtures) pass the referee."""
    body = (FIXTURES / "requests" / name).read_bytes()
    if operation in IMPORT_BODY_FORMS:
        assert validate_import_body(body, operation) == []
    else:
        assert validate_request(operation, body) == []


def test_rule_names_are_the_documented_ones() -> None:
    """Every rule a violation carries in these tests is one of violation.RULES."""
    samples = [
        *validate_request(IMPORT, b""),
        *validate_request(IMPORT, import_order("<SiteId>x</SiteId>", tns=("1",))),
        *validate_import_body(GUIDE_FORM, "ImportTnOrder"),
    ]
    assert samples and {v.rule for v in samples} <= set(RULES)


@pytest.mark.parametrize(
    ("name", "operation", "status"),
    [
        ("import_checker_200_19006.xml", "CreateRequestImportTnChecker", 200),
        ("import_checker_400_7201.xml", "CreateRequestImportTnChecker", 400),
        ("import_create_201_received.xml", "CreateImportMessagingTnOrder", 201),
        ("import_create_400_7309.xml", "CreateImportMessagingTnOrder", 400),
        ("import_get_complete.xml", "ReadImportMessagingTnOrder", 200),
        ("import_get_failed.xml", "ReadImportMessagingTnOrder", 200),
        ("import_get_partial.xml", "ReadImportMessagingTnOrder", 200),
        ("import_list_empty.xml", "ReadImportMessagingTnOrders", 200),
        ("import_list_two.xml", "ReadImportMessagingTnOrders", 200),
        ("remove_create_201_processing.xml", "CreateRemoveImportedTnOrder", 201),
        ("remove_get_400_bad_uuid.xml", "RetrieveRemoveImportedTnOrder", 400),
        ("remove_get_partial_5158.xml", "RetrieveRemoveImportedTnOrder", 200),
        ("tnoptions_create_201_received.xml", "CreateTnOptionOrder", 201),
        ("tnoptions_create_400_5081.xml", "CreateTnOptionOrder", 400),
        ("tnoptions_get_404.xml", "GetTnOptionOrder", 404),
        ("tnoptions_get_partial_5076.xml", "GetTnOptionOrder", 200),
        ("tnoptions_list.xml", "GetTnOptionOrders", 200),
        ("tnoptions_list_report_response.xml", "GetTnOptionOrders", 200),
    ],
)
def test_golden_response_fixtures_conform(name: str, operation: str, status: int) -> None:
    """The golden answers the client is tested on (excerpt shapes) pass the strict referee."""
    body = (FIXTURES / "responses" / name).read_bytes()
    assert validate_response(operation, status, body) == []


def test_spec_package_imports_nothing_else_of_orchestrator() -> None:
    """orchestrator.spec depends on stdlib, lxml and yaml only, so the sandbox may import it."""
    package = Path(__file__).parents[2] / "orchestrator" / "spec"
    outside: list[str] = []
    for module in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            outside += [
                f"{module.name}: {n}"
                for n in names
                if n.split(".")[0] == "orchestrator" and not n.startswith("orchestrator.spec")
            ]
    assert outside == []
    assert len(list(package.glob("*.py"))) >= 6
