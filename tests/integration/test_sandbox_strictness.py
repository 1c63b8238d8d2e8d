"""Sandbox: request bodies are judged by the published schema, both ways.

Refused: for each request operation, bodies breaking one rule each (a conforming body with
one change) answer the exact status, the endpoint's own error shape (checked by the strict
referee too) and the code and text `refusal.ANSWERS` gives that rule. Accepted: the excerpt's
own request examples, and v1 bodies in v1's number format. `strict_schema = false` keeps the
lenience of old rehearsal files.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from orchestrator.spec import operation_examples, validate_response

IMPORT = "CreateImportMessagingTnOrder"
REMOVE = "CreateRemoveImportedTnOrder"
OPTIONS = "CreateTnOptionOrder"
CHECKER = "CreateRequestImportTnChecker"
CREATE_SUB = "CreateSubscriptions"
UPDATE_SUB = "UpdateSubscription"

ADDRESS = (
    "<ServiceAddress><HouseNumber>11235</HouseNumber><StreetName>Back</StreetName>"
    "<City>Denver</City><StateCode>CO</StateCode><Zip>27541</Zip></ServiceAddress>"
)
SCHEMA_IMPORT = (
    "<ImportTnOrder><CustomerOrderId>form-1</CustomerOrderId><SiteId>743</SiteId>"
    "<SipPeerId>303716</SipPeerId><Subscriber><Name>ABC Inc.</Name>" + ADDRESS + "</Subscriber>"
    "<LoaAuthorizingPerson>The Authguy</LoaAuthorizingPerson><LoaType>CARRIER</LoaType>"
    "<TelephoneNumbers><TelephoneNumber>+19195550100</TelephoneNumber></TelephoneNumbers>"
    "</ImportTnOrder>"
)
GUIDE_IMPORT = (
    "<ExternalTnsOrder><CustomerOrderId>form-2</CustomerOrderId><SiteId>743</SiteId>"
    "<LoaType>CARRIER</LoaType><TelephoneNumbers><TelephoneNumber>+19195550101</TelephoneNumber>"
    "</TelephoneNumbers></ExternalTnsOrder>"
)
REMOVAL = (
    "<RemoveImportedTnOrder><CustomerOrderId>rem-1</CustomerOrderId><TelephoneNumbers>"
    "<TelephoneNumber>+19195550100</TelephoneNumber></TelephoneNumbers></RemoveImportedTnOrder>"
)
TN_OPTIONS = (
    "<TnOptionOrder><CustomerOrderId>opt-1</CustomerOrderId><TnOptionGroups><TnOptionGroup>"
    "<Sms>on</Sms><TelephoneNumbers><TelephoneNumber>+12018551020</TelephoneNumber>"
    "</TelephoneNumbers></TnOptionGroup></TnOptionGroups></TnOptionOrder>"
)
A2P = "<A2pSettings><CampaignId>CA3XKE1</CampaignId><Action>asSpecified</Action></A2pSettings>"
CHECK = (
    "<ImportTnCheckerPayload><TelephoneNumbers><TelephoneNumber>+13032281000</TelephoneNumber>"
    "</TelephoneNumbers><SiteId>486</SiteId></ImportTnCheckerPayload>"
)
SUBSCRIPTION = (
    "<Subscription><OrderType>importtnorders</OrderType><CallbackSubscription>"
    "<URL>https://hooks.example.com/a</URL><Expiry>3600</Expiry><NumberFormat>E164</NumberFormat>"
    "</CallbackSubscription></Subscription>"
)
EMAIL = (
    "<Subscription><EventType>MESSAGING_LOST</EventType><EmailSubscription>"
    "<Email>ops@example.com</Email><DigestRequested>DAILY</DigestRequested>"
    "</EmailSubscription></Subscription>"
)

SITE_TEXT = "The site id was not supplied or is invalid."
TN_REQUIRED = "Telephone number is required."
NOT_E164 = "TelephoneNumber is in an invalid format"
COID_TEXT = (
    "Customer order ID is invalid. Only alphanumeric values, dashes and spaces are allowed. "
    "Max length is 40 characters."
)
BAD_REQUEST = "Bad request encountered. Please check your request and try again."


def edit(body: str, old: str, new: str) -> str:
    """`body` with one change (the change must apply)."""
    assert old in body, old
    return body.replace(old, new, 1)


SI = SCHEMA_IMPORT
G1 = "TnOptionGroups/TnOptionGroup[1]"
CASES = [
    # (operation, label, body, code, description)
    (IMPORT, "unknown element", edit(SI, "<SiteId>", "<Flavour>x</Flavour><SiteId>"),
     1005, "Flavour is not allowed"),
    (IMPORT, "unknown nested element", edit(SI, "<Zip>", "<Planet>Mars</Planet><Zip>"),
     1005, "Subscriber/ServiceAddress/Planet is not allowed"),
    (IMPORT, "no SiteId", edit(SI, "<SiteId>743</SiteId>", ""), 7309, SITE_TEXT),
    (IMPORT, "SiteId not an integer", edit(SI, ">743<", ">north<"), 7309, SITE_TEXT),
    (IMPORT, "SipPeerId not an integer", edit(SI, ">303716<", ">x<"),
     7312, "The sippeer id is invalid."),
    (IMPORT, "SiteId twice", edit(SI, "<SiteId>", "<SiteId>743</SiteId><SiteId>"),
     1009, "'SiteId' is duplicated"),
    (IMPORT, "no TelephoneNumbers",
     edit(SI, "<TelephoneNumbers><TelephoneNumber>+19195550100</TelephoneNumber>"
              "</TelephoneNumbers>", ""), 5073, TN_REQUIRED),
    (IMPORT, "empty TelephoneNumbers",
     edit(SI, "<TelephoneNumber>+19195550100</TelephoneNumber>", ""), 5073, TN_REQUIRED),
    (IMPORT, "not E.164", edit(SI, "+19195550100", "9195550100"), 1022, NOT_E164),
    (IMPORT, "NANP without LoaAuthorizingPerson",
     edit(SI, "<LoaAuthorizingPerson>The Authguy</LoaAuthorizingPerson>", ""),
     1003, "LoaAuthorizingPerson is required"),
    (IMPORT, "Subscriber without Name", edit(SI, "<Name>ABC Inc.</Name>", ""),
     1003, "Subscriber/Name is required"),
    (IMPORT, "ServiceAddress without City", edit(SI, "<City>Denver</City>", ""),
     1003, "Subscriber/ServiceAddress/City is required"),
    (IMPORT, "LoaType outside its enum", edit(SI, ">CARRIER<", ">NOTARIZED<"),
     25110, "LoaType is absent or invalid. Possible values: carrier, subscriber"),
    (IMPORT, "Subscriber Name over 45", edit(SI, "ABC Inc.", "N" * 46),
     25131, "The Subscriber Name is too long. Maximum length is 45 characters."),
    (IMPORT, "CustomerOrderId characters", edit(SI, "form-1", "form_1"), 7318, COID_TEXT),
    (IMPORT, "CustomerOrderId over 40", edit(SI, "form-1", "x" * 41), 7318, COID_TEXT),
    (IMPORT, "text where elements belong", edit(SI, "<Subscriber>", "<Subscriber>hi"),
     1008, "'hi' is not a valid value"),
    (IMPORT, "a root that is no import form", "<ImportTnOrders/>", 1019,
     f"{BAD_REQUEST} The root element ImportTnOrders is not an accepted import body here "
     "(accepted: ImportTnOrder, ExternalTnsOrder)."),
    (IMPORT, "guide form with Action", edit(GUIDE_IMPORT, "<LoaType>", "<Action>IMPORT</Action>"
                                            "<LoaType>"), 1005, "Action is not allowed"),
    (IMPORT, "guide form with Subscriber",
     edit(GUIDE_IMPORT, "<LoaType>", "<Subscriber><Name>A</Name></Subscriber><LoaType>"),
     1005, "Subscriber is not allowed"),
    (IMPORT, "guide form LoaType", edit(GUIDE_IMPORT, ">CARRIER<", ">carrier<"),
     25110, "LoaType is absent or invalid. Possible values: carrier, subscriber"),
    (REMOVE, "unknown element", edit(REMOVAL, "<TelephoneNumbers>", "<SiteId>1</SiteId>"
                                     "<TelephoneNumbers>"), 1005, "SiteId is not allowed"),
    (REMOVE, "no TelephoneNumbers",
     "<RemoveImportedTnOrder><CustomerOrderId>r</CustomerOrderId></RemoveImportedTnOrder>",
     5073, TN_REQUIRED),
    (REMOVE, "not E.164", edit(REMOVAL, "+19195550100", "19195550100"), 1022, NOT_E164),
    (REMOVE, "CustomerOrderId characters", edit(REMOVAL, "rem-1", "rem.1"), 7318, COID_TEXT),
    (REMOVE, "foreign root", "<RemoveImportedTnOrders/>", 1019,
     f"{BAD_REQUEST} Root element is <RemoveImportedTnOrders>; expected <RemoveImportedTnOrder>."),
    (OPTIONS, "Sms outside its enum", edit(TN_OPTIONS, ">on<", ">maybe<"),
     5113, "Sms 'maybe' is invalid. Valid values are: on, off, unchanged"),
    (OPTIONS, "NumberFormat outside its enum",
     edit(TN_OPTIONS, "<Sms>on</Sms>", "<NumberFormat>wrong</NumberFormat>"),
     5081, "Number Format 'wrong' is invalid."),
    (OPTIONS, "RPIDFormat outside its enum",
     edit(TN_OPTIONS, "<Sms>on</Sms>", "<RPIDFormat>wrong</RPIDFormat>"),
     5089, "RPID Format 'wrong' is invalid."),
    (OPTIONS, "A2P Action outside its enum",
     edit(TN_OPTIONS, "<Sms>on</Sms>", "<Sms>on</Sms>" + A2P.replace("asSpecified", "always")),
     5138, "Action value is invalid. Valid values are: 'unchanged', 'systemDefault', 'off', "
           "'asSpecified'."),
    (OPTIONS, "campaign with Action off",
     edit(TN_OPTIONS, "<Sms>on</Sms>", "<Sms>on</Sms>" + A2P.replace("asSpecified", "off")),
     5134, "Attribute CampaignId is incompatible with such 'Action' values: "
           "'off, systemDefault, unchanged'"),
    (OPTIONS, "NANPA-only option on a non-+1 number",
     edit(edit(TN_OPTIONS, "+12018551020", "+442071234567"), "<Sms>on</Sms>", A2P),
     7201, "+442071234567 is not a valid NANPA telephone number."),
    (OPTIONS, "CampaignId over 64",
     edit(TN_OPTIONS, "<Sms>on</Sms>", A2P.replace("CA3XKE1", "C" * 65)),
     1011, f"{G1}/A2pSettings/CampaignId is too long. Max length 64 characters"),
    (OPTIONS, "PortOutPasscode under 4",
     edit(TN_OPTIONS, "<Sms>on</Sms>", "<PortOutPasscode>ab</PortOutPasscode>"),
     1012, f"{G1}/PortOutPasscode is too short. Min length 4 characters"),
    (OPTIONS, "CallingNameDisplay outside its enum",
     edit(TN_OPTIONS, "<Sms>on</Sms>", "<CallingNameDisplay>maybe</CallingNameDisplay>"),
     1008, "'maybe' is not a valid value"),
    (OPTIONS, "CallForward not E.164",
     edit(TN_OPTIONS, "<Sms>on</Sms>", "<CallForward>6042661720</CallForward>"),
     1008, "'6042661720' is not a valid value"),
    (OPTIONS, "Sms twice", edit(TN_OPTIONS, "<Sms>on</Sms>", "<Sms>on</Sms><Sms>off</Sms>"),
     1009, f"'{G1}/Sms' is duplicated"),
    (OPTIONS, "unknown element in a group", edit(TN_OPTIONS, "<Sms>on</Sms>", "<Mms>on</Mms>"),
     1005, f"{G1}/Mms is not allowed"),
    (OPTIONS, "group without TelephoneNumbers",
     edit(TN_OPTIONS, "<TelephoneNumbers><TelephoneNumber>+12018551020</TelephoneNumber>"
                      "</TelephoneNumbers>", ""), 5073, TN_REQUIRED),
    (OPTIONS, "no TnOptionGroup",
     "<TnOptionOrder><TnOptionGroups></TnOptionGroups></TnOptionOrder>",
     1003, "TnOptionGroups/TnOptionGroup is required"),
    (OPTIONS, "not E.164", edit(TN_OPTIONS, "+12018551020", "2018551020"), 1022, NOT_E164),
    (OPTIONS, "CustomerOrderId characters", edit(TN_OPTIONS, "opt-1", "opt#1"),
     7318, COID_TEXT),
    (CHECKER, "no number", edit(CHECK, "<TelephoneNumber>+13032281000</TelephoneNumber>", ""),
     7316, "At least one telephone number must be provided."),
    (CHECKER, "a number twice",
     edit(CHECK, "</TelephoneNumbers>", "<TelephoneNumber>+13032281000</TelephoneNumber>"
                                        "</TelephoneNumbers>"),
     7360, "Telephone number list can't contain duplicates."),
    (CHECKER, "more than 5000",
     edit(CHECK, "<TelephoneNumber>+13032281000</TelephoneNumber>",
          "".join(f"<TelephoneNumber>+1303228{i:04d}</TelephoneNumber>" for i in range(5001))),
     7314, "The number of telephone numbers provided exceeds the maximum 5000"),
    (CHECKER, "not E.164", edit(CHECK, "+13032281000", "61746052083"),
     7201, "61746052083 is not a valid NANPA telephone number."),
    (CHECKER, "no SiteId", edit(CHECK, "<SiteId>486</SiteId>", ""), 7309, SITE_TEXT),
    (CHECKER, "unknown element", edit(CHECK, "<SiteId>", "<LoaType>CARRIER</LoaType><SiteId>"),
     1005, "LoaType is not allowed"),
]  # fmt: skip

SUBSCRIPTION_CASES = [
    ("neither OrderType nor EventType", edit(SUBSCRIPTION, "<OrderType>importtnorders</OrderType>",
                                              ""), 14508,
     "OrderType or EventType should be specified."),
    ("OrderType outside its enum", edit(SUBSCRIPTION, ">importtnorders<", ">externalTns<"),
     14500, None),
    ("EventType outside its enum", edit(EMAIL, ">MESSAGING_LOST<", ">MESSAGING_FOUND<"),
     14507, "Incorrect event type. Valid values: MESSAGING_LOST"),
    ("callback without URL", edit(SUBSCRIPTION, "<URL>https://hooks.example.com/a</URL>", ""),
     14503, "Callback URL is empty"),
    ("NumberFormat outside its enum", edit(SUBSCRIPTION, ">E164<", ">SHORT<"),
     14501, "Subscription object is invalid"),
    ("OrderId not a UUID", edit(SUBSCRIPTION, "</OrderType>", "</OrderType><OrderId>7</OrderId>"),
     1008, "'7' is not a valid value"),
    ("email without DigestRequested", edit(EMAIL, "<DigestRequested>DAILY</DigestRequested>", ""),
     1003, "EmailSubscription/DigestRequested is required"),
    ("unknown element", edit(SUBSCRIPTION, "<Expiry>", "<Retries>3</Retries><Expiry>"),
     1005, "CallbackSubscription/Retries is not allowed"),
]  # fmt: skip

ENDPOINT = {  # operation -> (method, path, refusal root, error shape)
    IMPORT: ("POST", "importTnOrders/messaging", "ImportTnOrderResponse", "errors"),
    REMOVE: ("POST", "removeImportedTnOrders/messaging", "RemoveImportedTnOrdersResponse",
             "errors"),
    OPTIONS: ("POST", "tnoptions", "TnOptionOrderResponse", "status"),
    CHECKER: ("POST", "importTnChecker", "ImportTnCheckerResponse", "errors only"),
    CREATE_SUB: ("POST", "subscriptions", "SubscriptionsResponse", "status"),
    UPDATE_SUB: ("PUT", "subscriptions/{id}", "SubscriptionsResponse", "status"),
}  # fmt: skip


def refusals(operation: str, r: httpx.Response) -> list[tuple[int, str]]:
    """(code, description) of a 400 refusal, after checking the endpoint's error shape."""
    _method, _path, root_name, shape = ENDPOINT[operation]
    assert r.status_code == 400, r.text
    assert validate_response(operation, 400, r.content) == []
    root = ET.fromstring(r.content)
    assert root.tag == root_name
    if shape == "status":
        assert [c.tag for c in root] == ["ResponseStatus"]
        status = root[0]
        return [(int(status.findtext("ErrorCode") or 0), status.findtext("Description") or "")]
    expected = ["ProcessingStatus"] if shape == "errors" else []
    assert [c.tag for c in root][: len(expected)] == expected
    errors = root[len(expected) :]
    assert errors and all(e.tag == "Errors" for e in errors)
    if shape == "errors":
        assert root.findtext("ProcessingStatus") == "FAILED"
    return [(int(e.findtext("Code") or 0), e.findtext("Description") or "") for e in errors]


def send(client: httpx.Client, operation: str, body: str | bytes) -> httpx.Response:
    method, path, _root, _shape = ENDPOINT[operation]
    if "{id}" in path:
        created = client.post("subscriptions", content=EMAIL.replace("DAILY", "NONE"))
        assert created.status_code == 201, created.text
        path = path.format(id=created.headers["location"].rsplit("/", 1)[1])
    return client.request(method, path, content=body)


@pytest.mark.parametrize(
    ("operation", "label", "body", "code", "description"),
    CASES + [(op, *case) for op in (CREATE_SUB, UPDATE_SUB) for case in SUBSCRIPTION_CASES],
    ids=lambda value: value if isinstance(value, str) and len(value) < 60 else "",
)
def test_one_violation_one_refusal(sandbox, sandbox_client, operation, label, body, code,
                                   description):  # fmt: skip
    """A body breaking one schema rule answers 400 in the endpoint's own error shape with the
    one code (and text) the violation table gives that rule; nothing is created."""
    errors = refusals(operation, send(sandbox_client, operation, body))
    assert [c for c, _ in errors] == [code]
    if description is not None:
        assert errors == [(code, description)]
    assert sandbox.state.ledger_orders() == []


def test_every_violation_of_a_body_is_answered_at_once(sandbox_client):
    """Import and removal answer every violation (each code and text once), as the API does."""
    body = edit(
        edit(edit(SI, "<SiteId>743</SiteId>", ""), "<City>Denver</City>", "<Town>Denver</Town>"),
        "</TelephoneNumbers>",
        "<TelephoneNumber>9195550101</TelephoneNumber><TelephoneNumber>919</TelephoneNumber>"
        "</TelephoneNumbers>",
    )
    assert refusals(IMPORT, send(sandbox_client, IMPORT, body)) == [
        (1005, "Subscriber/ServiceAddress/Town is not allowed"),
        (1003, "Subscriber/ServiceAddress/City is required"),
        (1022, NOT_E164),
        (7309, SITE_TEXT),
    ]


def test_the_conforming_bodies_are_accepted(sandbox, sandbox_client):
    """The base bodies of the refusal table are accepted as they are (so each refusal above
    comes from its one change)."""
    sandbox.state.seed({"numbers": [{"number": "+12018551020"}]})
    accepted = {op: send(sandbox_client, op, body).status_code for op, body in (
        (IMPORT, SCHEMA_IMPORT), (REMOVE, REMOVAL), (OPTIONS, TN_OPTIONS), (CHECKER, CHECK),
        (CREATE_SUB, SUBSCRIPTION), (UPDATE_SUB, SUBSCRIPTION))}  # fmt: skip
    guide = send(sandbox_client, IMPORT, GUIDE_IMPORT).status_code
    assert (accepted, guide) == (
        {IMPORT: 201, REMOVE: 201, OPTIONS: 201, CHECKER: 200, CREATE_SUB: 201, UPDATE_SUB: 200},
        201,
    )


EXAMPLE_FIXES = {
    # The published subscription examples quote the callback URL ("\"http://yourhost:8080/...\"",
    # excerpt lines 1050-1074): a documentation artifact; the URL itself is what a client sends.
    CREATE_SUB: (
        b'"http://yourhost:8080/path/to/resource"',
        b"http://yourhost:8080/path/to/resource",
    ),
    UPDATE_SUB: (
        b'"http://yourhost:8080/path/to/resource"',
        b"http://yourhost:8080/path/to/resource",
    ),
}
EXPECTED_STATUS = {IMPORT: 201, REMOVE: 201, OPTIONS: 201, CHECKER: 200, CREATE_SUB: 201,
                   UPDATE_SUB: 200}  # fmt: skip
REQUEST_EXAMPLES = [e for e in operation_examples() if e.direction == "request"]


@pytest.mark.parametrize(
    "example", REQUEST_EXAMPLES, ids=[f"{e.operation_id}-{e.name}" for e in REQUEST_EXAMPLES]
)
def test_the_excerpt_request_examples_are_accepted(sandbox, sandbox_client, example):
    """Every request example of the excerpt (E.164 numbers, as published) is accepted by the
    strict sandbox (an account with the route-plan feature, for the TN option example)."""
    sandbox.state.seed({"accounts": [{"id": "9900012", "route_plan_enabled": True}]})
    body = example.body
    if example.operation_id in EXAMPLE_FIXES:
        body = body.replace(*EXAMPLE_FIXES[example.operation_id])
    r = send(sandbox_client, example.operation_id, body)
    assert r.status_code == EXPECTED_STATUS[example.operation_id], r.text


def test_the_examples_cover_every_request_operation():
    """The examples above reach every request operation the sandbox judges."""
    assert {e.operation_id for e in REQUEST_EXAMPLES} >= set(ENDPOINT)


# -- v1 and lenience ---------------------------------------------------------------------


def v1(sandbox, path: str) -> str:
    return f"{sandbox.base_url}/api/v1/accounts/9900012/{path}"


def test_v1_bodies_keep_v1_numbers(sandbox, sandbox_client):
    """v1 import, removal and checker bodies with 10-digit numbers are accepted (judged by the
    shared element set, their numbers read as +1); a v1 TN option order keeps v1's values (a
    10-digit CallForward) instead of v2's schema."""
    sandbox.state.seed({"numbers": [{"number": "+12018551020"}]})
    ten = [
        (
            "importTnOrders",
            edit(SCHEMA_IMPORT, "+19195550100", "9195550100"),
            201,
        ),
        ("removeImportedTnOrders", edit(REMOVAL, "+19195550100", "9195550100"), 201),
        ("importTnChecker", edit(CHECK, "+13032281000", "3032281000"), 200),
        (
            "tnoptions",
            edit(
                edit(TN_OPTIONS, "+12018551020", "2018551020"),
                "<Sms>on</Sms>",
                "<CallForward>6042661720</CallForward>",
            ),
            201,
        ),
    ]
    statuses = [sandbox_client.post(v1(sandbox, path), content=body).status_code
                for path, body, _ in ten]  # fmt: skip
    assert statuses == [status for _, _, status in ten]


def test_v1_bodies_are_judged_by_the_shared_element_set(sandbox, sandbox_client):
    """A v1 import with an element the element set lacks, or a number v1 cannot read, is
    refused like v2's (1005), with v1's own number code (5070)."""
    unknown = edit(edit(SI, "+19195550100", "9195550100"), "<SiteId>", "<Flavour/><SiteId>")
    bad = edit(SI, "+19195550100", "919555")
    answers = [
        refusals(IMPORT, sandbox_client.post(v1(sandbox, "importTnOrders"), content=body))
        for body in (unknown, bad)
    ]
    assert answers == [
        [(1005, "Flavour is not allowed")],
        [(5070, "Telephone number is invalid.")],
    ]


def test_lenient_seed_skips_the_schema(sandbox, sandbox_client):
    """`strict_schema = false`: a TN option group with an element the schema lacks and a
    subscription with an unknown element are accepted; business rules still apply (5113)."""
    r = httpx.post(sandbox.base_url + "/_sandbox/seed", json={"strict_schema": False})
    assert r.status_code == 200
    sandbox.state.seed({"numbers": [{"number": "+12018551020"}]})
    extra = edit(TN_OPTIONS, "<Sms>on</Sms>", "<Sms>on</Sms><Mms>on</Mms>")
    assert send(sandbox_client, OPTIONS, extra).status_code == 201
    sub = edit(SUBSCRIPTION, "<Expiry>", "<Retries>3</Retries><Expiry>")
    assert send(sandbox_client, CREATE_SUB, sub).status_code == 201
    maybe = edit(TN_OPTIONS, ">on<", ">maybe<")
    assert [c for c, _ in refusals(OPTIONS, send(sandbox_client, OPTIONS, maybe))] == [5113]
