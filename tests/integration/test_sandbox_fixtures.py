"""Sandbox vs the golden XML in tests/fixtures: it accepts every request body the client sends
and answers with the element structure of every response fixture.

Structure = the set of element paths (root/child/...), compared exactly; text is not
compared. `variants/` are parser-robustness samples for the client, not shapes to emit.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from orchestrator.sandbox.config import FaultConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REQUESTS = FIXTURES / "requests"
RESPONSES = FIXTURES / "responses"
HOSTILE = FIXTURES / "hostile"
IMPORT = "importTnOrders/messaging"
REMOVE = "removeImportedTnOrders/messaging"

REQUEST_ENDPOINTS = {
    "import_checker.xml": ("importTnChecker", 200),
    "import_order_importtnorder_form.xml": (IMPORT, 201),
    "import_order_seed_form.xml": (IMPORT, 201),
    "remove_order.xml": (REMOVE, 201),
    "tn_option_order_a2p.xml": ("tnoptions", 201),
    "tn_option_order_a2p_only.xml": ("tnoptions", 201),
    "tn_option_order_sms_off.xml": ("tnoptions", 201),
    "tn_option_order_sms_on.xml": ("tnoptions", 201),
}


def paths(element: ET.Element, prefix: str = "") -> set[str]:
    here = f"{prefix}/{element.tag}"
    found = {here}
    for child in element:
        found |= paths(child, here)
    return found


def shape_of(content: bytes) -> set[str]:
    return paths(ET.fromstring(content))


def fixture_shape(name: str, subtree: str | None = None) -> set[str]:
    root = ET.parse(RESPONSES / name).getroot()
    if subtree is not None:
        found = root.find(subtree)
        assert found is not None
        root = found
    return paths(root)


def request(name: str) -> bytes:
    return (REQUESTS / name).read_bytes()


def test_every_request_fixture_is_covered():
    """Each request fixture has an endpoint in this test (new fixtures must be added here)."""
    assert {p.name for p in REQUESTS.glob("*.xml")} == set(REQUEST_ENDPOINTS)


@pytest.mark.parametrize("name", sorted(REQUEST_ENDPOINTS))
def test_request_fixture_is_accepted(sandbox_client, name):
    """The sandbox accepts every body the client sends."""
    path, status = REQUEST_ENDPOINTS[name]
    r = sandbox_client.post(path, content=request(name))
    assert r.status_code == status, r.text


@pytest.mark.parametrize("name", sorted(p.name for p in HOSTILE.iterdir()))
def test_hostile_fixture_is_refused(sandbox, sandbox_client, name):
    """Hostile or broken documents answer 400 and create nothing."""
    r = sandbox_client.post(IMPORT, content=(HOSTILE / name).read_bytes())
    assert r.status_code == 400
    assert sandbox.state.ledger_orders() == []


@pytest.fixture
def inventory(sandbox):
    """Numbers the response fixtures talk about."""
    sandbox.state.seed(
        {
            "numbers": [
                {"number": "+14109235436", "kind": "bandwidth"},
                {"number": "+14109235437", "kind": "bandwidth"},
                {"number": "+14104685864", "kind": "bandwidth"},
                {"number": "+19199918388", "kind": "imported"},
                {"number": "+12018551020", "sms_enabled": True},
                {"number": "+12018551021"},
            ],
            "failure_rules": [
                {"kind": "import", "numbers": ["+12262665583"], "code": 7518},
                {"kind": "import", "prefix": "+1520907245", "code": 5016},
            ],
        }
    )
    return sandbox


def _seed_form(
    *numbers: str, coid: str | None = "c-1", peer: bool = True, loa: str = "CARRIER"
) -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)
    coid_el = f"<CustomerOrderId>{coid}</CustomerOrderId>" if coid else ""
    peer_el = "<SipPeerId>303716</SipPeerId>" if peer else ""
    return (
        f"<ExternalTnsOrder>{coid_el}<SiteId>743</SiteId>{peer_el}<LoaType>{loa}</LoaType>"
        f"<TelephoneNumbers>{tns}</TelephoneNumbers></ExternalTnsOrder>"
    )


def test_import_create_and_get_shapes(inventory, sandbox_client):
    """Import create (both forms), FAILED/PARTIAL/COMPLETE reports and 400 match the fixtures."""
    created = sandbox_client.post(IMPORT, content=request("import_order_seed_form.xml"))
    assert shape_of(created.content) == fixture_shape("import_create_201_received.xml")

    spec = sandbox_client.post(IMPORT, content=request("import_order_importtnorder_form.xml"))
    assert paths(ET.fromstring(spec.content).find("ImportTnOrder")) == fixture_shape(
        "import_create_201_java_root.xml", "ImportTnOrder"
    )  # [X] root: we emit the singular
    complete = sandbox_client.get(spec.headers["location"])
    assert shape_of(complete.content) == fixture_shape("import_get_complete.xml")

    failed = sandbox_client.post(
        IMPORT, content=_seed_form("+15209072451", "+15209072452", peer=False, loa="SUBSCRIBER")
    )
    assert shape_of(sandbox_client.get(failed.headers["location"]).content) == fixture_shape(
        "import_get_failed.xml"
    )

    partial = sandbox_client.post(
        IMPORT, content=_seed_form("+19199918390", "+12262665583", "+14109235436", "+14109235437")
    )
    assert shape_of(sandbox_client.get(partial.headers["location"]).content) == fixture_shape(
        "import_get_partial.xml"
    )

    bad = sandbox_client.post(
        IMPORT,
        content=request("import_order_seed_form.xml")
        .replace(b"<SiteId>743</SiteId>", b"<SiteId>999</SiteId>")
        .replace(b"303716", b"1"),
    )
    assert bad.status_code == 400
    assert shape_of(bad.content) == fixture_shape("import_create_400_7309.xml")


def test_import_list_shapes(inventory, sandbox_client):
    """The empty list and a two-order list (with and without CustomerOrderId) match."""
    empty = sandbox_client.get(IMPORT, params={"customerOrderId": "none"})
    assert shape_of(empty.content) == fixture_shape("import_list_empty.xml")
    sandbox_client.post(IMPORT, content=_seed_form("+19195550100"))
    sandbox_client.post(IMPORT, content=_seed_form("+19195550101", coid=None))
    assert shape_of(sandbox_client.get(IMPORT).content) == fixture_shape("import_list_two.xml")


def test_remove_shapes(inventory, sandbox_client):
    """Removal create, PARTIAL 5158 report and the bad-UUID 400 match."""
    created = sandbox_client.post(REMOVE, content=request("remove_order.xml"))
    assert shape_of(created.content) == fixture_shape("remove_create_201_processing.xml")
    report = sandbox_client.get(created.headers["location"])
    assert shape_of(report.content) == fixture_shape("remove_get_partial_5158.xml")
    bad = sandbox_client.get(f"{REMOVE}/not-a-uuid")
    assert shape_of(bad.content) == fixture_shape("remove_get_400_bad_uuid.xml")


def test_tnoptions_shapes(inventory, sandbox_client):
    """TN option create, PARTIAL report with ErrorList and Warnings, 400, 404 and lists match."""
    created = sandbox_client.post("tnoptions", content=request("tn_option_order_a2p.xml"))
    assert shape_of(created.content) == fixture_shape("tnoptions_create_201_received.xml")

    body = request("tn_option_order_sms_on.xml").replace(
        b"</TnOptionGroups>",
        b"<TnOptionGroup><Sms>on</Sms><A2pSettings><MessageClass>M</MessageClass>"
        b"<CampaignId>CA3XKE1</CampaignId><Action>asSpecified</Action></A2pSettings>"
        b"<TelephoneNumbers><TelephoneNumber>+12018551025</TelephoneNumber></TelephoneNumbers>"
        b"</TnOptionGroup></TnOptionGroups>",
    )
    partial = sandbox_client.post("tnoptions", content=body)
    assert shape_of(sandbox_client.get(partial.headers["location"]).content) == fixture_shape(
        "tnoptions_get_partial_5076.xml"
    )

    bad = sandbox_client.post(
        "tnoptions",
        content=request("tn_option_order_sms_on.xml").replace(
            b"<Sms>on</Sms>", b"<NumberFormat>wrong</NumberFormat>"
        ),
    )
    assert shape_of(bad.content) == fixture_shape("tnoptions_create_400_5081.xml")
    missing = sandbox_client.get("tnoptions/409033ee-88ec-43e3-85f3-538f30733963")
    assert shape_of(missing.content) == fixture_shape("tnoptions_get_404.xml")

    sandbox_client.post(
        "tnoptions",
        content=request("tn_option_order_sms_off.xml").replace(
            b"<CustomerOrderId>TnOptionOrder3</CustomerOrderId>", b""
        ),
    )
    listed = sandbox_client.get("tnoptions")
    assert shape_of(listed.content) == fixture_shape("tnoptions_list.xml")
    assert shape_of(listed.content) == fixture_shape("tnoptions_list_report_response.xml")
    v1 = sandbox_client.get(
        str(sandbox_client.base_url).replace("/api/v2/", "/api/v1/") + "tnoptions"
    )
    assert shape_of(v1.content) == fixture_shape(  # [X] RAML and the SDKs: the bare list
        "variants/tnoptions_list_bare_root.xml"
    )


def test_checker_shapes(inventory, sandbox_client):
    """importTnChecker 200 with 19006 and the 400 with 7201 match."""
    ok = sandbox_client.post(
        "importTnChecker",
        content=request("import_checker.xml").replace(
            b"</TelephoneNumbers>",
            b"<TelephoneNumber>+14104685864</TelephoneNumber></TelephoneNumbers>",
        ),
    )
    assert shape_of(ok.content) == fixture_shape("import_checker_200_19006.xml")
    bad = sandbox_client.post(
        "importTnChecker",
        content=request("import_checker.xml").replace(b"+13032281000", b"61746052083"),
    )
    assert shape_of(bad.content) == fixture_shape("import_checker_400_7201.xml")


def test_sippeer_put_shape(inventory, sandbox_client):
    """The v2 SIP-peer PUT refusal matches."""
    r = sandbox_client.put(
        "sites/743/sippeers/303716/tns/+12018551021",
        content=b"<SipPeerTelephoneNumber><MessagingSettings><SmsEnabled>true</SmsEnabled>"
        b"</MessagingSettings></SipPeerTelephoneNumber>",
    )
    assert shape_of(r.content) == fixture_shape("sippeer_tn_put_400_v2.xml")


def test_error_500_shape(sandbox_factory, sandbox_client):
    """The injected 500 matches the ResponseStatus 1000 fixture."""
    sandbox_factory(faults=FaultConfig(error_rate=1.0))
    r = sandbox_client.post(IMPORT, content=request("import_order_seed_form.xml"))
    assert r.status_code == 500
    assert shape_of(r.content) == fixture_shape("error_500_response_status_1000.xml")


def test_v1_external_tns_shapes(inventory):
    """v1 externalTns GET by id and the list (one order without SipPeerId, one PARTIAL) match."""
    base = f"{inventory.base_url}/api/v1/accounts/9900012/externalTns"
    auth = ("sandbox", "sandbox")
    one = (
        request("import_order_seed_form.xml")
        .replace(b"<LoaType>", b"<Action>IMPORT</Action><LoaType>")
        .replace(b"+1", b"")
    )
    created = httpx.post(base, content=one, auth=auth)
    assert created.status_code == 201
    report = httpx.get(created.headers["location"], auth=auth)
    assert shape_of(report.content) == fixture_shape("v1_external_tns_order_get.xml")
    two = (
        b"<ExternalTnsOrder><CustomerOrderId>ICPA124ABC</CustomerOrderId><SiteId>743</SiteId>"
        b"<Action>IMPORT</Action><TelephoneNumbers><TelephoneNumber>4352154439</TelephoneNumber>"
        b"<TelephoneNumber>4352154466</TelephoneNumber></TelephoneNumbers></ExternalTnsOrder>"
    )
    inventory.state.seed(
        {
            "failure_rules": [
                {
                    "kind": "import",
                    "numbers": ["+14352154466"],
                    "code": 13552,
                    "description": "Telephone numbers already exist.",
                }
            ]
        }
    )
    httpx.post(base, content=two, auth=auth)
    listed = httpx.get(base, auth=auth)
    assert shape_of(listed.content) == fixture_shape("v1_external_tns_orders_list.xml")
