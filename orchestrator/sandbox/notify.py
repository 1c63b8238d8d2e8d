"""Order notifications: the sandbox's callbacks to subscribed URLs (reference §10).

When an order reaches a terminal status, every subscription of its account for its order type
(`importtnorders`, `removeImportedTnOrders`, `tnoptions`; restricted to one `OrderId` if the
subscription says so) gets a `<Notification>` POSTed to its URL. Delivery as Bandwidth documents
it: the first attempt carries no `Authorization`; a 401 with `WWW-Authenticate: Basic` is
answered by resending with the subscription's Basic credentials (no header: given up). A
receiver that fails (not 200, or unreachable) is retried `retries` times with a doubling delay
(Bandwidth documents no retries for order notifications: `retries = 0` is that).

Seeded faults (`NotifyConfig`): a callback dropped (never sent), duplicated (sent twice) or
reordered (held back and sent after the next one).

A daemon thread (`Notifier`) ticks every `tick_s`: it completes the orders whose time has come
(so callbacks go out without API traffic) and sends what is due. It never holds the state's
lock while sending. Imports only the sandbox's own modules and httpx (the sandbox imports no
client code).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from orchestrator.sandbox.config import FaultConfig
from orchestrator.sandbox.model import OrderKind
from orchestrator.sandbox.orders import Order, iso
from orchestrator.sandbox.state import SandboxState
from orchestrator.sandbox.xmlio import el, to_bytes

__all__ = ["Notifier", "NotifyConfig", "notification_body"]

ORDER_TYPE = {
    OrderKind.IMPORT: "importtnorders",
    OrderKind.REMOVE: "removeImportedTnOrders",
    OrderKind.TNOPTIONS: "tnoptions",
}


@dataclass(slots=True)
class NotifyConfig:
    """Delivery settings and seeded faults of the sandbox's callbacks."""

    retries: int = 3
    retry_delay_s: float = 0.1
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    tick_s: float = 0.05
    seed: int = 0


@dataclass(slots=True)
class _Callback:
    url: str
    username: str | None
    password: str | None
    body: bytes
    attempts: int = 0
    due_at: float = 0.0


@dataclass(slots=True)
class Delivery:
    """What happened to callbacks (the ledger of the notifier, for tests and benches)."""

    sent: int = 0
    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    given_up: int = 0
    log: list[tuple[str, int | None]] = field(default_factory=list)  # (order id, status)


def notification_body(sub_id: str, order: Order, now: float) -> bytes:
    """The `<Notification>` for an order's terminal status (reference §10)."""
    status = order.status_at(now).value
    return to_bytes(
        el(
            "Notification",
            el("SubscriptionId", text=sub_id),
            el("OrderType", text=ORDER_TYPE[order.kind]),
            el("OrderId", text=order.order_id),
            *([el("CustomerOrderId", text=order.customer_order_id)]
              if order.customer_order_id else []),
            el("Status", text=status),
            el("Message", text=f"Order {status.lower()}"),
            el("LastModifiedDate", text=iso(order.completed_at or now)),
        )
    )  # fmt: skip


class Notifier:
    """Sends the callbacks of completed orders (module docstring); one daemon thread."""

    def __init__(
        self, state: Callable[[], SandboxState], config: NotifyConfig | None = None
    ) -> None:
        self._state = state  # the app's current SandboxState (reconfigure replaces it)
        self.config = config or NotifyConfig()
        self.delivery = Delivery()
        self._rng = random.Random(self.config.seed)
        self._completed: deque[Order] = deque()
        self._queue: list[_Callback] = []
        self._held: _Callback | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sandbox-notify", daemon=True)
        self._thread.start()

    def configure(self, faults: FaultConfig, seed: int) -> None:
        """Take the callback settings of the sandbox's `[faults]` (its seed starts them over)."""
        self.config = NotifyConfig(
            retries=faults.callback_retries,
            drop_rate=faults.callback_drop_rate,
            duplicate_rate=faults.callback_duplicate_rate,
            reorder_rate=faults.callback_reorder_rate,
            seed=seed,
        )
        self._rng = random.Random(seed)

    def order_completed(self, order: Order) -> None:
        """Called by the state (under its lock) when an order reaches its terminal status."""
        self._completed.append(order)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _loop(self) -> None:
        with httpx.Client(timeout=5.0) as http:
            while not self._stop.wait(self.config.tick_s):
                try:
                    self._tick(http)
                except Exception:  # noqa: S112 - the sandbox keeps serving
                    continue

    def _tick(self, http: httpx.Client) -> None:
        state = self._state()
        if not state.subscriptions.any():
            self._completed.clear()
            return
        state.advance()
        now = time.time()
        while self._completed:
            self._enqueue(state, self._completed.popleft(), now)
        due = [c for c in self._queue if c.due_at <= now]
        self._queue = [c for c in self._queue if c.due_at > now]
        for callback in due:
            self._send(http, callback, now)

    def _enqueue(self, state: SandboxState, order: Order, now: float) -> None:
        kind = ORDER_TYPE.get(order.kind)
        for sub in state.list_subscriptions(order.account_id):
            req = sub.request
            if req.url is None or req.order_type != kind:
                continue
            if req.order_id is not None and req.order_id != order.order_id:
                continue
            body = notification_body(sub.id, order, now)
            callback = _Callback(req.url, req.username, req.password, body, due_at=now)
            self._fault(callback, order.order_id)

    def _fault(self, callback: _Callback, order_id: str) -> None:
        """Drop, duplicate or reorder (seeded), then queue."""
        c, d = self.config, self.delivery
        if self._rng.random() < c.drop_rate:
            d.dropped += 1
            d.log.append((order_id, None))
            return
        if self._rng.random() < c.reorder_rate and self._held is None:
            d.reordered += 1
            self._held = callback
            return
        self._queue.append(callback)
        if self._rng.random() < c.duplicate_rate:
            d.duplicated += 1
            self._queue.append(_Callback(callback.url, callback.username, callback.password,
                                         callback.body, due_at=callback.due_at))  # fmt: skip
        if self._held is not None:
            self._queue.append(self._held)
            self._held = None

    def _send(self, http: httpx.Client, callback: _Callback, now: float) -> None:
        """One delivery: without credentials, then (on a Basic challenge) with them."""
        d = self.delivery
        callback.attempts += 1
        headers = {"Content-Type": "application/xml; charset=utf-8"}
        status = self._post(http, callback.url, callback.body, headers, None)
        challenged = status == 401 and self._last_challenge
        if challenged and callback.username is not None and callback.password is not None:
            auth = (callback.username, callback.password)
            status = self._post(http, callback.url, callback.body, headers, auth)
        d.log.append((_order_id(callback.body), status))
        if status == 200:
            d.delivered += 1
            return
        d.failed += 1
        if callback.attempts > self.config.retries:
            d.given_up += 1
            return
        callback.due_at = now + self.config.retry_delay_s * 2 ** (callback.attempts - 1)
        self._queue.append(callback)

    _last_challenge = False

    def _post(
        self,
        http: httpx.Client,
        url: str,
        body: bytes,
        headers: dict[str, str],
        auth: tuple[str, str] | None,
    ) -> int | None:
        self.delivery.sent += 1
        try:
            if auth is not None:
                r = http.post(url, content=body, headers=headers, auth=httpx.BasicAuth(*auth))
            else:
                r = http.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            self._last_challenge = False
            return None
        self._last_challenge = r.headers.get("www-authenticate", "").lower().startswith("basic")
        return r.status_code


def _order_id(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    start = text.find("<OrderId>")
    return text[start + 9 : text.find("</OrderId>")] if start >= 0 else ""
