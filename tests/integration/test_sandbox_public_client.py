"""Sandbox: a client that knows only the public API can use it without special cases.

Two clients: Bandwidth's official Python numbers SDK (`bandwidth-numbers-sdk`, imported as
`bandwidth_numbers`; skipped when not installed), and plain httpx speaking only documented
shapes (always runs). Both create and read TN option orders and call importTnChecker.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest


@pytest.fixture
def inventory(sandbox):
    """An in-service number and a Bandwidth-owned one."""
    sandbox.state.seed(
        {"numbers": [{"number": "+12018551020"}, {"number": "+14109235436", "kind": "bandwidth"}]}
    )
    return sandbox


def test_official_sdk_creates_and_reads_tn_options_and_checks_imports(inventory):
    """bandwidth_numbers (Basic auth, base URL .../api/v2) creates, gets and lists a TN option
    order and runs importTnChecker against the sandbox."""
    sdk = pytest.importorskip("bandwidth_numbers")
    client = sdk.Client(
        url=inventory.base_url + "/api/v2",
        account_id="9900012",
        username="sandbox",
        password="sandbox",
    )
    account = sdk.Account(client=client)
    order = account.tn_option_orders.create(
        {
            "customer_order_id": "sdk-order-1",
            "tn_option_groups": {
                "tn_option_group": [
                    {"sms": "on", "telephone_numbers": {"telephone_number": ["+12018551020"]}}
                ]
            },
        }
    )
    assert order.processing_status == "RECEIVED"
    fetched = account.tn_option_orders.get(order.order_id)
    assert (fetched.processing_status, fetched.customer_order_id) == ("COMPLETE", "sdk-order-1")
    listed = account.tn_option_orders.list({"customerOrderId": "sdk-order-1"})
    assert listed.total_count == "1"
    assert listed.tn_option_order_summary.items[0].order_id == order.order_id
    result = account.import_tn_checker(["+12018551099", "+14109235436"])
    assert result.import_tn_checker_payload.telephone_numbers.items == ["+12018551099"]
    assert inventory.state.number("+12018551020").sms_enabled is True


def test_documented_shapes_only_client(inventory):
    """A client using only documented requests (OAuth2 token, Bearer, XML bodies, Location,
    ErrorList/ImportTnErrors by element name) completes the same round trip."""
    base = inventory.base_url
    token = httpx.post(
        f"{base}/api/v1/oauth2/token",
        auth=("sandbox-client", "sandbox-secret"),
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/xml",
        "Accept": "application/xml",
    }
    with httpx.Client(base_url=f"{base}/api/v2/accounts/9900012/", headers=headers) as api:
        created = api.post(
            "tnoptions",
            content=(
                "<TnOptionOrder><CustomerOrderId>plain-1</CustomerOrderId><TnOptionGroups>"
                "<TnOptionGroup><Sms>on</Sms><TelephoneNumbers><TelephoneNumber>+12018551020"
                "</TelephoneNumber></TelephoneNumbers></TnOptionGroup></TnOptionGroups>"
                "</TnOptionOrder>"
            ),
        )
        assert created.status_code == 201
        order_id = created.headers["location"].rsplit("/", 1)[1]
        order = ET.fromstring(api.get(f"tnoptions/{order_id}").content)
        assert order.findtext(".//ProcessingStatus") == "COMPLETE"
        assert order.find(".//ErrorList") is not None and len(order.find(".//ErrorList")) == 0
        checked = ET.fromstring(
            api.post(
                "importTnChecker",
                content=(
                    "<ImportTnCheckerPayload><TelephoneNumbers><TelephoneNumber>+12018551099"
                    "</TelephoneNumber><TelephoneNumber>+14109235436</TelephoneNumber>"
                    "</TelephoneNumbers></ImportTnCheckerPayload>"
                ),
            ).content
        )
        ok = [
            t.text
            for t in checked.findall(".//ImportTnCheckerPayload/TelephoneNumbers/TelephoneNumber")
        ]
        failed = {e.findtext("Code") for e in checked.iter("ImportTnError")}
        assert (ok, failed) == (["+12018551099"], {"19006"})
