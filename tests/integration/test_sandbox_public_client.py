"""Sandbox: a client that knows only the public API can use it without special cases.

Two clients: Bandwidth's official Python numbers SDK (`bandwidth-numbers-sdk`, imported as
`bandwidth_numbers`, run from its own cached virtualenv because it pins old certifi/idna), and
plain httpx speaking only documented shapes. Both create and read TN option orders and call
importTnChecker.

The SDK (1.2.0) cannot send importTnChecker's SiteId: `Account.import_tn_checker(numbers)`
clears its payload and serialises only the fields its `ImportTnCheckerMap` declares, which is
`telephone_numbers` alone. The strict sandbox refuses a checker call without SiteId (400 7309,
as the excerpt's description says the SIP peer defaults to the given site's), so the test shows
that refusal through the SDK's model and then sends the schema's payload through the SDK's own
authenticated `Client.post`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest


@pytest.fixture
def inventory(sandbox):
    """An in-service number and a Bandwidth-owned one."""
    sandbox.state.seed(
        {"numbers": [{"number": "+12018551020"}, {"number": "+14109235436", "kind": "bandwidth"}]}
    )
    return sandbox


SDK_VERSION = "1.2.0"
# Runs inside the SDK's own virtualenv: it pins certifi==2019.11.28 and idna==2.8, which must
# not leak into bwmigrate's environment. Prints what it saw as JSON for the test to check.
SDK_SCRIPT = """
import json, sys
from xml.etree import ElementTree
import bandwidth_numbers as sdk
from bandwidth_numbers.utils.rest import RestError
client = sdk.Client(url=sys.argv[1] + "/api/v2", account_id="9900012",
                    username="sandbox", password="sandbox")
account = sdk.Account(client=client)
order = account.tn_option_orders.create({
    "customer_order_id": "sdk-order-1",
    "tn_option_groups": {"tn_option_group": [
        {"sms": "on", "telephone_numbers": {"telephone_number": ["+12018551020"]}}]},
})
fetched = account.tn_option_orders.get(order.order_id)
listed = account.tn_option_orders.list({"customerOrderId": "sdk-order-1"})
try:
    account.import_tn_checker(["+12018551099", "+14109235436"])  # the SDK sends no SiteId
    refused = ""
except RestError as exc:
    refused = str(exc)
answer = client.post("/accounts/9900012/importTnChecker", data=(
    "<ImportTnCheckerPayload><TelephoneNumbers><TelephoneNumber>+12018551099</TelephoneNumber>"
    "<TelephoneNumber>+14109235436</TelephoneNumber></TelephoneNumbers><SiteId>486</SiteId>"
    "</ImportTnCheckerPayload>"))
checked = ElementTree.fromstring(answer.content)
print(json.dumps({
    "created_status": order.processing_status,
    "fetched": [fetched.processing_status, fetched.customer_order_id],
    "listed_total": listed.total_count,
    "listed_id": listed.tn_option_order_summary.items[0].order_id,
    "order_id": order.order_id,
    "refused": refused,
    "checked_status": answer.status_code,
    "importable": [t.text for t in checked.iterfind(
        "ImportTnCheckerPayload/TelephoneNumbers/TelephoneNumber")],
    "rejected": [t.text for t in checked.iterfind(".//ImportTnError//TelephoneNumber")],
}))
"""


@pytest.fixture(scope="session")
def sdk_python() -> Path:
    """A Python with Bandwidth's official numbers SDK, in its own cached virtualenv.

    `BWMIGRATE_SDK_PYTHON` may name one; otherwise it is built once under the user cache
    directory (pip from PyPI, as the project's own install does).
    """
    given = os.environ.get("BWMIGRATE_SDK_PYTHON")
    if given:
        return Path(given)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    venv = cache / "bwmigrate-tests" / f"bandwidth-numbers-sdk-{SDK_VERSION}"
    python = venv / "bin" / "python"
    if not (venv / "ok").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                f"bandwidth-numbers-sdk=={SDK_VERSION}",
            ],
            check=True,
            timeout=300,
        )
        (venv / "ok").write_text(SDK_VERSION)
    return python


@pytest.mark.timeout(360)
def test_official_sdk_creates_and_reads_tn_options_and_checks_imports(inventory, sdk_python):
    """Bandwidth's official SDK (bandwidth_numbers, Basic auth, base URL .../api/v2) creates,
    gets and lists a TN option order; its SiteId-less importTnChecker call is refused with 7309
    and the schema's payload through its client is answered."""
    out = subprocess.run(
        [str(sdk_python), "-c", SDK_SCRIPT, inventory.base_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout)
    assert seen["created_status"] == "RECEIVED"
    assert seen["fetched"] == ["COMPLETE", "sdk-order-1"]
    assert seen["listed_total"] == "1" and seen["listed_id"] == seen["order_id"]
    assert "<Code>7309</Code>" in seen["refused"]
    assert seen["checked_status"] == 200
    assert (seen["importable"], seen["rejected"]) == (["+12018551099"], ["+14109235436"])
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
                    "</TelephoneNumbers><SiteId>486</SiteId></ImportTnCheckerPayload>"
                ),
            ).content
        )
        ok = [
            t.text
            for t in checked.findall(".//ImportTnCheckerPayload/TelephoneNumbers/TelephoneNumber")
        ]
        failed = {e.findtext("Code") for e in checked.iter("ImportTnError")}
        assert (ok, failed) == (["+12018551099"], {"19006"})
