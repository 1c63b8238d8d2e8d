"""Sandbox: order notifications (`sandbox/notify.py`) to a real receiver over HTTP: the
`<Notification>` shape, the Basic challenge, retries of a failing receiver, and the seeded
faults (dropped, duplicated, reordered callbacks)."""

from __future__ import annotations

import base64
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
from asgi_peer import serve_asgi
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orchestrator.sandbox import RunningSandbox
from orchestrator.sandbox.notify import NotifyConfig

WAIT_S = 10.0
SUBSCRIPTION = (
    "<Subscription><OrderType>importtnorders</OrderType><CallbackSubscription><URL>{url}</URL>"
    "<Expiry>3600</Expiry><CallbackCredentials><BasicAuthentication><Username>run</Username>"
    "<Password>s3cret</Password></BasicAuthentication></CallbackCredentials>"
    "</CallbackSubscription></Subscription>"
)
IMPORT = (
    "<ImportTnOrder><CustomerOrderId>{coid}</CustomerOrderId><SiteId>743</SiteId>"
    "<SipPeerId>303716</SipPeerId><Subscriber><Name>ABC Inc.</Name><ServiceAddress>"
    "<HouseNumber>1</HouseNumber><StreetName>Main</StreetName><City>Cary</City>"
    "<StateCode>NC</StateCode><Zip>27511</Zip></ServiceAddress></Subscriber>"
    "<LoaAuthorizingPerson>Jo</LoaAuthorizingPerson><LoaType>CARRIER</LoaType>"
    "<TelephoneNumbers><TelephoneNumber>{tn}</TelephoneNumber></TelephoneNumbers>"
    "</ImportTnOrder>"
)
GOOD = "Basic " + base64.b64encode(b"run:s3cret").decode()


class Receiver:
    """A callback receiver with a Basic challenge; fails the first `fail_first` good calls."""

    def __init__(self, fail_first: int = 0) -> None:
        self.unauthenticated = 0
        self.bodies: list[ET.Element] = []
        self.fail_first = fail_first
        self.arrived = threading.Condition()

    async def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != GOOD:
            self.unauthenticated += 1
            return Response(b"", 401, {"WWW-Authenticate": 'Basic realm=""'})
        body = await request.body()
        if self.fail_first:
            self.fail_first -= 1
            return Response(b"", 503)
        with self.arrived:
            self.bodies.append(ET.fromstring(body))
            self.arrived.notify_all()
        return Response(b"", 200)

    def wait_for(self, count: int) -> list[ET.Element]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.bodies) >= count, WAIT_S), self.bodies
            return list(self.bodies)


@pytest.fixture
def fast(sandbox: RunningSandbox) -> Iterator[RunningSandbox]:
    sandbox.reconfigure(sandbox.config.with_changes(order_delay_s=0.05), None)
    sandbox.app.notifier.config = NotifyConfig(retry_delay_s=0.05)
    yield sandbox
    sandbox.app.notifier.config = NotifyConfig()


def _serve(receiver: Receiver):  # type: ignore[no-untyped-def]
    return serve_asgi(Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])]))


def _order(client: httpx.Client, coid: str, tn: str) -> str:
    r = client.post("importTnOrders/messaging", content=IMPORT.format(coid=coid, tn=tn))
    assert r.status_code == 201, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def test_a_completed_order_is_notified_after_a_basic_challenge(fast, sandbox_client) -> None:
    """The first attempt carries no credentials; the 401 challenge is answered with the
    subscription's Basic credentials; the Notification names the order and its status (also
    after a reset of the sandbox, which benches do between runs)."""
    fast.app.reset()
    receiver = Receiver()
    with _serve(receiver) as base:
        r = sandbox_client.post("subscriptions", content=SUBSCRIPTION.format(url=f"{base}/hook"))
        assert r.status_code == 201, r.text
        order_id = _order(sandbox_client, "notify-1", "+19195550301")
        (note,) = receiver.wait_for(1)
    assert note.tag == "Notification"
    assert (note.findtext("OrderType"), note.findtext("OrderId")) == ("importtnorders", order_id)
    assert (note.findtext("CustomerOrderId"), note.findtext("Status")) == ("notify-1", "COMPLETE")
    assert note.findtext("SubscriptionId") == r.headers["location"].rsplit("/", 1)[1]
    assert receiver.unauthenticated >= 1


def test_a_failing_receiver_is_retried(fast, sandbox_client) -> None:
    """A receiver answering 503 twice still gets the callback (retries = 3)."""
    receiver = Receiver(fail_first=2)
    with _serve(receiver) as base:
        sandbox_client.post("subscriptions", content=SUBSCRIPTION.format(url=f"{base}/hook"))
        order_id = _order(sandbox_client, "notify-2", "+19195550302")
        (note,) = receiver.wait_for(1)
    assert note.findtext("OrderId") == order_id
    assert fast.app.notifier.delivery.failed >= 2


def test_seeded_faults_drop_and_duplicate_callbacks(fast, sandbox_client) -> None:
    """With every callback duplicated, each order is notified twice; with every callback
    dropped, none arrives and the notifier counts the drops."""
    fast.app.notifier.config = NotifyConfig(duplicate_rate=1.0)
    receiver = Receiver()
    with _serve(receiver) as base:
        sandbox_client.post("subscriptions", content=SUBSCRIPTION.format(url=f"{base}/hook"))
        order_id = _order(sandbox_client, "notify-3", "+19195550303")
        notes = receiver.wait_for(2)
        assert [n.findtext("OrderId") for n in notes] == [order_id, order_id]
        fast.app.notifier.config = NotifyConfig(drop_rate=1.0)
        dropped_before = fast.app.notifier.delivery.dropped
        _order(sandbox_client, "notify-4", "+19195550304")
        with receiver.arrived:  # the drop is counted by the notifier's next tick
            for _ in range(int(WAIT_S / 0.02)):
                if fast.app.notifier.delivery.dropped > dropped_before:
                    break
                receiver.arrived.wait(0.02)
    assert len(receiver.bodies) == 2
    assert fast.app.notifier.delivery.dropped == dropped_before + 1


def test_callback_faults_are_seeded_like_the_other_faults(sandbox) -> None:
    """`[faults] callback_*` (seed file, `/_sandbox/seed`, `bwmigrate sandbox --callback-*`)
    set the notifier's faults and retries."""
    r = httpx.post(
        sandbox.base_url + "/_sandbox/seed",
        json={"faults": {"callback_drop_rate": 0.25, "callback_retries": 0}},
    )
    assert r.status_code == 200, r.text
    config = sandbox.app.notifier.config
    assert (config.drop_rate, config.retries, config.duplicate_rate) == (0.25, 0, 0.0)
    bad = httpx.post(
        sandbox.base_url + "/_sandbox/seed", json={"faults": {"callback_drop_rate": 2}}
    )
    assert bad.status_code == 400
