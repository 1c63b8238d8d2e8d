"""Sandbox: the side endpoints (ledger, reset, inventory, seed)."""

from __future__ import annotations

import httpx

from orchestrator.sandbox import ManualClock

IMPORT = "importTnOrders/messaging"
BODY = (
    "<ExternalTnsOrder><CustomerOrderId>{}</CustomerOrderId><SiteId>743</SiteId>"
    "<TelephoneNumbers><TelephoneNumber>+19195550100</TelephoneNumber>"
    "<TelephoneNumber>+19195550101</TelephoneNumber></TelephoneNumbers></ExternalTnsOrder>"
)
REMOVE = (
    "<RemoveImportedTnOrder><TelephoneNumbers><TelephoneNumber>+19195550100"
    "</TelephoneNumber></TelephoneNumbers></RemoveImportedTnOrder>"
)


def test_ledger_lists_orders_and_requests(sandbox_factory, sandbox_client):
    """The ledger shows every accepted order (kind, id, customer order id, numbers, status,
    created_at) and counts requests by status, each answer before the client can read it;
    side endpoints are not counted. (A stopped clock: the three requests share one 1 s window
    however slowly the machine runs.)"""
    sandbox = sandbox_factory(clock=ManualClock())
    created = sandbox_client.post(IMPORT, content=BODY.format("led-1"))
    sandbox_client.post(IMPORT, content=BODY.format("bad_coid"))
    sandbox_client.post("removeImportedTnOrders/messaging", content=REMOVE)
    entry = httpx.get(sandbox.base_url + "/_sandbox/ledger").json()
    first, second = entry["orders"]
    assert first["kind"] == "import" and second["kind"] == "remove"
    assert first["order_id"] in created.headers["location"]
    assert first["customer_order_id"] == "led-1" and second["customer_order_id"] is None
    assert first["numbers"] == ["+19195550100", "+19195550101"]
    assert first["status"] == "COMPLETE"
    assert first["created_at"].endswith("Z")
    assert entry["requests"] == {"total": 3, "rate_limited": 0, "by_status": {"201": 2, "400": 1}}
    assert entry["max_requests_in_any_1s_window"] == 3


def test_ledger_tnoptions_kind(sandbox, sandbox_client):
    """TN option orders appear with kind `tnoptions`."""
    sandbox.state.seed({"numbers": [{"number": "+12018551020"}]})
    body = (
        "<TnOptionOrder><TnOptionGroups><TnOptionGroup><Sms>on</Sms><TelephoneNumbers>"
        "<TelephoneNumber>+12018551020</TelephoneNumber></TelephoneNumbers></TnOptionGroup>"
        "</TnOptionGroups></TnOptionOrder>"
    )
    sandbox_client.post("tnoptions", content=body)
    orders = httpx.get(sandbox.base_url + "/_sandbox/ledger").json()["orders"]
    assert [(o["kind"], o["numbers"]) for o in orders] == [("tnoptions", ["+12018551020"])]


def test_max_requests_in_any_1s_window_follows_the_clock(sandbox_factory, sandbox_client):
    """The window maximum counts requests within any 1 s, by the sandbox clock."""
    clock = ManualClock()
    sandbox = sandbox_factory(clock=clock)
    for _ in range(4):
        sandbox_client.get("tnoptions")
    clock.advance(1.0)
    for _ in range(2):
        sandbox_client.get("tnoptions")
    entry = httpx.get(sandbox.base_url + "/_sandbox/ledger").json()
    assert entry["max_requests_in_any_1s_window"] == 4
    assert entry["requests"]["total"] == 6


def test_reset_clears_orders_inventory_changes_and_counts(sandbox, sandbox_client):
    """POST /_sandbox/reset forgets orders, request counts and inventory changes."""
    sandbox_client.post(IMPORT, content=BODY.format("r-1"))
    assert sandbox.state.number("+19195550100") is not None
    assert httpx.post(sandbox.base_url + "/_sandbox/reset").json() == {"reset": True}
    entry = httpx.get(sandbox.base_url + "/_sandbox/ledger").json()
    assert entry["orders"] == [] and entry["requests"]["total"] == 0
    assert sandbox.state.number("+19195550100") is None
    listed = sandbox_client.get(IMPORT, params={"customerOrderId": "r-1"})
    assert "<TotalCount>0</TotalCount>" in listed.text


def test_seed_endpoint_accepts_json_and_toml(sandbox):
    """POST /_sandbox/seed adds numbers from JSON or TOML; the inventory endpoint shows them."""
    r = httpx.post(
        sandbox.base_url + "/_sandbox/seed",
        json={"numbers": [{"number": "+19195550100", "sms_enabled": True}]},
    )
    assert r.status_code == 200
    toml = '[[numbers]]\nnumber = "+14109235436"\nkind = "bandwidth"\n'
    assert (
        httpx.post(
            sandbox.base_url + "/_sandbox/seed",
            content=toml,
            headers={"content-type": "application/toml"},
        ).status_code
        == 200
    )
    numbers = httpx.get(sandbox.base_url + "/_sandbox/inventory").json()["numbers"]
    assert [(n["number"], n["kind"], n["sms_enabled"]) for n in numbers] == [
        ("+14109235436", "bandwidth", False),
        ("+19195550100", "inservice", True),
    ]
    assert numbers[1]["account_id"] == "9900012" and numbers[1]["site_id"] == "743"
    assert numbers[1]["sip_peer_id"] == "303716"


def test_seed_endpoint_rejects_bad_input(sandbox):
    """A malformed or invalid seed answers 400 with a message."""
    bad = httpx.post(sandbox.base_url + "/_sandbox/seed", json={"numbers": [{"number": "919"}]})
    assert bad.status_code == 400 and "E.164" in bad.json()["error"]
    unknown = httpx.post(sandbox.base_url + "/_sandbox/seed", json={"bogus": 1})
    assert unknown.status_code == 400
    garbage = httpx.post(sandbox.base_url + "/_sandbox/seed", content=b"{not json")
    assert garbage.status_code == 400


def test_seeded_faults_and_rate_limit_take_effect_and_reset_restores_them(sandbox, sandbox_client):
    """POST /_sandbox/seed with `faults` or `rate_limit_per_s` changes what the next requests
    get (it used to answer 200 and change nothing); /_sandbox/reset undoes it."""
    assert sandbox_client.get(IMPORT).status_code == 200
    seeded = httpx.post(sandbox.base_url + "/_sandbox/seed", json={"faults": {"error_rate": 1.0}})
    assert seeded.status_code == 200
    assert sandbox_client.get(IMPORT).status_code == 500
    httpx.post(sandbox.base_url + "/_sandbox/seed", json={"faults": {}, "rate_limit_per_s": 1})
    assert [sandbox_client.get(IMPORT).status_code for _ in range(2)] == [200, 429]
    httpx.post(sandbox.base_url + "/_sandbox/reset")
    assert [sandbox_client.get(IMPORT).status_code for _ in range(2)] == [200, 200]
