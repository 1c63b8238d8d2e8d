"""Sandbox: per-number resources (SIP-peer TN, tndetails, in-service numbers), E911 addresses,
subscriptions, and the v1 externalTns data that `convert` reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

SIPPEER = "sites/743/sippeers/303716/tns/{}"
SMS_ON = (
    "<SipPeerTelephoneNumber><FullNumber>{}</FullNumber><MessagingSettings>"
    "<SmsEnabled>true</SmsEnabled></MessagingSettings></SipPeerTelephoneNumber>"
)


@pytest.fixture
def v1(sandbox, sandbox_credentials):
    """A client on the v1 URL of the default account."""
    auth = (sandbox_credentials.username, sandbox_credentials.password)
    with httpx.Client(base_url=f"{sandbox.base_url}/api/v1/accounts/9900012/", auth=auth) as c:
        yield c


@pytest.fixture
def seeded(sandbox):
    """One in-service number on site 743 / SIP peer 303716 and one imported."""
    sandbox.state.seed(
        {"numbers": [{"number": "+19195550100"}, {"number": "+19195550300", "kind": "imported"}]}
    )
    return sandbox


def test_sippeer_tn_get_shows_messaging_settings(seeded, sandbox_client):
    """GET answers SipPeerTelephoneNumberResponse with FullNumber and MessagingSettings."""
    r = sandbox_client.get(SIPPEER.format("+19195550300"))
    tn = ET.fromstring(r.content).find("SipPeerTelephoneNumber")
    assert tn.findtext("FullNumber") == "+19195550300"
    assert tn.findtext("MessagingSettings/SmsEnabled") == "false"
    assert [a.text for a in tn.findall("TnAttributes/TnAttribute")] == ["External", "Imported"]


def test_sippeer_tn_not_on_that_peer_is_404(seeded, sandbox_client):
    """A number that is not on that site/SIP peer answers 404."""
    assert sandbox_client.get("sites/486/sippeers/500025/tns/+19195550100").status_code == 404


def test_v2_sippeer_put_touching_messaging_is_the_seed_400(seeded, sandbox_client):
    """On v2 a PUT with MessagingSettings answers exactly the migration guide's 400 body."""
    r = sandbox_client.put(SIPPEER.format("+19195550100"), content=SMS_ON.format("+19195550100"))
    assert r.status_code == 400
    assert r.content == (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b"<SipPeerTelephoneNumberResponse><ResponseStatus><ErrorCode>400</ErrorCode>"
        b"<Description>Messaging service needs to be enabled/disabled via a TN Option order"
        b"</Description></ResponseStatus></SipPeerTelephoneNumberResponse>"
    )
    assert seeded.state.number("+19195550100").sms_enabled is False


def test_v2_sippeer_put_without_messaging_is_200(seeded, sandbox_client):
    """A v2 PUT that does not touch messaging succeeds with an empty body."""
    body = (
        "<SipPeerTelephoneNumber><FullNumber>+19195550100</FullNumber>"
        "<CallingNameDisplay>true</CallingNameDisplay></SipPeerTelephoneNumber>"
    )
    r = sandbox_client.put(SIPPEER.format("+19195550100"), content=body)
    assert (r.status_code, r.content) == (200, b"")


def test_sippeer_put_for_a_number_elsewhere_is_400_13536(seeded, sandbox_client):
    """A PUT for a number not on that SIP peer answers 400 13536."""
    r = sandbox_client.put(SIPPEER.format("+19195550999"), content=SMS_ON.format("+19195550999"))
    assert r.status_code == 400
    assert ET.fromstring(r.content).findtext("ResponseStatus/ErrorCode") == "13536"


def test_v1_sippeer_put_changes_sms_and_warns_when_already_on(seeded, v1):
    """On v1 the PUT still turns SMS on; doing it twice answers the documented Warning."""
    first = v1.put(SIPPEER.format("9195550100"), content=SMS_ON.format("9195550100"))
    assert (first.status_code, first.content) == (200, b"")
    assert seeded.state.number("+19195550100").sms_enabled is True
    again = ET.fromstring(
        v1.put(SIPPEER.format("9195550100"), content=SMS_ON.format("9195550100")).content
    )
    warning = again.find("SipPeerTelephoneNumber/Warnings/Warning")
    assert warning.findtext("TelephoneNumber") == "9195550100"
    assert warning.findtext("Description") == "SMS is already Enabled or number is in processing."


def test_tndetails_shows_hosted_messaging_state(seeded):
    """tndetails shows hosted-messaging service for imported numbers (with the Hosted attribute
    and one HostedTelephoneNumberDetail naming the account), voice for Bandwidth ones."""
    auth = ("sandbox", "sandbox")
    hosted = ET.fromstring(
        httpx.get(f"{seeded.base_url}/api/v2/tns/+19195550300/tndetails", auth=auth).content
    )
    details = hosted.find("TelephoneNumberDetails")
    assert hosted.tag == "TelephoneNumberResponse"
    assert [s.text for s in details.findall("ServiceTypes/ServiceType")] == ["Hosted Messaging"]
    assert details.findtext("TnAttributes/TnAttribute") == "Hosted"
    detail = details.find("HostedTelephoneNumberDetails/HostedTelephoneNumberDetail")
    assert detail.findtext("AccountId") == "9900012"
    assert detail.findtext("ServiceTypes/ServiceType") == "Hosted Messaging"
    assert details.findtext("MessagingSettings/SmsEnabled") == "false"
    own = ET.fromstring(
        httpx.get(f"{seeded.base_url}/api/v2/tns/+19195550100/tndetails", auth=auth).content
    ).find("TelephoneNumberDetails")
    assert own.find("HostedTelephoneNumberDetails") is None
    missing = httpx.get(f"{seeded.base_url}/api/v2/tns/+19195550999/tndetails", auth=auth)
    assert missing.status_code == 404


def test_inservice_numbers_v2_needs_country_with_area_code(seeded, sandbox_client):
    """v2 `areaCode` without `countryCodeA3` answers 400; with it, the numbers match."""
    bad = sandbox_client.get("inserviceNumbers", params={"areaCode": "919"})
    assert bad.status_code == 400
    assert ET.fromstring(bad.content).find("ResponseStatus/ErrorCode") is not None
    good = sandbox_client.get(
        "inserviceNumbers", params={"areaCode": "919", "countryCodeA3": "USA"}
    )
    assert [t.text for t in ET.fromstring(good.content).iter("TelephoneNumber")] == [
        "+19195550100",
        "+19195550300",
    ]


def test_inservice_numbers_pagination_and_204(sandbox, sandbox_client):
    """page/size paginate with `Link=<…>;rel=…` links; nothing matching answers 204."""
    sandbox.state.seed({"numbers": [{"number": "+19195550100", "count": 5}]})
    first = ET.fromstring(
        sandbox_client.get("inserviceNumbers", params={"page": 1, "size": 2}).content
    )
    assert first.tag == "TNs" and first.findtext("TotalCount") == "5"
    assert first.findtext("TelephoneNumbers/Count") == "2"
    next_link = first.findtext("Links/next")
    assert next_link.startswith("Link=<") and next_link.endswith('>;rel="next";')
    assert "page=2" in next_link and "size=2" in next_link
    last = ET.fromstring(
        sandbox_client.get("inserviceNumbers", params={"page": 3, "size": 2}).content
    )
    assert [t.text for t in last.iter("TelephoneNumber")] == ["+19195550104"]
    assert last.find("Links/next") is None
    empty = sandbox_client.get(
        "inserviceNumbers", params={"areaCode": "212", "countryCodeA3": "USA"}
    )
    assert (empty.status_code, empty.content) == (204, b"")
    totals = ET.fromstring(sandbox_client.get("inserviceNumbers/totals").content)
    assert totals.findtext("Count") == "5"
    assert sandbox_client.get("inserviceNumbers/+19195550100").status_code == 200
    assert sandbox_client.get("inserviceNumbers/+19195550999").status_code == 404


def test_v1_inservice_numbers_take_areacode_without_country(seeded, v1):
    """v1 accepts `areacode` alone and shows 10-digit numbers."""
    r = v1.get("inserviceNumbers", params={"areacode": "919"})
    assert [t.text for t in ET.fromstring(r.content).iter("TelephoneNumber")] == [
        "9195550100",
        "9195550300",
    ]


def test_e911_addresses_v2_and_addresses_v1(sandbox_client, v1):
    """v2 serves `e911Addresses`; v1 serves `addresses?type=e911` and needs `type`."""
    v2 = ET.fromstring(sandbox_client.get("e911Addresses").content)
    assert v2.tag == "AddressesResponse"
    assert v2.findtext("Addresses/Address/AddressType") == "E911"
    assert v1.get("addresses").status_code == 400
    assert ET.fromstring(v1.get("addresses", params={"type": "e911"}).content).tag == (
        "AddressesResponse"
    )


SUBSCRIPTION = (
    "<Subscription><OrderType>{}</OrderType><CallbackSubscription><URL>{}</URL>"
    "<Expiry>3600</Expiry>{}<CallbackCredentials><BasicAuthentication>"
    "<Username>u</Username><Password>p</Password></BasicAuthentication>"
    "</CallbackCredentials></CallbackSubscription></Subscription>"
)


def test_subscription_crud_and_number_format(sandbox_client, sandbox_account_url):
    """POST answers 201 with no body and a Location; GET shows it (E164 by default on v2,
    LEGACY when asked, never the password); DELETE removes it."""
    r = sandbox_client.post(
        "subscriptions",
        content=SUBSCRIPTION.format("importtnorders", "https://hooks.example.com/a", ""),
    )
    assert (r.status_code, r.content) == (201, b"")
    location = r.headers["location"]
    assert location.startswith(f"{sandbox_account_url}/subscriptions/")
    legacy = sandbox_client.post(
        "subscriptions",
        content=SUBSCRIPTION.format(
            "tnoptions", "https://hooks.example.com/b", "<NumberFormat>LEGACY</NumberFormat>"
        ),
    )
    one = ET.fromstring(sandbox_client.get(location).content)
    sub = one.find("Subscriptions/Subscription")
    assert sub.findtext("OrderType") == "importtnorders"
    assert sub.findtext("CallbackSubscription/NumberFormat") == "E164"
    assert sub.find(".//Password") is None
    listed = ET.fromstring(sandbox_client.get("subscriptions").content)
    assert [
        s.findtext("CallbackSubscription/NumberFormat")
        for s in listed.findall("Subscriptions/Subscription")
    ] == ["E164", "LEGACY"]
    assert sandbox_client.delete(legacy.headers["location"]).status_code == 200
    assert sandbox_client.get(legacy.headers["location"]).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            "<Subscription><CallbackSubscription><URL>https://x</URL></CallbackSubscription>"
            "</Subscription>",
            400,
            "14508",
        ),
        (SUBSCRIPTION.format("bogus", "https://x", ""), 400, "14500"),
        (SUBSCRIPTION.format("externalTns", "https://x", ""), 400, "14500"),
        (
            SUBSCRIPTION.format("orders", "https://x", "<NumberFormat>SHORT</NumberFormat>"),
            400,
            "14501",
        ),
    ],
)
def test_subscription_validation(sandbox_client, body, status, code):
    """Invalid subscriptions answer SubscriptionsResponse/ResponseStatus with the code."""
    r = sandbox_client.post("subscriptions", content=body)
    assert r.status_code == status
    assert ET.fromstring(r.content).findtext("ResponseStatus/ErrorCode") == code


def test_duplicate_subscription_is_409(sandbox_client):
    """The same subscription twice answers 409 16008."""
    body = SUBSCRIPTION.format("orders", "https://hooks.example.com/a", "")
    assert sandbox_client.post("subscriptions", content=body).status_code == 201
    again = sandbox_client.post("subscriptions", content=body)
    assert again.status_code == 409
    assert ET.fromstring(again.content).findtext("ResponseStatus/ErrorCode") == "16008"


EXTERNAL = (
    "<ExternalTnsOrder><CustomerOrderId>{coid}</CustomerOrderId><SiteId>743</SiteId>"
    "<SipPeerId>303716</SipPeerId><Action>{action}</Action><LoaType>CARRIER</LoaType>"
    "<TelephoneNumbers>{tns}</TelephoneNumbers></ExternalTnsOrder>"
)


def external(action: str, *numbers: str, coid: str = "ICPA123ABC") -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)
    return EXTERNAL.format(coid=coid, action=action, tns=tns)


def test_v1_external_tns_import_list_get(sandbox, v1):
    """v1 externalTns: POST (10-digit) answers 201; GET by id and the filtered list show full
    ExternalTnsOrder elements with 10-digit numbers; the numbers are imported."""
    r = v1.post("externalTns", content=external("IMPORT", "9199918388", "4158714245"))
    assert r.status_code == 201
    created = ET.fromstring(r.content)
    assert created.tag == "ExternalTnsOrderResponse"
    order = ET.fromstring(v1.get(r.headers["location"]).content)
    assert order.tag == "ExternalTnsOrder"
    assert order.findtext("Action") == "IMPORT"
    assert order.findtext("ProcessingStatus") == "COMPLETE"
    assert [t.text for t in order.iter("TelephoneNumber")] == ["9199918388", "4158714245"]
    assert sandbox.state.number("+19199918388").kind.value == "imported"
    v1.post("externalTns", content=external("REMOVE", "4158714245", coid="ICPA124ABC"))
    listed = ET.fromstring(v1.get("externalTns", params={"customerOrderId": "ICPA123ABC"}).content)
    assert listed.tag == "ExternalTnsOrders" and listed.findtext("TotalCount") == "1"
    removes = ET.fromstring(v1.get("externalTns", params={"action": "remove"}).content)
    assert [o.findtext("Action") for o in removes.findall("ExternalTnsOrder")] == ["REMOVE"]
    assert sandbox.state.number("+14158714245") is None


def test_v1_external_tns_errors(v1):
    """Bad Action answers 400 ResponseStatus 25000; no match answers 404; unknown id 404."""
    bad = v1.post("externalTns", content=external("MOVE", "9199918388"))
    assert bad.status_code == 400
    root = ET.fromstring(bad.content)
    assert root.tag == "ExternalTnsOrderResponse"
    assert root.findtext("ResponseStatus/ErrorCode") == "25000"
    assert v1.get("externalTns", params={"customerOrderId": "none"}).status_code == 404
    missing = v1.get("externalTns/0b0e5f4c-3a4e-4f5d-8b9c-7a6e5d4c3b2a")
    assert missing.status_code == 404
    assert ET.fromstring(missing.content).findtext("ResponseStatus/Description") == (
        "The resource does not exist"
    )


def test_v1_external_tns_list_pages_with_links(v1):
    """The v1 listing pages with page/size: Links/first and Links/next in the documented
    `Link=<url>;rel="next";` form until the last page; bad sizes answer 400 1006."""
    for i, n in enumerate(("9199918388", "4158714245", "4352154439")):
        v1.post("externalTns", content=external("IMPORT", n, coid=f"PAGE{i}"))
    first = ET.fromstring(v1.get("externalTns", params={"page": "1", "size": "2"}).content)
    assert first.findtext("TotalCount") == "3" and len(first.findall("ExternalTnsOrder")) == 2
    link = first.findtext("Links/next")
    assert link.startswith("Link=<http://") and link.endswith('>;rel="next";')
    assert "page=2" in link and "size=2" in link
    next_url = link[len("Link=<") : link.index(">")]
    last = ET.fromstring(v1.get(next_url).content)
    assert len(last.findall("ExternalTnsOrder")) == 1 and last.find("Links/next") is None
    seen = {o.findtext("CustomerOrderId") for o in [*first, *last] if o.tag == "ExternalTnsOrder"}
    assert seen == {"PAGE0", "PAGE1", "PAGE2"}
    bad = v1.get("externalTns", params={"size": "0"})
    assert bad.status_code == 400
    assert ET.fromstring(bad.content).findtext("ResponseStatus/ErrorCode") == "1006"
