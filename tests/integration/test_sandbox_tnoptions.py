"""Sandbox: TN option orders (SMS on/off, A2P) and their effect on the inventory."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from orchestrator.sandbox import ManualClock

PATH = "tnoptions"


def group(*numbers: str, sms: str | None = "on", a2p: str = "", extra: str = "") -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)
    sms_el = f"<Sms>{sms}</Sms>" if sms is not None else ""
    return (
        f"<TnOptionGroup>{sms_el}{extra}{a2p}<TelephoneNumbers>{tns}</TelephoneNumbers>"
        "</TnOptionGroup>"
    )


def order_body(*groups: str, coid: str = "bwm-run1-sms-0001") -> str:
    return (
        f"<TnOptionOrder><CustomerOrderId>{coid}</CustomerOrderId><TnOptionGroups>"
        f"{''.join(groups)}</TnOptionGroups></TnOptionOrder>"
    )


A2P = (
    "<A2pSettings><MessageClass>M</MessageClass><CampaignId>CA3XKE1</CampaignId>"
    "<Action>asSpecified</Action></A2pSettings>"
)


@pytest.fixture
def numbers(sandbox):
    """Two in-service numbers (one with SMS already on), one imported, one on a peer without
    the SMS feature."""
    sandbox.state.seed(
        {
            "numbers": [
                {"number": "+12018551020", "sms_enabled": True},
                {"number": "+12018551021"},
                {"number": "+19195550300", "kind": "imported"},
                {"number": "+19195550400", "site": "744"},
            ]
        }
    )
    return sandbox


def test_create_echoes_groups_and_is_received(numbers, sandbox_client, sandbox_account_url):
    """A TN option order answers 201, Location, RECEIVED, echoed groups and an empty ErrorList."""
    r = sandbox_client.post(PATH, content=order_body(group("+12018551021", a2p=A2P)))
    assert r.status_code == 201
    root = ET.fromstring(r.content)
    assert root.tag == "TnOptionOrderResponse"
    order = root.find("TnOptionOrder")
    assert r.headers["location"] == f"{sandbox_account_url}/tnoptions/{order.findtext('OrderId')}"
    assert order.findtext("ProcessingStatus") == "RECEIVED"
    assert order.findtext("TnOptionGroups/TnOptionGroup/A2pSettings/CampaignId") == "CA3XKE1"
    assert order.find("ErrorList") is not None and len(order.find("ErrorList")) == 0


def test_sms_on_and_a2p_change_the_inventory(numbers, sandbox_client):
    """Completing `Sms on` + A2P sets SmsEnabled, the campaign and the class (seen in tndetails);
    SMS alone turns SMS on for an imported number."""
    r = sandbox_client.post(PATH, content=order_body(group("+12018551021", a2p=A2P)))
    order = ET.fromstring(sandbox_client.get(r.headers["location"]).content)
    assert order.findtext("ProcessingStatus") == "COMPLETE"
    sandbox_client.post(PATH, content=order_body(group("+19195550300"), coid="sms-only"))
    details = ET.fromstring(
        sandbox_client.get(f"{numbers.base_url}/api/v2/tns/+12018551021/tndetails").content
    )
    settings = details.find("TelephoneNumberDetails/MessagingSettings")
    assert settings.findtext("SmsEnabled") == "true"
    assert settings.findtext("CampaignId") == "CA3XKE1"
    assert settings.findtext("MessageClass") == "M"
    assert numbers.state.number("+19195550300").sms_enabled is True


def test_sms_off_clears_sms_and_campaign(numbers, sandbox_client):
    """`Sms off` turns SMS off and drops the A2P campaign."""
    numbers.state.seed(
        {
            "numbers": [
                {
                    "number": "+12018551022",
                    "sms_enabled": True,
                    "campaign_id": "C1",
                    "message_class": "M",
                }
            ]
        }
    )
    sandbox_client.post(PATH, content=order_body(group("+12018551022", sms="off")))
    record = numbers.state.number("+12018551022")
    assert (record.sms_enabled, record.campaign_id) == (False, None)


def test_per_number_errors_and_warnings(numbers, sandbox_client):
    """Per-number ErrorList (5076 not on account, 5166 peer without SMS, 1022 for an E.164-shaped
    number that is no +1 number, 5132 A2P with SMS off) and the documented Warning for SMS
    already on; the order is PARTIAL."""
    body = order_body(
        group("+12018551020", "+12018551025", "+19195550400", "+1201855102"),
        group("+12018551021", sms="off", a2p=A2P),
    )
    r = sandbox_client.post(PATH, content=body)
    order = ET.fromstring(sandbox_client.get(r.headers["location"]).content)
    assert order.tag == "TnOptionOrder"
    assert order.findtext("ProcessingStatus") == "PARTIAL"
    errors = [
        (e.findtext("Code"), e.findtext("TelephoneNumber"))
        for e in order.findall("ErrorList/Error")
    ]
    assert errors == [
        ("5076", "+12018551025"),
        ("5166", "+19195550400"),
        ("1022", "+1201855102"),
        ("5132", "+12018551021"),
    ]
    descriptions = {
        e.findtext("Code"): e.findtext("Description") for e in order.findall("ErrorList/Error")
    }
    assert descriptions["5076"] == "Telephone number is not available."
    warning = order.find("Warnings/Warning")
    assert warning.findtext("TelephoneNumber") == "+12018551020"
    assert warning.findtext("Description") == "SMS is already Enabled or number is in processing."


def test_non_sms_option_on_imported_number_is_5128(numbers, sandbox_client):
    """Only SMS may change on an imported (external) number: 5128 otherwise."""
    body = order_body(group("+19195550300", extra="<CallForward>+19195550999</CallForward>"))
    order = ET.fromstring(
        sandbox_client.get(sandbox_client.post(PATH, content=body).headers["location"]).content
    )
    assert order.findtext("ProcessingStatus") == "FAILED"
    assert order.findtext("ErrorList/Error/Code") == "5128"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            order_body(group("+12018551021", sms=None, extra="<NumberFormat>wrong</NumberFormat>")),
            "5081",
        ),
        (order_body(group("+12018551021", sms="maybe")), "5113"),
        (order_body(group("+12018551021", sms=None)), "5115"),
        (order_body(), "1003"),  # the schema: TnOptionGroups needs a TnOptionGroup
        (order_body(group("+12018551021"), coid="bad*id"), "7318"),
        (order_body(group("+12018551021"), group("+12018551021", sms="off")), "5093"),
        (
            order_body(
                group("+12018551021", a2p="<A2pSettings><Action>sometimes</Action></A2pSettings>")
            ),
            "5138",
        ),
        (
            order_body(
                group(
                    "+12018551021",
                    a2p="<A2pSettings><CampaignId>C</CampaignId><Action>off</Action></A2pSettings>",
                )
            ),
            "5134",
        ),
    ],
)
def test_body_level_errors_are_400_response_status(numbers, sandbox_client, body, code):
    """Body-level errors answer 400 `TnOptionOrderResponse/ResponseStatus` with the code."""
    r = sandbox_client.post(PATH, content=body)
    root = ET.fromstring(r.content)
    assert r.status_code == 400
    assert root.tag == "TnOptionOrderResponse"
    assert root.findtext("ResponseStatus/ErrorCode") == code
    assert root.findtext("ResponseStatus/Description")


def test_number_format_error_text(numbers, sandbox_client):
    """5081 carries the documented text."""
    body = order_body(group("+12018551021", sms=None, extra="<NumberFormat>wrong</NumberFormat>"))
    root = ET.fromstring(sandbox_client.post(PATH, content=body).content)
    assert root.findtext("ResponseStatus/Description") == "Number Format 'wrong' is invalid."


def test_route_plan_without_feature_is_409_5200(numbers, sandbox_client):
    """An OriginationRoutePlan on an account without the feature answers 409 5200."""
    body = order_body(
        group(
            "+12018551021",
            sms=None,
            extra="<OriginationRoutePlan><Action>off</Action></OriginationRoutePlan>",
        )
    )
    r = sandbox_client.post(PATH, content=body)
    assert r.status_code == 409
    assert ET.fromstring(r.content).findtext("ResponseStatus/ErrorCode") == "5200"


def test_unknown_id_is_404_report_response(sandbox_client):
    """An unknown (or malformed) id answers 404 TnOptionOrderReportResponse."""
    for order_id in ("0b0e5f4c-3a4e-4f5d-8b9c-7a6e5d4c3b2a", "nope"):
        r = sandbox_client.get(f"{PATH}/{order_id}")
        root = ET.fromstring(r.content)
        assert r.status_code == 404
        assert root.tag == "TnOptionOrderReportResponse"
        assert root.findtext("ResponseStatus/Description") == "The resource does not exist"


def test_list_filters_and_history(numbers, sandbox_factory, sandbox_client):
    """The list (inside `TnOptionOrderReportResponse` on v2, as the excerpt shows it) filters by
    customerOrderId/status/tn; history steps follow the clock."""
    clock = ManualClock()
    sandbox = sandbox_factory(order_delay_s=4.0, clock=clock)
    sandbox.state.seed({"numbers": [{"number": "+12018551021"}]})
    url = sandbox_client.post(
        PATH, content=order_body(group("+12018551021"), coid="opt-1")
    ).headers["location"]
    sandbox_client.post(PATH, content=order_body(group("+12018551021", sms="off"), coid="opt-2"))
    report = ET.fromstring(sandbox_client.get(PATH, params={"customerOrderId": "opt-1"}).content)
    assert report.tag == "TnOptionOrderReportResponse" and len(report) == 1
    listed = report.find("TnOptionOrders")
    assert listed.findtext("TotalCount") == "1"
    summary = listed.find("TnOptionOrderSummary")
    assert summary.findtext("OrderType") == "tn_option"
    assert summary.findtext("OrderStatus") == "RECEIVED"
    received = ET.fromstring(sandbox_client.get(PATH, params={"status": "RECEIVED"}).content)
    assert received.findtext("TnOptionOrders/TotalCount") == "2"
    by_tn = ET.fromstring(sandbox_client.get(PATH, params={"tn": "+12018551021"}).content)
    assert by_tn.findtext("TnOptionOrders/TotalCount") == "2"
    clock.advance(4.0)
    history = ET.fromstring(sandbox_client.get(url + "/history").content)
    assert [h.findtext("Status") for h in history] == ["RECEIVED", "PROCESSING", "COMPLETE"]
    done = ET.fromstring(sandbox_client.get(PATH, params={"status": "COMPLETE"}).content)
    assert done.findtext("TnOptionOrders/TotalCount") == "2"


def test_v2_list_rejects_10_digit_tn_filter(sandbox_client):
    """On v2 a non-E.164 `tn` filter answers 400 ResponseStatus 1022."""
    r = sandbox_client.get(PATH, params={"tn": "2018551021"})
    assert r.status_code == 400
    assert ET.fromstring(r.content).findtext("ResponseStatus/ErrorCode") == "1022"


def _get_order(client, body: str) -> ET.Element:
    r = client.post(PATH, content=body)
    assert r.status_code == 201, r.text
    return ET.fromstring(client.get(r.headers["location"]).content)


def test_a2p_on_imported_numbers_is_5128_per_number_partial(numbers, sandbox_client):
    """A group with A2pSettings fails 5128 for each imported (hosted) number, one ErrorList
    Error per number, while the in-service number of the group gets A2P: the order is PARTIAL."""
    numbers.state.seed({"numbers": [{"number": "+19195550301", "kind": "imported"}]})
    order = _get_order(
        sandbox_client, order_body(group("+19195550300", "+12018551021", "+19195550301", a2p=A2P))
    )
    assert order.findtext("ProcessingStatus") == "PARTIAL"
    errors = [
        (e.findtext("Code"), e.findtext("Description"), e.findtext("TelephoneNumber"))
        for e in order.findall("ErrorList/Error")
    ]
    text = "Only SMS attribute can be changed for External telephone number(s)."
    assert errors == [("5128", text, "+19195550300"), ("5128", text, "+19195550301")]
    hosted = numbers.state.number("+19195550300")
    assert (hosted.sms_enabled, hosted.campaign_id) == (False, None)
    assert numbers.state.number("+12018551021").campaign_id == "CA3XKE1"


def test_a2p_only_group_on_imported_numbers_is_failed(numbers, sandbox_client):
    """A2pSettings without Sms (the chained A2P order) on only imported numbers: every number
    fails 5128 and the order is FAILED; an SMS-only order on the same numbers then succeeds."""
    numbers.state.seed({"numbers": [{"number": "+19195550301", "kind": "imported"}]})
    hosted = ("+19195550300", "+19195550301")
    failed = _get_order(sandbox_client, order_body(group(*hosted, sms=None, a2p=A2P), coid="a2p"))
    assert failed.findtext("ProcessingStatus") == "FAILED"
    assert [(e.findtext("Code"), e.findtext("TelephoneNumber")) for e in failed.iter("Error")] == [
        ("5128", "+19195550300"),
        ("5128", "+19195550301"),
    ]
    sms = _get_order(sandbox_client, order_body(group(*hosted), coid="sms"))
    assert sms.findtext("ProcessingStatus") == "COMPLETE"
    assert len(sms.find("ErrorList")) == 0
    assert all(numbers.state.number(n).sms_enabled for n in hosted)


def test_a2p_on_a_number_hosted_elsewhere_is_5076_not_5128(numbers, sandbox_client):
    """5128 is about numbers hosted on this account; one hosted on another account is not
    this account's number (5076)."""
    numbers.state.seed(
        {
            "accounts": [{"id": "5550001", "sites": [{"id": "1", "sip_peers": [{"id": "2"}]}]}],
            "numbers": [{"number": "+19195550900", "kind": "imported", "account": "5550001"}],
        }
    )
    order = _get_order(sandbox_client, order_body(group("+19195550900", a2p=A2P)))
    assert order.findtext("ErrorList/Error/Code") == "5076"
