"""Sandbox: rate limit (429 headers) and each injected fault, driven by the seed."""

from __future__ import annotations

import logging
import socket
import time
import xml.etree.ElementTree as ET

import httpx
import pytest

from orchestrator.sandbox import ManualClock
from orchestrator.sandbox.config import FaultConfig

IMPORT = "importTnOrders/messaging"
# A broken connection shows as a truncated response, or as a reset when the server closes
# before it read the whole request.
BROKEN = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def body(coid: str = "bwm-fault-0001", number: str = "+19195550100") -> str:
    return (
        f"<ExternalTnsOrder><CustomerOrderId>{coid}</CustomerOrderId><SiteId>743</SiteId>"
        f"<TelephoneNumbers><TelephoneNumber>{number}</TelephoneNumber></TelephoneNumbers>"
        "</ExternalTnsOrder>"
    )


def ledger(sandbox) -> dict:
    return httpx.get(sandbox.base_url + "/_sandbox/ledger").json()


def test_rate_limit_answers_429_with_reset_headers(sandbox_factory, sandbox_client):
    """Past the per-account rate a request gets 429, empty body, X-RateLimit-Reset (epoch s,
    when the window frees) and Retry-After (s); after the window it passes again."""
    clock = ManualClock(start=1_715_677_923.25)
    sandbox = sandbox_factory(rate_limit_per_s=2, clock=clock)
    assert [sandbox_client.get("tnoptions").status_code for _ in range(2)] == [200, 200]
    clock.advance(0.5)
    limited = sandbox_client.get("tnoptions")
    assert limited.status_code == 429
    assert limited.content == b""
    assert limited.headers["x-ratelimit-reset"] == "1715677925"  # ceil(first + 1 s)
    assert limited.headers["retry-after"] == "1"
    clock.advance(0.5)
    assert sandbox_client.get("tnoptions").status_code == 200
    counts = ledger(sandbox)["requests"]
    assert counts["rate_limited"] == 1
    assert counts["by_status"] == {"200": 3, "429": 1}


def test_rate_limit_is_per_account(sandbox_factory, sandbox_client, sandbox_credentials):
    """Another account has its own budget."""
    sandbox = sandbox_factory(rate_limit_per_s=1, clock=ManualClock())
    sandbox.state.seed({"accounts": [{"id": "5550001"}]})
    assert sandbox_client.get("tnoptions").status_code == 200
    assert sandbox_client.get("tnoptions").status_code == 429
    other = httpx.get(
        f"{sandbox.base_url}/api/v2/accounts/5550001/tnoptions",
        auth=(sandbox_credentials.username, sandbox_credentials.password),
    )
    assert other.status_code == 200


def test_fractional_rate_allows_one_request_per_window(sandbox_factory, sandbox_client):
    """A rate of 0.5/s allows one request per 2 s and says so in Retry-After."""
    clock = ManualClock(start=1000.0)
    sandbox_factory(rate_limit_per_s=0.5, clock=clock)
    assert sandbox_client.get("tnoptions").status_code == 200
    limited = sandbox_client.get("tnoptions")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "2")
    assert limited.headers["x-ratelimit-reset"] == "1002"
    clock.advance(2.0)
    assert sandbox_client.get("tnoptions").status_code == 200


def test_throttle_fault_is_a_429_storm(sandbox_factory, sandbox_client):
    """`throttle_rate` answers 429 with the same headers without any rate limit configured."""
    sandbox_factory(faults=FaultConfig(throttle_rate=1.0), clock=ManualClock(start=50.0))
    r = sandbox_client.get("tnoptions")
    assert r.status_code == 429
    assert (r.headers["x-ratelimit-reset"], r.headers["retry-after"]) == ("51", "1")


def test_error_fault_is_500_response_status_1000_and_creates_nothing(
    sandbox_factory, sandbox_client
):
    """`error_rate` answers 500 with the endpoint's root and ResponseStatus 1000, no order."""
    sandbox = sandbox_factory(faults=FaultConfig(error_rate=1.0))
    r = sandbox_client.post(IMPORT, content=body())
    assert r.status_code == 500
    root = ET.fromstring(r.content)
    assert root.tag == "ImportTnOrderResponse"
    assert root.findtext("ResponseStatus/ErrorCode") == "1000"
    assert ledger(sandbox)["orders"] == []


def test_latency_fault_delays_the_answer(sandbox_factory, sandbox_client):
    """`latency_rate` holds the answer `latency_s`: a client with a shorter timeout times out."""
    sandbox_factory(faults=FaultConfig(latency_rate=1.0, latency_s=0.5))
    with pytest.raises(httpx.ReadTimeout):
        sandbox_client.get("tnoptions", timeout=0.05)


def test_reset_fault_breaks_the_connection_before_handling(sandbox_factory, sandbox_client, caplog):
    """`reset_rate` breaks the connection mid-response; nothing is created; the ledger counts
    it; uvicorn does not log the deliberate fault as an error."""
    sandbox = sandbox_factory(faults=FaultConfig(reset_rate=1.0))
    with caplog.at_level(logging.ERROR), pytest.raises(BROKEN):
        sandbox_client.post(IMPORT, content=body())
    entry = ledger(sandbox)
    assert entry["orders"] == []
    assert entry["requests"]["by_status"] == {"reset": 1}
    assert not [r for r in caplog.records if "ASGI" in r.getMessage()]


def test_drop_after_commit_creates_the_order_but_loses_the_answer(
    sandbox_factory, sandbox_client, caplog
):
    """`drop_after_commit_rate` creates the order (visible by customerOrderId and in the
    ledger) while the client sees a broken connection; reads are not dropped."""
    sandbox = sandbox_factory(faults=FaultConfig(drop_after_commit_rate=1.0))
    with caplog.at_level(logging.ERROR), pytest.raises(BROKEN):
        sandbox_client.post(IMPORT, content=body(coid="crash-window-1"))
    listed = ET.fromstring(
        sandbox_client.get(IMPORT, params={"customerOrderId": "crash-window-1"}).content
    )
    assert listed.findtext("TotalCount") == "1"
    entry = ledger(sandbox)
    assert [o["customer_order_id"] for o in entry["orders"]] == ["crash-window-1"]
    assert entry["requests"]["by_status"] == {"200": 1, "dropped": 1}
    assert not [r for r in caplog.records if "ASGI" in r.getMessage()]


def test_drop_in_hang_mode_times_the_client_out(sandbox_factory, sandbox_client):
    """With `drop_mode = "hang"` the order is created and the client times out."""
    sandbox = sandbox_factory(
        faults=FaultConfig(drop_after_commit_rate=1.0, drop_mode="hang", hang_s=5.0)
    )
    with pytest.raises(httpx.ReadTimeout):
        sandbox_client.post(IMPORT, content=body(coid="hang-1"), timeout=0.3)
    assert [o["customer_order_id"] for o in ledger(sandbox)["orders"]] == ["hang-1"]


def test_slow_order_fault_stays_processing_longer(sandbox_factory, sandbox_client):
    """`slow_order_rate` keeps an order PROCESSING `slow_order_s` beyond the normal delay."""
    clock = ManualClock()
    sandbox_factory(
        order_delay_s=2.0, clock=clock, faults=FaultConfig(slow_order_rate=1.0, slow_order_s=100.0)
    )
    url = sandbox_client.post(IMPORT, content=body()).headers["location"]
    clock.advance(50.0)
    assert (
        ET.fromstring(sandbox_client.get(url).content).findtext("ProcessingStatus") == "PROCESSING"
    )
    clock.advance(52.0)
    assert ET.fromstring(sandbox_client.get(url).content).findtext("ProcessingStatus") == "COMPLETE"


def test_faults_follow_the_seed(sandbox_factory, sandbox_client):
    """The same seed gives the same fault sequence (after a reset too); another seed differs."""

    def statuses() -> list[int]:
        return [sandbox_client.get("tnoptions").status_code for _ in range(30)]

    sandbox = sandbox_factory(seed=7, faults=FaultConfig(error_rate=0.5))
    first = statuses()
    assert {200, 500} == set(first)
    sandbox.reset()
    assert statuses() == first
    sandbox_factory(seed=8, faults=FaultConfig(error_rate=0.5))
    assert statuses() != first


def test_token_endpoint_is_exempt_from_faults(sandbox_factory):
    """A client can always get a token, even when every API call fails."""
    sandbox = sandbox_factory(faults=FaultConfig(error_rate=1.0, reset_rate=1.0))
    r = httpx.post(
        sandbox.base_url + "/api/v1/oauth2/token",
        auth=("sandbox-client", "sandbox-secret"),
        data={"grant_type": "client_credentials"},
    )
    assert r.status_code == 200


def test_a_client_gone_mid_request_is_counted_not_logged_as_an_error(sandbox, caplog):
    """A client killed while sending its body (a SIGKILLed CLI) is a ledger outcome,
    "disconnected", not an "Exception in ASGI application" in the sandbox's log."""
    host, port = sandbox.base_url.removeprefix("http://").split(":")
    head = (
        "POST /api/v2/accounts/9900012/tnoptions HTTP/1.1\r\nHost: sandbox\r\n"
        "Authorization: Basic c2FuZGJveDpzYW5kYm94\r\nContent-Length: 1000\r\n\r\n"
    )
    with caplog.at_level(logging.ERROR), socket.create_connection((host, int(port))) as sock:
        sock.sendall(head.encode() + b"<TnOptionOrder>")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(1) == b""  # the sandbox closes without an answer
    deadline = time.monotonic() + 10
    while ledger(sandbox)["requests"]["by_status"] != {"disconnected": 1}:
        assert time.monotonic() < deadline, ledger(sandbox)["requests"]
        time.sleep(0.01)
    assert not [r for r in caplog.records if "ASGI" in r.getMessage()]
