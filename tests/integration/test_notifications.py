"""Order notifications end to end, real HTTP both ways: the run subscribes, the sandbox calls
back (Basic challenge first) to the run's listener, the outcome is committed before the
callback is answered, the subscription is deleted at the end; lost callbacks are caught by the
safety-net reads; a subscription that cannot be created leaves the run on batched reads."""

from __future__ import annotations

import re
import socket
from collections import Counter
from pathlib import Path

import httpx
import pytest
from engine_harness import IMPORT_EXTRA, Harness, numbers_from, plan_text, step

from orchestrator.api.client import Exchange
from orchestrator.cutover.notifications import NotifySettings
from orchestrator.sandbox import RunningSandbox
from orchestrator.sandbox.notify import NotifyConfig

_SUBSCRIPTIONS = re.compile(r"/subscriptions(/[^/]+)?$")
_BY_ID = re.compile(r"/importTnOrders/messaging/[0-9a-f-]{36}$")
_LIST = re.compile(r"/importTnOrders/messaging$")


@pytest.fixture
def harness(sandbox: RunningSandbox, tmp_path: Path):  # type: ignore[no-untyped-def]
    sandbox.reconfigure(sandbox.config.with_changes(order_delay_s=0.1), None)
    yield Harness(sandbox, tmp_path)
    sandbox.app.notifier.config = NotifyConfig()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(safety_net_s: float = 60.0, url: str | None = None) -> NotifySettings:
    port = _free_port()
    return NotifySettings(
        url=url or f"http://127.0.0.1:{port}/callbacks",
        host="127.0.0.1",
        port=port,
        safety_net_s=safety_net_s,
    )


def _subscriptions(sandbox: RunningSandbox) -> list[object]:
    return sandbox.state.list_subscriptions(sandbox.config.accounts[0].id)


async def test_callbacks_replace_polling_and_the_subscription_is_deleted(harness: Harness) -> None:
    """Every order learns its outcome from its callback: no list read and no GET by id while
    the safety net (60 s) never fires; the subscription exists during the run only; the
    callback credentials never reach the audit log."""
    seen: list[Exchange] = []
    imports = numbers_from("+1919991", 25)
    text = plan_text(step("import", imports, IMPORT_EXTRA), 5)
    outcome = await harness.run(text, observe=seen.append, notify=_settings(), timeout_s=10)
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 25}
    first_post = next(i for i, x in enumerate(seen) if x.method == "POST" and _LIST.search(x.path))
    gets = [x.path for x in seen[first_post:] if x.method == "GET"]  # before: the target check
    assert not [p for p in gets if _BY_ID.search(p) or _LIST.search(p)]
    calls = Counter(x.method for x in seen if _SUBSCRIPTIONS.search(x.path))
    assert (calls["POST"], calls["DELETE"]) == (1, 1)
    assert _subscriptions(harness.sandbox) == []
    assert harness.sandbox.app.notifier.delivery.delivered >= 5
    audit = "".join(p.read_text() for p in harness.state_path.parent.glob("*.audit*"))
    assert "Password" not in audit


async def test_lost_callbacks_delay_but_never_lose_an_order(harness: Harness) -> None:
    """Every callback dropped: the safety-net reads (0.3 s here) still finish every order."""
    harness.sandbox.app.notifier.config = NotifyConfig(drop_rate=1.0)
    imports = numbers_from("+1919991", 10)
    text = plan_text(step("import", imports, IMPORT_EXTRA), 5)
    outcome = await harness.run(text, notify=_settings(safety_net_s=0.3), timeout_s=10)
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 10}
    assert harness.sandbox.app.notifier.delivery.dropped >= 2
    harness.assert_no_number_in_two_orders()


async def test_duplicated_callbacks_change_nothing(harness: Harness) -> None:
    """Every callback sent twice (and some held back): each order is committed once."""
    harness.sandbox.app.notifier.config = NotifyConfig(duplicate_rate=1.0, reorder_rate=0.5)
    imports = numbers_from("+1919991", 20)
    text = plan_text(step("import", imports, IMPORT_EXTRA), 5)
    outcome = await harness.run(text, notify=_settings(safety_net_s=1.0), timeout_s=10)
    assert outcome.reason == "done", outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 20}
    assert len(harness.ledger_orders("import")) == 4
    harness.assert_no_number_in_two_orders()


async def test_a_subscription_that_cannot_be_created_leaves_batched_reads(
    harness: Harness,
) -> None:
    """A callback URL the API refuses (not http/https): the run says so and finishes with
    batched reads."""
    imports = numbers_from("+1919991", 10)
    text = plan_text(step("import", imports, IMPORT_EXTRA), 5)
    settings = _settings(url="ftp://example.com/hook")
    outcome = await harness.run(text, notify=settings, timeout_s=10)
    assert outcome.reason == "done", outcome.message
    assert "order notifications off" in outcome.message
    assert Counter(r.status for r in harness.report) == {"succeeded": 10}


async def test_a_resumed_run_finds_its_subscription_again(harness: Harness) -> None:
    """A subscription left by an earlier run (same URL and order type) is taken over with new
    credentials (PUT), not created a second time, and deleted at the end."""
    settings = _settings()
    creds = harness.sandbox.config.credentials
    body = (
        "<Subscription><OrderType>importtnorders</OrderType><CallbackSubscription>"
        f"<URL>{settings.url}</URL><Expiry>3600</Expiry><CallbackCredentials>"
        "<BasicAuthentication><Username>bwmigrate</Username><Password>old</Password>"
        "</BasicAuthentication></CallbackCredentials></CallbackSubscription></Subscription>"
    )
    r = httpx.post(  # noqa: ASYNC210 - setting the scene before the run
        f"{harness.sandbox.base_url}/api/v2/accounts/{harness.sandbox.config.accounts[0].id}"
        "/subscriptions",
        content=body,
        auth=(creds.username, creds.password),
    )
    assert r.status_code == 201, r.text
    seen: list[Exchange] = []
    imports = numbers_from("+1919991", 10)
    text = plan_text(step("import", imports, IMPORT_EXTRA), 5)
    outcome = await harness.run(text, observe=seen.append, notify=settings, timeout_s=10)
    assert outcome.reason == "done", outcome.message
    calls = Counter(x.method for x in seen if _SUBSCRIPTIONS.search(x.path))
    assert (calls["POST"], calls["PUT"], calls["DELETE"]) == (0, 1, 1)
    assert _subscriptions(harness.sandbox) == []
    assert harness.sandbox.app.notifier.delivery.delivered >= 2
