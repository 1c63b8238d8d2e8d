"""Sandbox: prefixes, versions, case-insensitive segments, v1-only paths on v2, hostile XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

ACCOUNT = "/accounts/9900012"
SEED_BODY = (
    "<ExternalTnsOrder><SiteId>743</SiteId><TelephoneNumbers>"
    "<TelephoneNumber>+19195550100</TelephoneNumber></TelephoneNumbers></ExternalTnsOrder>"
)


@pytest.fixture
def client(sandbox, sandbox_credentials):
    """A client on the server root with Basic auth."""
    auth = (sandbox_credentials.username, sandbox_credentials.password)
    with httpx.Client(base_url=sandbox.base_url, auth=auth) as c:
        yield c


@pytest.mark.parametrize("prefix", ["/api/v1", "/api", "/v1.0"])
def test_v1_prefixes_serve_ten_digit_numbers(client, sandbox, prefix):
    """Every v1 prefix serves the v1 API, which shows +1 numbers in 10 digits."""
    sandbox.state.seed({"numbers": [{"number": "+19195550100"}]})
    r = client.get(f"{prefix}{ACCOUNT}/inserviceNumbers")
    assert r.status_code == 200
    assert [t.text for t in ET.fromstring(r.content).iter("TelephoneNumber")] == ["9195550100"]


@pytest.mark.parametrize("segment", ["importTnOrders", "importtnorders", "IMPORTTNORDERS"])
def test_import_segment_is_case_insensitive(client, segment):
    """`importTnOrders` matches in any case (the ruby SDK posts lowercase)."""
    r = client.post(f"/api/v2{ACCOUNT}/{segment}/messaging", content=SEED_BODY)
    assert r.status_code == 201


@pytest.mark.parametrize("segment", ["tnoptions", "tnOptions", "TnOptions"])
def test_tnoptions_segment_is_case_insensitive(client, segment):
    """`tnoptions` matches in any case (the docs write both spellings)."""
    assert client.get(f"/api/v2{ACCOUNT}/{segment}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "root"),
    [
        ("POST", "externalTns", "ExternalTnsOrderResponse"),
        ("GET", "externalTns", "ExternalTnsOrderResponse"),
        ("GET", "addresses", "AddressesResponse"),
        ("POST", "importTnOrders", "ImportTnOrderResponse"),
        ("GET", "importTnOrders", "ImportTnOrders"),
        ("POST", "removeImportedTnOrders", "RemoveImportedTnOrdersResponse"),
    ],
)
def test_v1_only_paths_are_404_on_v2(client, method, path, root):
    """v1-only resources under /api/v2 answer 404 with a ResponseStatus body."""
    r = client.request(method, f"/api/v2{ACCOUNT}/{path}", content=SEED_BODY)
    assert r.status_code == 404
    parsed = ET.fromstring(r.content)
    assert parsed.tag == root
    assert parsed.findtext("ResponseStatus/Description") == "The resource does not exist"


def test_v2_only_paths_are_404_on_v1(client):
    """`/messaging` and `e911Addresses` do not exist under the v1 prefixes."""
    assert (
        client.post(f"/api/v1{ACCOUNT}/importTnOrders/messaging", content=SEED_BODY).status_code
        == 404
    )
    assert client.get(f"/api/v1{ACCOUNT}/e911Addresses").status_code == 404


def test_unknown_path_is_404_xml(client):
    """An unknown path answers 404 with an XML ResponseStatus."""
    r = client.get(f"/api/v2{ACCOUNT}/nothing/here")
    assert r.status_code == 404
    assert ET.fromstring(r.content).find("ResponseStatus") is not None


def test_wrong_method_is_405(client):
    """A known path with an unsupported method answers 405."""
    assert client.delete(f"/api/v2{ACCOUNT}/tnoptions").status_code == 405


def test_v2_requires_e164_in_paths(client, sandbox):
    """A 10-digit number in a v2 path answers 400 ResponseStatus 1022."""
    sandbox.state.seed({"numbers": [{"number": "+19195550100"}]})
    r = client.get("/api/v2/tns/9195550100/tndetails")
    assert r.status_code == 400
    root = ET.fromstring(r.content)
    assert root.findtext("ResponseStatus/ErrorCode") == "1022"
    assert root.findtext("ResponseStatus/Description") == "TelephoneNumber is in an invalid format"
    assert client.get("/api/v1/tns/9195550100/tndetails").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]><ExternalTnsOrder>&x;'
        b"</ExternalTnsOrder>",
        b'<!DOCTYPE r SYSTEM "http://example.invalid/x.dtd"><ExternalTnsOrder/>',
        b"<ExternalTnsOrder><SiteId>743</SiteId>",
        b"",
        b"<SomethingElse/>",
    ],
)
def test_hostile_or_malformed_xml_is_400(client, sandbox, body):
    """DTDs, entities, truncated, empty or foreign documents answer 400 and create nothing."""
    r = client.post(f"/api/v2{ACCOUNT}/importTnOrders/messaging", content=body)
    assert r.status_code == 400
    assert ET.fromstring(r.content).tag == "ImportTnOrderResponse"
    assert sandbox.state.ledger_orders() == []


def test_every_xml_response_has_declaration_and_type(client):
    """XML answers start with the API's declaration and are `application/xml; charset=utf-8`."""
    for r in (
        client.get(f"/api/v2{ACCOUNT}/tnoptions"),
        client.get(f"/api/v2{ACCOUNT}/tnoptions/nope"),
        client.post(f"/api/v2{ACCOUNT}/importTnOrders/messaging", content=b"<x/>"),
    ):
        assert r.headers["content-type"] == "application/xml; charset=utf-8"
        assert r.text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
