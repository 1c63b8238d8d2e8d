"""The v2 request bodies: golden bytes for every builder, element order, escaping, refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from orchestrator.api.safe_xml import parse_xml
from orchestrator.api.xml_request import (
    build_import_checker,
    build_import_order,
    build_remove_order,
    build_tn_option_order,
)
from orchestrator.errors import XmlError
from orchestrator.plan.model import A2pSettings, Subscriber

REQUESTS = Path(__file__).parent.parent / "fixtures" / "requests"

IMPORT_TNS = ("+19199918388", "+14158714245", "+14352154439", "+14352154466")
OPTION_TNS = ("+12018551020", "+12018551021")
CHECKER_TNS = ("+13032281000", "+14109235436")
ADDRESSED = Subscriber(
    name="ABC & Sons Inc.",
    house_number="11235",
    street_name="Back",
    city="Denver",
    state_code="CO",
    zip="27541",
    county="Canyon",
)


GOLDEN_REQUESTS: dict[str, Callable[[], bytes]] = {
    "import_order_seed_form.xml": lambda: build_import_order(
        body_form="ExternalTnsOrder",
        customer_order_id="ICPA123ABC",
        site_id="743",
        sip_peer_id="303716",
        loa_type="CARRIER",
        numbers=IMPORT_TNS,
    ),
    "import_order_importtnorder_form.xml": lambda: build_import_order(
        body_form="ImportTnOrder",
        customer_order_id="ICPA123ABC",
        site_id="743",
        sip_peer_id="303716",
        loa_type="CARRIER",
        numbers=IMPORT_TNS,
        subscriber=ADDRESSED,
        loa_authorizing_person="The Authguy",
    ),
    "remove_order.xml": lambda: build_remove_order(
        customer_order_id="ICPA123ABC", numbers=IMPORT_TNS
    ),
    "tn_option_order_sms_on.xml": lambda: build_tn_option_order(
        customer_order_id="TnOptionOrder1", sms="on", a2p=None, numbers=OPTION_TNS
    ),
    "tn_option_order_a2p.xml": lambda: build_tn_option_order(
        customer_order_id="TnOptionOrder2",
        sms="on",
        a2p=A2pSettings(message_class="M", campaign_id="CA3XKE1"),
        numbers=OPTION_TNS,
    ),
    "tn_option_order_a2p_only.xml": lambda: build_tn_option_order(
        customer_order_id="TnOptionOrder4",
        sms=None,
        a2p=A2pSettings(message_class="M", campaign_id="CA3XKE1"),
        numbers=OPTION_TNS,
    ),
    "tn_option_order_sms_off.xml": lambda: build_tn_option_order(
        customer_order_id="TnOptionOrder3", sms="off", a2p=None, numbers=OPTION_TNS
    ),
    "import_checker.xml": lambda: build_import_checker(
        site_id="486", sip_peer_id="500025", numbers=CHECKER_TNS
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_REQUESTS))
def test_builder_output_equals_golden_request_fixture(name: str) -> None:
    """Each builder produces, byte for byte, the request fixture the sandbox is built against."""
    assert GOLDEN_REQUESTS[name]() == (REQUESTS / name).read_bytes()


def test_every_request_fixture_has_a_golden_test() -> None:
    """No request fixture sits in the folder without a builder call pinning it."""
    assert sorted(p.name for p in REQUESTS.iterdir()) == sorted(GOLDEN_REQUESTS)


def test_guide_form_is_an_external_tns_order_without_action() -> None:
    """The guide's form is an `ExternalTnsOrder` with exactly the guide's elements, no `Action`."""
    root = etree.fromstring(GOLDEN_REQUESTS["import_order_seed_form.xml"]())
    assert root.tag == "ExternalTnsOrder"
    assert [child.tag for child in root] == [
        "CustomerOrderId",
        "SiteId",
        "SipPeerId",
        "LoaType",
        "TelephoneNumbers",
    ]
    assert root.findtext("LoaType") == "CARRIER"


def test_schema_form_writes_the_schema_element_order() -> None:
    """The schema's form lists its elements in `ImportTnOrderRequest` order, address included."""
    root = etree.fromstring(GOLDEN_REQUESTS["import_order_importtnorder_form.xml"]())
    assert root.tag == "ImportTnOrder"
    assert [child.tag for child in root] == [
        "CustomerOrderId",
        "SiteId",
        "SipPeerId",
        "Subscriber",
        "LoaAuthorizingPerson",
        "LoaType",
        "TelephoneNumbers",
    ]
    assert [child.tag for child in root.find("Subscriber/ServiceAddress")] == [
        "HouseNumber",
        "StreetName",
        "City",
        "StateCode",
        "Zip",
        "County",
    ]


def test_schema_form_without_subscriber_is_still_an_import_tn_order() -> None:
    """The form is chosen by the caller: no subscriber or LOA person (international numbers)
    still gives an `ImportTnOrder`, without those elements."""
    root = etree.fromstring(
        build_import_order(
            body_form="ImportTnOrder",
            customer_order_id="X",
            site_id="1",
            sip_peer_id=None,
            loa_type="SUBSCRIBER",
            numbers=["+441224003018"],
        )
    )
    assert root.tag == "ImportTnOrder"
    assert [child.tag for child in root] == [
        "CustomerOrderId",
        "SiteId",
        "LoaType",
        "TelephoneNumbers",
    ]


@pytest.mark.parametrize(
    ("form", "extra", "message"),
    [
        ("ExternalTnsOrder", {"subscriber": Subscriber(name="N")}, "has no such elements"),
        ("ExternalTnsOrder", {"loa_authorizing_person": "Jo"}, "has no such elements"),
        ("ImportTnOrders", {}, "expected one of ImportTnOrder, ExternalTnsOrder"),
    ],
)
def test_import_builder_refuses_elements_its_form_lacks_and_unknown_forms(
    form: str, extra: dict[str, object], message: str
) -> None:
    """The guide's form cannot carry a subscriber or LOA person; an unknown form is refused."""
    with pytest.raises(XmlError, match=message):
        build_import_order(
            body_form=form,
            customer_order_id="X",
            site_id="1",
            sip_peer_id=None,
            loa_type="CARRIER",
            numbers=["+19195551234"],
            **extra,  # type: ignore[arg-type]
        )


def test_import_order_omits_sip_peer_when_none() -> None:
    """A missing SIP peer leaves `SipPeerId` out so the site's default peer applies."""
    body = build_import_order(
        body_form="ImportTnOrder",
        customer_order_id="X",
        site_id="1",
        sip_peer_id=None,
        loa_type="CARRIER",
        numbers=["+1"],
    )
    assert b"SipPeerId" not in body


def test_loa_person_alone_gives_no_subscriber_element() -> None:
    """An LOA authorizing person without a subscriber writes no empty `Subscriber`."""
    root = etree.fromstring(
        build_import_order(
            body_form="ImportTnOrder",
            customer_order_id="X",
            site_id="1",
            sip_peer_id=None,
            loa_type="SUBSCRIBER",
            numbers=["+19195551234"],
            loa_authorizing_person="Jo Smith",
        )
    )
    assert root.tag == "ImportTnOrder"
    assert root.find("Subscriber") is None
    assert root.findtext("LoaAuthorizingPerson") == "Jo Smith"
    assert root.findtext("LoaType") == "SUBSCRIBER"


def test_subscriber_without_address_has_no_service_address() -> None:
    """A subscriber given only a name yields `Subscriber/Name` and no empty `ServiceAddress`."""
    root = etree.fromstring(
        build_import_order(
            body_form="ImportTnOrder",
            customer_order_id="X",
            site_id="1",
            sip_peer_id="2",
            loa_type="CARRIER",
            numbers=["+19195551234"],
            subscriber=Subscriber(name="Solo"),
        )
    )
    assert [child.tag for child in root.iterfind("Subscriber/*")] == ["Name"]


def test_partial_address_keeps_only_given_fields_in_order() -> None:
    """Address fields left as None are omitted; the rest keep the reference's element order."""
    root = etree.fromstring(
        build_import_order(
            body_form="ImportTnOrder",
            customer_order_id="X",
            site_id="1",
            sip_peer_id="2",
            loa_type="CARRIER",
            numbers=["+19195551234"],
            subscriber=Subscriber(name="N", city="Denver", house_number="7"),
        )
    )
    assert [(child.tag, child.text) for child in root.iterfind("Subscriber/ServiceAddress/*")] == [
        ("HouseNumber", "7"),
        ("City", "Denver"),
    ]


def test_builders_escape_markup_characters() -> None:
    """Values with `&`, `<` and `>` round-trip through the XML unchanged."""
    tricky = "A&B <C> \"D\" 'E'"
    body = build_import_order(
        body_form="ImportTnOrder",
        customer_order_id="X",
        site_id="1",
        sip_peer_id="2",
        loa_type="CARRIER",
        numbers=["+19195551234"],
        subscriber=Subscriber(name=tricky),
        loa_authorizing_person=tricky,
    )
    root = etree.fromstring(body)
    assert root.findtext("Subscriber/Name") == tricky
    assert root.findtext("LoaAuthorizingPerson") == tricky


def test_builders_preserve_line_breaks_in_values() -> None:
    """A value with CR LF reads back with its CR intact (a raw CR would become LF)."""
    body = build_import_order(
        body_form="ImportTnOrder",
        customer_order_id="X",
        site_id="1",
        sip_peer_id="2",
        loa_type="CARRIER",
        numbers=["+19195551234"],
        subscriber=Subscriber(name="Line 1\r\nLine 2"),
    )
    assert etree.fromstring(body).findtext("Subscriber/Name") == "Line 1\r\nLine 2"


def test_builders_keep_non_ascii_text_as_utf8() -> None:
    """Non-ASCII names are encoded as UTF-8, as the declaration says."""
    body = build_import_order(
        body_form="ImportTnOrder",
        customer_order_id="X",
        site_id="1",
        sip_peer_id="2",
        loa_type="CARRIER",
        numbers=["+19195551234"],
        subscriber=Subscriber(name="Café Ñandú"),
    )
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert "Café Ñandú".encode() in body


def test_builder_rejects_characters_xml_forbids() -> None:
    """A control character cannot be sent in XML 1.0, so building fails with XmlError."""
    with pytest.raises(XmlError, match=r"Name.*forbids"):
        build_import_order(
            body_form="ImportTnOrder",
            customer_order_id="X",
            site_id="1",
            sip_peer_id="2",
            loa_type="CARRIER",
            numbers=["+19195551234"],
            subscriber=Subscriber(name="bad\x00name"),
        )


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_import_order(
            body_form="ImportTnOrder",
            customer_order_id="X",
            site_id="1",
            sip_peer_id="2",
            loa_type="CARRIER",
            numbers=[],
        ),
        lambda: build_remove_order(customer_order_id="X", numbers=[]),
        lambda: build_tn_option_order(customer_order_id="X", sms="on", a2p=None, numbers=[]),
        lambda: build_import_checker(site_id="1", sip_peer_id=None, numbers=[]),
    ],
)
def test_builders_reject_an_empty_number_list(build: Callable[[], bytes]) -> None:
    """An order without numbers is refused before it reaches the API."""
    with pytest.raises(XmlError, match="no telephone numbers"):
        build()


def test_tn_option_order_needs_an_option() -> None:
    """A TN option order with neither Sms nor A2pSettings would change nothing, so it is refused."""
    with pytest.raises(XmlError, match="at least one option"):
        build_tn_option_order(customer_order_id="X", sms=None, a2p=None, numbers=["+1"])


def test_a2p_off_omits_class_and_campaign() -> None:
    """A2P action `off` carries no message class or campaign, only the action."""
    root = etree.fromstring(
        build_tn_option_order(
            customer_order_id="X", sms=None, a2p=A2pSettings(action="off"), numbers=["+1"]
        )
    )
    assert root.find("TnOptionGroups/TnOptionGroup/Sms") is None
    assert [el.tag for el in root.iterfind("TnOptionGroups/TnOptionGroup/A2pSettings/*")] == [
        "Action"
    ]


def test_five_thousand_numbers_round_trip_in_order() -> None:
    """A 5000-number body lists every number once, in the order given."""
    numbers = [f"+1919555{i:04d}" for i in range(5000)]
    body = build_import_order(
        body_form="ImportTnOrder",
        customer_order_id="X",
        site_id="1",
        sip_peer_id="2",
        loa_type="CARRIER",
        numbers=numbers,
    )
    root = parse_xml(body)
    assert [tn.text for tn in root.iterfind("TelephoneNumbers/TelephoneNumber")] == numbers
