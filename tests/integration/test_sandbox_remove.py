"""Sandbox: removal of imported numbers (`removeImportedTnOrders/messaging`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

PATH = "removeImportedTnOrders/messaging"


def remove_body(*numbers: str, coid: str = "bwm-run1-remove-0001") -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)
    return (
        f"<RemoveImportedTnOrder><CustomerOrderId>{coid}</CustomerOrderId>"
        f"<TelephoneNumbers>{tns}</TelephoneNumbers></RemoveImportedTnOrder>"
    )


def test_create_answers_plural_root_and_processing(sandbox_client, sandbox_account_url):
    """A removal answers 201, Location, `RemoveImportedTnOrdersResponse` and PROCESSING."""
    r = sandbox_client.post(PATH, content=remove_body("+19195550100"))
    assert r.status_code == 201
    root = ET.fromstring(r.content)
    assert root.tag == "RemoveImportedTnOrdersResponse"
    order_id = root.findtext("RemoveImportedTnOrder/OrderId")
    assert r.headers["location"] == f"{sandbox_account_url}/{PATH}/{order_id}"
    assert root.findtext("RemoveImportedTnOrder/ProcessingStatus") == "PROCESSING"


def test_removal_of_imported_number_completes_and_deletes_it(sandbox, sandbox_client):
    """Removing an imported number completes and the number is gone from the inventory."""
    sandbox.state.seed({"numbers": [{"number": "+19195550100", "kind": "imported"}]})
    r = sandbox_client.post(PATH, content=remove_body("+19195550100"))
    order = ET.fromstring(sandbox_client.get(r.headers["location"]).content)
    assert order.tag == "RemoveImportedTnOrder"
    assert order.findtext("ProcessingStatus") == "COMPLETE"
    assert order.find("Errors") is not None and len(order.find("Errors")) == 0
    assert sandbox.state.number("+19195550100") is None


def test_never_imported_number_fails_with_5158(sandbox, sandbox_client):
    """A number that was never imported fails with 5158; the others succeed (PARTIAL)."""
    sandbox.state.seed(
        {
            "numbers": [
                {"number": "+19195550100", "kind": "imported"},
                {"number": "+19195550200", "kind": "inservice"},
            ]
        }
    )
    r = sandbox_client.post(
        PATH, content=remove_body("+19195550100", "+14158714245", "+19195550200")
    )
    order = ET.fromstring(sandbox_client.get(r.headers["location"]).content)
    assert order.findtext("ProcessingStatus") == "PARTIAL"
    error = order.find("Errors/Error")
    assert error.findtext("Code") == "5158"
    assert error.findtext("Description") == "Telephone number hasn't been previously imported."
    assert [t.text for t in error.iter("TelephoneNumber")] == ["+14158714245", "+19195550200"]
    assert sandbox.state.number("+19195550200") is not None


def test_import_then_remove_round_trip(sandbox, sandbox_client):
    """A number imported through the API can be removed; removing it again fails (5158)."""
    body = (
        "<ExternalTnsOrder><SiteId>743</SiteId><TelephoneNumbers><TelephoneNumber>"
        "+19195550100</TelephoneNumber></TelephoneNumbers></ExternalTnsOrder>"
    )
    sandbox_client.post("importTnOrders/messaging", content=body)
    first = sandbox_client.post(PATH, content=remove_body("+19195550100", coid="r1"))
    second = sandbox_client.post(PATH, content=remove_body("+19195550100", coid="r2"))
    statuses = [
        ET.fromstring(sandbox_client.get(r.headers["location"]).content).findtext(
            "ProcessingStatus"
        )
        for r in (first, second)
    ]
    assert statuses == ["COMPLETE", "FAILED"]


def test_validation_errors_shape_2(sandbox_client):
    """Bad removal bodies answer 400 in shape 2 with the plural root: the schema's violations
    all at once (7318, 1022), and a conforming body's business rules after them (5093)."""
    r = sandbox_client.post(
        PATH,
        content=remove_body("9195550100", "+19195550100", "+19195550100", coid="no_underscores"),
    )
    root = ET.fromstring(r.content)
    assert r.status_code == 400
    assert root.tag == "RemoveImportedTnOrdersResponse"
    assert root.findtext("ProcessingStatus") == "FAILED"
    assert [e.findtext("Code") for e in root.findall("Errors")] == ["7318", "1022"]
    twice = sandbox_client.post(PATH, content=remove_body("+19195550100", "+19195550100"))
    assert [e.findtext("Code") for e in ET.fromstring(twice.content).findall("Errors")] == ["5093"]


def test_bad_uuid_is_400_1008_report_response(sandbox_client):
    """A malformed order id answers the documented RemoveImportedTnOrdersReportResponse 1008."""
    r = sandbox_client.get(f"{PATH}/not-a-uuid")
    root = ET.fromstring(r.content)
    assert r.status_code == 400
    assert root.tag == "RemoveImportedTnOrdersReportResponse"
    assert root.findtext("ResponseStatus/ErrorCode") == "1008"


def test_list_history_and_unknown_id(sandbox_client):
    """The list filters by customerOrderId; history exists; an unknown id is 400 (the
    excerpt's only error answer of the GET)."""
    url = sandbox_client.post(PATH, content=remove_body("+19195550100", coid="rm-1")).headers[
        "location"
    ]
    sandbox_client.post(PATH, content=remove_body("+19195550101", coid="rm-2"))
    listed = ET.fromstring(sandbox_client.get(PATH, params={"customerOrderId": "rm-1"}).content)
    assert listed.tag == "RemoveImportedTnOrders"
    assert listed.findtext("TotalCount") == "1"
    summary = listed.find("RemoveImportedTnOrderSummary")
    assert summary.findtext("OrderType") == "remove_imported_tn_orders"
    history = ET.fromstring(sandbox_client.get(url + "/history").content)
    assert history.tag == "OrderHistoryWrapper" and len(history) == 3
    assert sandbox_client.get(f"{PATH}/0b0e5f4c-3a4e-4f5d-8b9c-7a6e5d4c3b2a").status_code == 400


@pytest.mark.parametrize("suffix", ["", "/history"])
def test_unknown_id_is_400_resource_does_not_exist(sandbox_client, suffix):
    """A well-formed unknown id answers 400 `RemoveImportedTnOrdersReportResponse` with only a
    `ResponseStatus/Description` "The resource does not exist" (the excerpt's 400 example)."""
    r = sandbox_client.get(f"{PATH}/0b0e5f4c-3a4e-4f5d-8b9c-7a6e5d4c3b2a{suffix}")
    root = ET.fromstring(r.content)
    assert r.status_code == 400
    assert root.tag == "RemoveImportedTnOrdersReportResponse"
    assert [c.tag for c in root.find("ResponseStatus")] == ["Description"]
    assert root.findtext("ResponseStatus/Description") == "The resource does not exist"


def test_unknown_id_of_another_kind_is_400_too(sandbox_client):
    """An import order's id is unknown to the removal endpoint (400), not a removal."""
    body = (
        "<ExternalTnsOrder><SiteId>743</SiteId><TelephoneNumbers><TelephoneNumber>"
        "+19195550100</TelephoneNumber></TelephoneNumbers></ExternalTnsOrder>"
    )
    import_id = (
        sandbox_client.post("importTnOrders/messaging", content=body)
        .headers["location"]
        .rsplit("/", 1)[1]
    )
    assert sandbox_client.get(f"{PATH}/{import_id}").status_code == 400
