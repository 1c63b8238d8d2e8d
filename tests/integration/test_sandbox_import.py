"""Sandbox: v2 hosted-messaging import orders (create, validate, lifecycle, list, get, history)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from orchestrator.sandbox import ManualClock

PATH = "importTnOrders/messaging"


def import_body(
    *numbers: str,
    coid: str | None = "bwm-run1-import-0001",
    site: str = "743",
    peer: str | None = "303716",
    loa: str | None = "CARRIER",
    root: str = "ExternalTnsOrder",
    extra: str = "",
) -> str:
    parts = [f"<{root}>"]
    if coid is not None:
        parts.append(f"<CustomerOrderId>{coid}</CustomerOrderId>")
    parts.append(f"<SiteId>{site}</SiteId>")
    if peer is not None:
        parts.append(f"<SipPeerId>{peer}</SipPeerId>")
    parts.append(extra)
    if loa is not None:
        parts.append(f"<LoaType>{loa}</LoaType>")
    parts.append("<TelephoneNumbers>")
    parts += [f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers]
    parts.append(f"</TelephoneNumbers></{root}>")
    return "".join(parts)


ADDRESS = (
    "<ServiceAddress><HouseNumber>11235</HouseNumber><StreetName>Back</StreetName>"
    "<City>Denver</City><StateCode>CO</StateCode><Zip>27541</Zip><County>Canyon</County>"
    "</ServiceAddress>"
)
SUBSCRIBER = f"<Subscriber><Name>ABC Inc.</Name>{ADDRESS}</Subscriber>"
LOA_PERSON = "<LoaAuthorizingPerson>The Authguy</LoaAuthorizingPerson>"
NANP_EXTRA = SUBSCRIBER + LOA_PERSON  # what an ImportTnOrder for +1 numbers needs besides LoaType


def xml_of(response: httpx.Response) -> ET.Element:
    return ET.fromstring(response.content)


def error_codes(response: httpx.Response) -> list[str]:
    return [e.findtext("Code") or "" for e in xml_of(response).findall("Errors")]


def test_create_returns_201_location_and_received(sandbox_client, sandbox_account_url):
    """A valid seed-form import answers 201, a full Location URL and ProcessingStatus RECEIVED."""
    r = sandbox_client.post(PATH, content=import_body("+19195550100", "+19195550101"))
    assert r.status_code == 201
    root = xml_of(r)
    assert root.tag == "ImportTnOrderResponse"
    order = root.find("ImportTnOrder")
    assert order is not None
    order_id = order.findtext("OrderId")
    assert r.headers["location"] == f"{sandbox_account_url}/importTnOrders/messaging/{order_id}"
    assert order.findtext("ProcessingStatus") == "RECEIVED"
    assert order.findtext("CustomerOrderId") == "bwm-run1-import-0001"
    assert [t.text for t in order.iter("TelephoneNumber")] == ["+19195550100", "+19195550101"]
    assert r.headers["content-type"] == "application/xml; charset=utf-8"
    assert r.text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')


def test_importtnorder_form_is_accepted_with_subscriber(sandbox_client):
    """The schema's `ImportTnOrder` form is accepted and its Subscriber echoed."""
    r = sandbox_client.post(
        PATH, content=import_body("+19195550100", root="ImportTnOrder", extra=NANP_EXTRA)
    )
    assert r.status_code == 201
    order = xml_of(r).find("ImportTnOrder")
    assert order is not None
    assert order.findtext("Subscriber/Name") == "ABC Inc."
    assert order.findtext("Subscriber/ServiceAddress/County") == "Canyon"
    assert order.findtext("LoaAuthorizingPerson") == "The Authguy"


def test_loa_type_defaults_follow_the_body_form(sandbox_client):
    """Without LoaType, the guide's form defaults to CARRIER and ImportTnOrder (for a non-+1
    number, where LoaType is optional) to SUBSCRIBER."""
    seed = sandbox_client.post(PATH, content=import_body("+19195550100", loa=None))
    spec = sandbox_client.post(
        PATH, content=import_body("+442071234567", loa=None, root="ImportTnOrder", coid="b")
    )
    assert xml_of(seed).findtext("ImportTnOrder/LoaType") == "CARRIER"
    assert xml_of(spec).findtext("ImportTnOrder/LoaType") == "SUBSCRIBER"


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        (import_body("+19195550100", site="999"), ["7309"]),
        (import_body("+19195550100", site="999", peer="1"), ["7309", "7312"]),
        (import_body("+19195550100", peer="424242"), ["7312"]),
        (import_body("+19195550100", peer="500025"), ["7311"]),
        (import_body("+19195550100", coid="bad_id!"), ["7318"]),
        (import_body("+19195550100", coid="x" * 41), ["7318"]),
        (import_body("+19195550100", "+19195550100"), ["5093"]),
        (import_body("9195550100"), ["1022"]),
        (import_body("+1919555"), ["1022"]),
        (import_body("+19195550100", loa="NOTARIZED"), ["25110"]),
        (import_body(), ["5073"]),
        (
            import_body(
                "+19195550100",
                root="ImportTnOrder",
                extra=f"<Subscriber><Name>{'N' * 46}</Name>{ADDRESS}</Subscriber>{LOA_PERSON}",
            ),
            ["25131"],
        ),
    ],
)
def test_create_validation_errors(sandbox_client, body, codes):
    """Body-level errors answer 400 in shape 2 (FAILED + repeated Errors) with the real codes."""
    r = sandbox_client.post(PATH, content=body)
    assert r.status_code == 400
    root = xml_of(r)
    assert root.tag == "ImportTnOrderResponse"
    assert root.findtext("ProcessingStatus") == "FAILED"
    assert error_codes(r) == codes
    assert all(e.find("Error") is None for e in root.findall("Errors"))


def test_more_than_5000_numbers_is_5095(sandbox_client):
    """An order over the 5000-number cap is refused with 5095."""
    numbers = [f"+1919555{i:04d}" for i in range(5001)]
    r = sandbox_client.post(PATH, content=import_body(*numbers))
    assert r.status_code == 400
    assert error_codes(r) == ["5095"]


def test_cap_is_configurable(sandbox_factory, sandbox_client):
    """`max_numbers_per_order` lowers the cap and the 5095 text names it."""
    sandbox_factory(max_numbers_per_order=2)
    r = sandbox_client.post(
        PATH, content=import_body("+19195550100", "+19195550101", "+19195550102")
    )
    assert error_codes(r) == ["5095"]
    assert "maximum size of 2" in r.text


def test_lifecycle_received_processing_complete_changes_inventory_once(
    sandbox_factory, sandbox_client
):
    """With a manual clock an order is RECEIVED, then PROCESSING, then COMPLETE, and the
    number becomes imported exactly at completion."""
    clock = ManualClock()
    sandbox = sandbox_factory(order_delay_s=10.0, clock=clock)
    r = sandbox_client.post(PATH, content=import_body("+19195550100"))
    url = r.headers["location"]
    assert xml_of(sandbox_client.get(url)).findtext("ProcessingStatus") == "RECEIVED"
    assert sandbox.state.number("+19195550100") is None
    clock.advance(5.0)
    assert xml_of(sandbox_client.get(url)).findtext("ProcessingStatus") == "PROCESSING"
    assert sandbox.state.number("+19195550100") is None
    clock.advance(5.0)
    done = xml_of(sandbox_client.get(url))
    assert done.tag == "ImportTnOrder"
    assert done.findtext("ProcessingStatus") == "COMPLETE"
    record = sandbox.state.number("+19195550100")
    assert record is not None and record.kind.value == "imported" and record.imports == 1
    sandbox_client.get(url)
    assert sandbox.state.number("+19195550100").imports == 1


def test_partial_outcomes_use_bandwidth_and_rule_codes(sandbox, sandbox_client):
    """Bandwidth numbers fail with 19006, numbers imported elsewhere with 19005, failure rules
    with their code; the rest are imported and the order is PARTIAL."""
    sandbox.state.seed(
        {
            "accounts": [{"id": "5550001", "sites": [{"id": "1", "sip_peers": [{"id": "2"}]}]}],
            "numbers": [
                {"number": "+14109235436", "kind": "bandwidth"},
                {"number": "+19195550200", "kind": "inservice"},
                {"number": "+19195550300", "kind": "imported", "account": "5550001"},
            ],
            "failure_rules": [{"kind": "import", "numbers": ["+12262665583"], "code": 7518}],
        }
    )
    numbers = ["+19195550100", "+14109235436", "+19195550200", "+19195550300", "+12262665583"]
    r = sandbox_client.post(PATH, content=import_body(*numbers))
    order = xml_of(sandbox_client.get(r.headers["location"]))
    assert order.findtext("ProcessingStatus") == "PARTIAL"
    failed = {
        e.findtext("Code"): [t.text for t in e.iter("TelephoneNumber")]
        for e in order.findall("Errors/Error")
    }
    assert failed == {
        "19006": ["+14109235436", "+19195550200"],
        "19005": ["+19195550300"],
        "7518": ["+12262665583"],
    }
    assert order.find("Errors/Error/Description").text  # every error is described
    assert sandbox.state.number("+19195550100").kind.value == "imported"
    assert sandbox.state.number("+12262665583") is None


def test_all_numbers_failing_is_failed(sandbox, sandbox_client):
    """An order whose every number fails is FAILED."""
    sandbox.state.seed({"failure_rules": [{"kind": "import", "prefix": "+1919", "code": 19010}]})
    r = sandbox_client.post(PATH, content=import_body("+19195550100", "+19195550101"))
    order = xml_of(sandbox_client.get(r.headers["location"]))
    assert order.findtext("ProcessingStatus") == "FAILED"
    assert [e.findtext("Code") for e in order.findall("Errors/Error")] == ["19010"]


def test_reimport_on_same_account_succeeds_and_resets_sms(sandbox, sandbox_client):
    """Re-importing a number already imported here succeeds, counts, and resets SmsEnabled."""
    sandbox.state.seed(
        {"numbers": [{"number": "+19195550100", "kind": "imported", "sms_enabled": True}]}
    )
    r = sandbox_client.post(PATH, content=import_body("+19195550100"))
    assert (
        xml_of(sandbox_client.get(r.headers["location"])).findtext("ProcessingStatus") == "COMPLETE"
    )
    record = sandbox.state.number("+19195550100")
    assert record.imports == 2 and record.sms_enabled is False


def _create(client: httpx.Client, coid: str, *numbers: str) -> str:
    r = client.post(PATH, content=import_body(*numbers, coid=coid))
    assert r.status_code == 201
    return xml_of(r).findtext("ImportTnOrder/OrderId") or ""


def test_list_filters_and_summary_casing(sandbox, sandbox_client):
    """The list filters by customerOrderId, status (repeatable) and tn, with TotalCount and
    the documented mixed-case summary fields, newest first."""
    sandbox.state.seed(
        {"failure_rules": [{"kind": "import", "numbers": ["+19195550999"], "code": 7518}]}
    )
    first = _create(sandbox_client, "batch-1", "+19195550100")
    second = _create(sandbox_client, "batch-2", "+19195550999")
    third = _create(sandbox_client, "batch-2", "+19195550101")

    every = xml_of(sandbox_client.get(PATH))
    assert every.tag == "ImportTnOrders"
    assert every.findtext("TotalCount") == "3"
    assert [s.findtext("OrderId") for s in every.findall("ImportTnOrderSummary")] == [
        third,
        second,
        first,
    ]
    summary = every.find("ImportTnOrderSummary")
    assert [c.tag for c in summary] == [
        "accountId",
        "CountOfTNs",
        "CustomerOrderId",
        "userId",
        "lastModifiedDate",
        "OrderDate",
        "OrderType",
        "OrderStatus",
        "OrderId",
    ]
    assert summary.findtext("OrderType") == "import_tn_orders"

    by_coid = xml_of(sandbox_client.get(PATH, params={"customerOrderId": "batch-2"}))
    assert {s.findtext("OrderId") for s in by_coid.findall("ImportTnOrderSummary")} == {
        second,
        third,
    }
    failed = xml_of(sandbox_client.get(PATH, params=[("status", "FAILED")]))
    assert [s.findtext("OrderId") for s in failed.findall("ImportTnOrderSummary")] == [second]
    both = xml_of(sandbox_client.get(PATH, params=[("status", "failed"), ("status", "COMPLETE")]))
    assert both.findtext("TotalCount") == "3"
    by_tn = xml_of(sandbox_client.get(PATH, params={"tn": "+19195550101"}))
    assert [s.findtext("OrderId") for s in by_tn.findall("ImportTnOrderSummary")] == [third]


def test_empty_list_is_totalcount_zero(sandbox_client):
    """No matching order gives `<ImportTnOrders><TotalCount>0</TotalCount></ImportTnOrders>`."""
    r = sandbox_client.get(PATH, params={"customerOrderId": "nothing"})
    assert r.status_code == 200
    root = xml_of(r)
    assert root.tag == "ImportTnOrders" and [c.tag for c in root] == ["TotalCount"]
    assert root.findtext("TotalCount") == "0"


def test_list_omits_customer_order_id_when_absent(sandbox_client):
    """A summary of an order without CustomerOrderId has no CustomerOrderId element."""
    sandbox_client.post(PATH, content=import_body("+19195550100", coid=None))
    summary = xml_of(sandbox_client.get(PATH)).find("ImportTnOrderSummary")
    assert summary is not None and summary.find("CustomerOrderId") is None


def test_get_unknown_id_is_404_and_malformed_is_400_1008(sandbox_client):
    """A well-formed unknown id answers 404; a malformed one 400 with ResponseStatus 1008."""
    missing = sandbox_client.get(f"{PATH}/0b0e5f4c-3a4e-4f5d-8b9c-7a6e5d4c3b2a")
    assert missing.status_code == 404
    assert xml_of(missing).findtext("ResponseStatus/Description") == "The resource does not exist"
    bad = sandbox_client.get(f"{PATH}/not-a-uuid")
    assert bad.status_code == 400
    assert xml_of(bad).findtext("ResponseStatus/ErrorCode") == "1008"
    assert xml_of(bad).findtext("ResponseStatus/Description") == "'not-a-uuid' is not a valid UUID"


def test_history_lists_each_status_step(sandbox_factory, sandbox_client):
    """`/history` answers OrderHistoryWrapper with RECEIVED, PROCESSING and the terminal step."""
    clock = ManualClock()
    sandbox_factory(order_delay_s=2.0, clock=clock)
    url = sandbox_client.post(PATH, content=import_body("+19195550100")).headers["location"]
    first = xml_of(sandbox_client.get(url + "/history"))
    assert [h.findtext("Status") for h in first.findall("OrderHistory")] == ["RECEIVED"]
    clock.advance(2.0)
    done = xml_of(sandbox_client.get(url + "/history"))
    assert done.tag == "OrderHistoryWrapper"
    assert [h.findtext("Status") for h in done.findall("OrderHistory")] == [
        "RECEIVED",
        "PROCESSING",
        "COMPLETE",
    ]
    assert all(h.findtext("Note") and h.findtext("OrderDate") for h in done)


def test_exception_rule_ends_the_order_exception_in_get_list_and_history(
    sandbox_factory, sandbox_client
):
    """A `status = "EXCEPTION"` rule makes the import order end EXCEPTION: its GET shows the
    rule's code and description over every number of the order, nothing is imported, and the
    list (also `status=EXCEPTION`) and history say EXCEPTION."""
    clock = ManualClock()
    sandbox = sandbox_factory(order_delay_s=4.0, clock=clock)
    sandbox.state.seed(
        {
            "failure_rules": [
                {
                    "kind": "import",
                    "numbers": ["+19195550101"],
                    "code": 19010,
                    "description": "Unable to provision the telephone number.",
                    "status": "EXCEPTION",
                }
            ]
        }
    )
    r = sandbox_client.post(PATH, content=import_body("+19195550100", "+19195550101", coid="ex"))
    url = r.headers["location"]
    assert xml_of(sandbox_client.get(url)).findtext("ProcessingStatus") == "RECEIVED"
    clock.advance(4.0)
    order = xml_of(sandbox_client.get(url))
    assert order.findtext("ProcessingStatus") == "EXCEPTION"
    errors = [
        (
            e.findtext("Code"),
            e.findtext("Description"),
            [t.text for t in e.findall("TelephoneNumbers/TelephoneNumber")],
        )
        for e in order.findall("Errors/Error")
    ]
    assert errors == [
        ("19010", "Unable to provision the telephone number.", ["+19195550100", "+19195550101"])
    ]
    assert sandbox.state.number("+19195550100") is None
    listed = xml_of(sandbox_client.get(PATH, params=[("customerOrderId", "ex")]))
    assert [s.findtext("OrderStatus") for s in listed.findall("ImportTnOrderSummary")] == [
        "EXCEPTION"
    ]
    # the list's `status` filter names PROCESSING, COMPLETE, PARTIAL and FAILED only (the
    # excerpt's StatusQueryParam): asking for EXCEPTION is refused, as production would
    assert sandbox_client.get(PATH, params=[("status", "EXCEPTION")]).status_code == 400
    history = xml_of(sandbox_client.get(url + "/history"))
    assert [h.findtext("Status") for h in history] == ["RECEIVED", "PROCESSING", "EXCEPTION"]
    ledger = httpx.get(sandbox.base_url + "/_sandbox/ledger").json()
    assert [o["status"] for o in ledger["orders"]] == ["EXCEPTION"]


def test_exception_rule_does_not_touch_orders_without_its_numbers(sandbox, sandbox_client):
    """An order with none of the rule's numbers completes normally, and importTnChecker does not
    report the rule's numbers (an exception is not an importability verdict)."""
    sandbox.state.seed(
        {
            "failure_rules": [
                {"kind": "import", "numbers": ["+19195550101"], "code": 1010, "status": "EXCEPTION"}
            ]
        }
    )
    r = sandbox_client.post(PATH, content=import_body("+19195550100"))
    assert xml_of(sandbox_client.get(r.headers["location"])).findtext("ProcessingStatus") == (
        "COMPLETE"
    )
    checked = sandbox_client.post(
        "importTnChecker",
        content="<ImportTnCheckerPayload><TelephoneNumbers><TelephoneNumber>+19195550101"
        "</TelephoneNumber></TelephoneNumbers><SiteId>743</SiteId></ImportTnCheckerPayload>",
    )
    assert xml_of(checked).find("ImportTnCheckerPayload/ImportTnErrors") is None


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "remove", "status": "EXCEPTION"}, 'needs kind = "import"'),
        ({"kind": "tnoptions", "status": "EXCEPTION"}, 'needs kind = "import"'),
        ({"kind": "import", "status": "FAILED"}, 'status must be "EXCEPTION"'),
    ],
)
def test_exception_rules_are_import_only(sandbox, rule, message):
    """Only import orders end EXCEPTION: a seed asking it of another kind (or another status)
    is refused with a message saying so."""
    seed = {"failure_rules": [rule | {"numbers": ["+19195550100"], "code": 1010}]}
    r = httpx.post(sandbox.base_url + "/_sandbox/seed", json=seed)
    assert r.status_code == 400
    assert message in r.json()["error"]
