"""Sandbox: the import body forms (`import_body_forms`) and their strict element sets
(`strict_schema`), and importTnChecker's required SiteId."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

PATH = "importTnOrders/messaging"
CHECKER = "importTnChecker"
ADDRESS_FIELDS = (
    ("HouseNumber", "11235"),
    ("StreetName", "Back"),
    ("City", "Denver"),
    ("StateCode", "CO"),
    ("Zip", "27541"),
)
LOA_PERSON = "<LoaAuthorizingPerson>The Authguy</LoaAuthorizingPerson>"
LOA_TYPE = "<LoaType>CARRIER</LoaType>"


def address(*, leave_out: tuple[str, ...] = (), extra: str = "") -> str:
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in ADDRESS_FIELDS if k not in leave_out)
    return f"<ServiceAddress>{fields}{extra}</ServiceAddress>"


SUBSCRIBER = f"<Subscriber><Name>ABC Inc.</Name>{address()}</Subscriber>"


def body(root: str, inner: str, *numbers: str) -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers or ("+19195550100",))
    return (
        f"<{root}><CustomerOrderId>form-1</CustomerOrderId><SiteId>743</SiteId>"
        f"<SipPeerId>303716</SipPeerId>{inner}<TelephoneNumbers>{tns}</TelephoneNumbers></{root}>"
    )


def refused(r: httpx.Response) -> list[tuple[str, str]]:
    """(Code, Description) of a 400 import answer, checking its shape 2 on the way."""
    assert r.status_code == 400, r.text
    root = ET.fromstring(r.content)
    assert root.tag == "ImportTnOrderResponse"
    assert root.findtext("ProcessingStatus") == "FAILED"
    assert [c.tag for c in root] == ["ProcessingStatus"] + ["Errors"] * (len(root) - 1)
    assert all([c.tag for c in e] == ["Code", "Description"] for e in root.findall("Errors"))
    return [(e.findtext("Code") or "", e.findtext("Description") or "") for e in root[1:]]


def seed(sandbox, data: dict[str, object]) -> None:
    r = httpx.post(sandbox.base_url + "/_sandbox/seed", json=data)
    assert r.status_code == 200, r.text


def test_both_forms_are_accepted_by_default(sandbox_client):
    """By default the schema's ImportTnOrder (complete for +1 numbers) and the guide's
    ExternalTnsOrder are both accepted."""
    schema_form = body("ImportTnOrder", SUBSCRIBER + LOA_PERSON + LOA_TYPE)
    guide_form = body("ExternalTnsOrder", LOA_TYPE, "+19195550101")
    assert sandbox_client.post(PATH, content=schema_form).status_code == 201
    assert sandbox_client.post(PATH, content=guide_form).status_code == 201


@pytest.mark.parametrize(
    ("forms", "sent"),
    [(["ImportTnOrder"], "ExternalTnsOrder"), (["ExternalTnsOrder"], "ImportTnOrder")],
)
def test_a_root_outside_import_body_forms_is_400_1019(sandbox, sandbox_client, forms, sent):
    """With `import_body_forms` narrowed to one form, the other root is refused 400 in the
    import error shape with one 1019 naming the root and the accepted form; nothing is created."""
    seed(sandbox, {"import_body_forms": forms})
    inner = SUBSCRIBER + LOA_PERSON + LOA_TYPE if sent == "ImportTnOrder" else LOA_TYPE
    errors = refused(sandbox_client.post(PATH, content=body(sent, inner)))
    assert errors == [
        (
            "1019",
            "Bad request encountered. Please check your request and try again. "
            f"The root element {sent} is not an accepted import body here "
            f"(accepted: {forms[0]}).",
        )
    ]
    assert sandbox.state.ledger_orders() == []


@pytest.mark.parametrize(
    ("inner", "errors"),
    [
        ("<Action>IMPORT</Action>" + LOA_TYPE, [("1005", "Action is not allowed")]),
        (SUBSCRIBER + LOA_TYPE, [("1005", "Subscriber is not allowed")]),
        (LOA_PERSON, [("1005", "LoaAuthorizingPerson is not allowed")]),
        (
            "<Flavour>x</Flavour><Action>IMPORT</Action>",
            [("1005", "Flavour is not allowed"), ("1005", "Action is not allowed")],
        ),
    ],
)
def test_guide_form_refuses_elements_it_does_not_have(sandbox_client, inner, errors):
    """ExternalTnsOrder carries CustomerOrderId, SiteId, SipPeerId, LoaType and TelephoneNumbers
    only: Action, Subscriber (once, not its children), LoaAuthorizingPerson or anything else is
    1005 "%s is not allowed"."""
    assert refused(sandbox_client.post(PATH, content=body("ExternalTnsOrder", inner))) == errors


def test_guide_form_needs_no_loa_type(sandbox_client):
    """The guide's form without LoaType is accepted (CARRIER by default)."""
    r = sandbox_client.post(PATH, content=body("ExternalTnsOrder", ""))
    assert r.status_code == 201
    assert ET.fromstring(r.content).findtext("ImportTnOrder/LoaType") == "CARRIER"


@pytest.mark.parametrize(
    ("inner", "missing"),
    [
        ("", ["Subscriber", "LoaAuthorizingPerson", "LoaType"]),
        (SUBSCRIBER, ["LoaAuthorizingPerson", "LoaType"]),
        ("<Subscriber><Name>ABC</Name></Subscriber>" + LOA_PERSON + LOA_TYPE,
         ["Subscriber/ServiceAddress"]),
        (f"<Subscriber>{address()}</Subscriber>{LOA_PERSON}{LOA_TYPE}", ["Subscriber/Name"]),
        (
            f"<Subscriber><Name>ABC</Name>{address(leave_out=('City', 'Zip'))}</Subscriber>"
            + LOA_PERSON + LOA_TYPE,
            ["Subscriber/ServiceAddress/City", "Subscriber/ServiceAddress/Zip"],
        ),
        (SUBSCRIBER + "<LoaAuthorizingPerson></LoaAuthorizingPerson>" + LOA_TYPE,
         ["LoaAuthorizingPerson"]),
    ],
)  # fmt: skip
def test_schema_form_for_nanp_numbers_needs_subscriber_and_loa(sandbox_client, inner, missing):
    """An ImportTnOrder with +1 numbers needs Subscriber (Name, ServiceAddress with HouseNumber,
    StreetName, City, StateCode, Zip), LoaAuthorizingPerson and LoaType: 1003 "%s is required"
    for each one missing or empty."""
    errors = refused(sandbox_client.post(PATH, content=body("ImportTnOrder", inner)))
    assert errors == [("1003", f"{path} is required") for path in missing]


def test_nanp_rule_applies_when_any_number_is_nanp(sandbox_client):
    """A non-+1 ImportTnOrder needs no Subscriber or LOA; one +1 number among others does."""
    foreign = body("ImportTnOrder", "", "+442071234567")
    mixed = body("ImportTnOrder", "", "+442071234568", "+19195550100")
    assert sandbox_client.post(PATH, content=foreign).status_code == 201
    assert [code for code, _ in refused(sandbox_client.post(PATH, content=mixed))] == [
        "1003",
        "1003",
        "1003",
    ]


@pytest.mark.parametrize(
    ("inner", "errors"),
    [
        (
            f"<Subscriber><Name>ABC</Name>{address(extra='<Planet>Mars</Planet>')}</Subscriber>"
            + LOA_PERSON + LOA_TYPE,
            [("1005", "Subscriber/ServiceAddress/Planet is not allowed")],
        ),
        (
            "<Action>IMPORT</Action>" + SUBSCRIBER + LOA_PERSON + LOA_TYPE,
            [("1005", "Action is not allowed")],
        ),
        (
            "<Notes><Note>x</Note></Notes>" + LOA_TYPE,
            [
                ("1005", "Notes is not allowed"),
                ("1003", "Subscriber is required"),
                ("1003", "LoaAuthorizingPerson is required"),
            ],
        ),
    ],
)  # fmt: skip
def test_schema_form_refuses_unknown_elements(sandbox_client, inner, errors):
    """Elements outside the ImportTnOrder schema (at any depth) are 1005, reported with the
    missing ones in one answer."""
    assert refused(sandbox_client.post(PATH, content=body("ImportTnOrder", inner))) == errors


def test_service_address_takes_the_request_schema_elements(sandbox_client):
    """County (in the excerpt's own request example) is allowed; other elements of the Address
    component are not: the import request's ServiceAddress lists its own five (the referee)."""

    def order(extra: str) -> str:
        subscriber = f"<Subscriber><Name>A</Name>{address(extra=extra)}</Subscriber>"
        return body("ImportTnOrder", subscriber + LOA_PERSON + LOA_TYPE)

    county = order("<County>Canyon</County>")
    assert sandbox_client.post(PATH, content=county).status_code == 201
    line2 = order("<AddressLine2>Suite 5</AddressLine2>")
    assert refused(sandbox_client.post(PATH, content=line2)) == [
        ("1005", "Subscriber/ServiceAddress/AddressLine2 is not allowed")
    ]


def test_lenient_seed_keeps_the_old_acceptance(sandbox, sandbox_client):
    """`strict_schema = false` (old rehearsal files): an ImportTnOrder for +1 numbers without
    Subscriber or LOA, and unknown elements, are accepted; Action is still 25000."""
    seed(sandbox, {"strict_schema": False})
    bare = body("ImportTnOrder", "<Flavour>x</Flavour>")
    assert sandbox_client.post(PATH, content=bare).status_code == 201
    with_action = body("ExternalTnsOrder", "<Action>IMPORT</Action>", "+19195550101")
    assert [code for code, _ in refused(sandbox_client.post(PATH, content=with_action))] == [
        "25000"
    ]


def test_v1_import_is_checked_the_same_way(sandbox, sandbox_client):
    """The v1 importTnOrders endpoint applies the same form rules (its numbers are NANP)."""
    url = f"{sandbox.base_url}/api/v1/accounts/9900012/importTnOrders"
    r = sandbox_client.post(url, content=body("ImportTnOrder", SUBSCRIBER, "9195550100"))
    assert [d for _, d in refused(r)] == ["LoaAuthorizingPerson is required", "LoaType is required"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"import_body_forms": []}, "import_body_forms"),
        ({"import_body_forms": ["ImportTnOrders"]}, "import_body_forms"),
        ({"strict_schema": "yes"}, "strict_schema"),
    ],
)
def test_bad_form_settings_are_seed_errors(sandbox, data, message):
    """An empty or unknown form list, or a non-boolean strict_schema, is refused by the seed."""
    r = httpx.post(sandbox.base_url + "/_sandbox/seed", json=data)
    assert r.status_code == 400
    assert message in r.json()["error"]


# -- importTnChecker ---------------------------------------------------------------------


def checker(inner: str) -> str:
    return (
        "<ImportTnCheckerPayload><TelephoneNumbers><TelephoneNumber>+13032281000</TelephoneNumber>"
        f"</TelephoneNumbers>{inner}</ImportTnCheckerPayload>"
    )


@pytest.mark.parametrize("inner", ["", "<SipPeerId>500025</SipPeerId>", "<SiteId></SiteId>"])
def test_checker_without_site_id_is_400_7309(sandbox_client, inner):
    """importTnChecker without a SiteId (or an empty one) answers 400 `ImportTnCheckerResponse`
    with one `Errors` 7309 and no ProcessingStatus, the excerpt's 400 shape."""
    r = sandbox_client.post(CHECKER, content=checker(inner))
    assert r.status_code == 400
    root = ET.fromstring(r.content)
    assert root.tag == "ImportTnCheckerResponse"
    assert [c.tag for c in root] == ["Errors"]
    assert [(c.tag, c.text) for c in root.find("Errors")] == [
        ("Code", "7309"),
        ("Description", "The site id was not supplied or is invalid."),
    ]


def test_checker_with_site_id_answers_200(sandbox_client):
    """With the SiteId the same payload is checked (200)."""
    r = sandbox_client.post(CHECKER, content=checker("<SiteId>486</SiteId>"))
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.findtext("ImportTnCheckerPayload/TelephoneNumbers/TelephoneNumber") == (
        "+13032281000"
    )


def test_checker_refuses_unknown_elements_unless_lenient(sandbox, sandbox_client):
    """An element outside ImportTnCheckerPayload's schema is 1005; `strict_schema = false`
    ignores it."""
    payload = checker("<SiteId>486</SiteId><LoaType>CARRIER</LoaType>")
    r = sandbox_client.post(CHECKER, content=payload)
    assert r.status_code == 400
    root = ET.fromstring(r.content)
    assert [(e.findtext("Code"), e.findtext("Description")) for e in root.findall("Errors")] == [
        ("1005", "LoaType is not allowed")
    ]
    seed(sandbox, {"strict_schema": False})
    assert sandbox_client.post(CHECKER, content=payload).status_code == 200
