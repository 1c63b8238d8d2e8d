"""`SendWitness` over the real transport: a POST that reached the sandbox was seen leaving,
one to a port that refuses connections was traced and seen not leaving, and a transport that
reports nothing (a mounted ASGI app) leaves it "maybe sent". The engine trusts "not sent" only
from this witness, so each of these must hold."""

from __future__ import annotations

import contextlib
import socket

import httpx
import pytest

from orchestrator.api.client import ApiClient, BasicCredentials, SendWitness
from orchestrator.errors import RequestNotSentError
from orchestrator.sandbox import RunningSandbox

BODY = (
    b"<ImportTnOrder><CustomerOrderId>w-1</CustomerOrderId><SiteId>743</SiteId>"
    b"<SipPeerId>303716</SipPeerId><Subscriber><Name>ABC Inc.</Name><ServiceAddress>"
    b"<HouseNumber>1</HouseNumber><StreetName>Back</StreetName><City>Denver</City>"
    b"<StateCode>CO</StateCode><Zip>27541</Zip></ServiceAddress></Subscriber>"
    b"<LoaAuthorizingPerson>A B</LoaAuthorizingPerson><LoaType>CARRIER</LoaType>"
    b"<TelephoneNumbers><TelephoneNumber>9199940001</TelephoneNumber></TelephoneNumbers>"
    b"</ImportTnOrder>"
)


async def test_a_post_that_reached_the_api_was_seen_leaving(sandbox: RunningSandbox) -> None:
    """The sandbox's ledger counts the request; the witness saw it being written."""
    creds = sandbox.config.credentials
    witness = SendWitness()
    client = ApiClient(f"{sandbox.base_url}/api/v2", "9900012",
                       BasicCredentials(creds.username, creds.password))  # fmt: skip
    async with client:
        with contextlib.suppress(Exception):  # whatever the answer, the request left
            await client.create_order("import", BODY, witness=witness)
    assert sandbox.app.ledger.to_json()["requests"]["total"] >= 1
    assert witness.traced and witness.writing and witness.maybe_sent


async def test_a_refused_connection_was_seen_not_leaving() -> None:
    """Traced (a connection was attempted) and never written."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    witness = SendWitness()
    async with ApiClient(f"http://127.0.0.1:{port}/api/v2", "1", BasicCredentials("u", "p")) as c:
        with pytest.raises(RequestNotSentError):
            await c.create_order("import", BODY, witness=witness)
    assert witness.traced and not witness.writing and not witness.maybe_sent


async def test_an_untraced_transport_leaves_it_maybe_sent() -> None:
    """A transport without httpcore's trace says nothing: the witness cannot clear the POST."""

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        raise RuntimeError("never answers")

    witness = SendWitness()
    client = ApiClient("http://127.0.0.1:9/api/v2", "1", BasicCredentials("u", "p"),
                       transport=httpx.ASGITransport(app=app))  # fmt: skip
    async with client:
        with pytest.raises(Exception):  # noqa: B017 - any failure
            await client.create_order("import", BODY, witness=witness)
    assert not witness.traced and witness.maybe_sent
