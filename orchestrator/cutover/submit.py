"""Submitting an order exactly once: intent first, then the POST, then the id; reconcile the rest.

The submit half of the exactly-once protocol (docs/ARCHITECTURE.md, "The journey of one
order"):

1. the intent (order row, numbers, CustomerOrderId, `attempted_at`) is committed before the
   POST (`Store.mark_submitting`);
2. the order id the API returns is committed before the first poll (`Store.mark_submitted`,
   shielded from cancellation);
3. a POST whose outcome is unknown (lost response, 5xx, unreadable answer) is never retried
   blindly: the order is looked up (`orchestrator.cutover.reconcile`, by CustomerOrderId and by
   number across the visibility window) and adopted if found, posted again only when proven
   absent, at most `MAX_REPOSTS` times in a run;
4. a create the API refuses (4xx) fails the order's numbers with the API's code;
5. a POST that provably created nothing (no connection after the in-call retries; the
   credentials refused: 401/403 come before the body is read; a target that does not serve
   the endpoint: 404/405) is not "outcome unknown": the order goes back to planned
   (`Store.mark_unsent`) and the run stops saying what to fix (the URL or the credentials).
   So does one cancelled (the run stopping) while no try of its POST had begun to leave
   (`_Tries`, `api.client.SendWitness`).

`Submitter.reconcile` is also what the engine runs, on start, for every order a crash left
`submitting`. Must not print or read the environment; works through `RunContext` only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import anyio

from orchestrator.api.client import ApiClient
from orchestrator.api.gate import Priority
from orchestrator.api.orders import ORDER_KINDS, OrderKind, order_body
from orchestrator.api.send_witness import SendWitness
from orchestrator.api.status import REJECTED_STATUS
from orchestrator.api.xml import OrderDoc, OrderList
from orchestrator.cutover.context import RunAborted, RunContext
from orchestrator.cutover.outcome import commit, failure_status
from orchestrator.cutover.reconcile import Reconciler, StopRequested
from orchestrator.errors import (
    ApiError,
    AuthError,
    PermanentApiError,
    RateLimitedError,
    RequestNotSentError,
    ResponseLostError,
    TransientApiError,
    XmlError,
)
from orchestrator.state.schema import NumberStatus, OrderRecord, OrderState

__all__ = ["MAX_REPOSTS", "Submitter"]

MAX_REPOSTS = 5  # an order proved absent this many times is left for the next run


class Submitter:
    """Posts orders and reconciles those whose POST outcome is unknown."""

    def __init__(self, ctx: RunContext, *, visibility_window_s: float) -> None:
        self._ctx = ctx
        self._reconciler = Reconciler(
            client=ctx.client,
            lookup=self._lookup,
            clock=ctx.clock,
            stop=ctx.stop,
            visibility_window_s=visibility_window_s,
        )

    async def submit(self, order: OrderRecord) -> OrderRecord:
        """POST a planned order with its intent committed first; reconcile when the outcome is
        unknown. The order as it then stands: submitted (with its remote id), done (refused),
        still submitting (stopping before absence was proven), or given up (no remote id)."""
        ctx = self._ctx
        kind = ORDER_KINDS[ctx.steps[order.step].kind].kind
        for _attempt in range(MAX_REPOSTS):
            body, order = await self._commit_intent(order)
            create = _Tries(ctx.client, kind, body)
            try:
                doc = await ctx.call(create, Priority.SUBMIT, retry_posts=False, auth_aborts=False)
            except (AuthError, RequestNotSentError) as exc:
                raise await self._unsent(order, exc) from exc
            except anyio.get_cancelled_exc_class():
                if not create.maybe_sent:  # cancelled between tries none of which got through
                    await self._take_back(order, "cancelled before the POST reached the API")
                raise
            except PermanentApiError as exc:
                return await self._refused(order, kind, exc)
            except (ResponseLostError, TransientApiError, XmlError) as exc:
                order = await self._settle(order, f"POST outcome unknown: {exc}", reposts=True)
            else:
                if doc.order_id is not None:
                    return await self._record_submitted(order, doc.order_id, doc.status)
                order = await self._settle(order, "201 without an order id", reposts=False)
            if order.state is not OrderState.PLANNED:  # adopted, or stopping
                return order
        await ctx.db(
            ctx.store.note_order_error,
            order.id,
            f"absent after {MAX_REPOSTS} posts; left for the next run",
        )
        ctx.tally.give_up(order)
        return replace(order, remote_id=None)

    async def reconcile(self, order: OrderRecord, why: str) -> OrderRecord | None:
        """Find an order whose POST outcome is unknown: adopt it, or mark it absent (None).

        Raises `StopRequested` when stopping before absence is proven (it stays submitting).
        """
        ctx = self._ctx
        kind = ORDER_KINDS[ctx.steps[order.step].kind].kind
        numbers = await ctx.db(ctx.store.order_numbers, order.id)
        remote = await self._reconciler.find(
            kind,
            order.customer_order_id,
            numbers[0] if numbers else None,
            order.attempted_at if order.attempted_at is not None else ctx.clock(),
        )
        if remote is None:
            await ctx.db(ctx.store.mark_absent, order.id, f"{why}; absent remotely")
            return None
        return await self._record_submitted(order, remote.order_id, remote.status)

    async def _commit_intent(self, order: OrderRecord) -> tuple[bytes, OrderRecord]:
        """The order's body, built from the state file, and the intent to post it committed."""
        ctx = self._ctx
        step = ctx.steps[order.step]
        numbers = await ctx.db(ctx.store.order_numbers, order.id)
        body = order_body(step.kind, step.settings, order.customer_order_id, numbers)
        first = order.submit_attempts == 0
        attempted_at = ctx.clock()
        with anyio.CancelScope(shield=True):  # a cancel then lands in the POST's call, which
            await ctx.db(ctx.store.mark_submitting, order.id, attempted_at)  # can take it back
        if first:
            ctx.tally.move(order.step, NumberStatus.PENDING, NumberStatus.IN_ORDER, order.size)
        return body, replace(order, attempted_at=attempted_at)

    async def _settle(self, order: OrderRecord, why: str, *, reposts: bool) -> OrderRecord:
        """Reconcile a POST whose outcome is unknown: the order adopted (submitted), still
        submitting (stopping), or planned again when proven absent (`reposts`: counted as a
        post made)."""
        try:
            found = await self.reconcile(order, why)
        except StopRequested:
            return replace(order, state=OrderState.SUBMITTING, remote_id=None)
        if found is not None:
            return found
        attempts = order.submit_attempts + 1 if reposts else order.submit_attempts
        return replace(order, state=OrderState.PLANNED, submit_attempts=attempts)

    async def _unsent(self, order: OrderRecord, exc: ApiError) -> RunAborted:
        """The POST provably created nothing: never connected, credentials refused (401/403
        come before the body is read), or a target without the endpoint (404/405). The order
        goes back to planned (nothing to reconcile) and the run stops saying what to fix."""
        ctx = self._ctx
        await self._take_back(order, f"not sent: {exc}")
        unsent = f"order {order.customer_order_id} was not sent"
        if isinstance(exc, AuthError):
            return ctx.abort(
                f"the API refused the credentials ({exc}); {unsent}: fix the BWMIGRATE_* "
                "credentials and run the same command again"
            )
        if isinstance(exc, PermanentApiError):
            kind = ORDER_KINDS[ctx.steps[order.step].kind].kind
            return ctx.abort(
                f"the target does not serve {kind} orders ({exc}); {unsent}: check --target "
                "(it must be the v2 API's base URL, ending in /api/v2)"
            )
        return ctx.abort(
            f"cannot reach the API at {ctx.client.base_url} ({exc}); {unsent}: check --target "
            "(host, port, DNS, TLS) and the network, then run the same command again"
        )

    async def _take_back(self, order: OrderRecord, reason: str) -> None:
        """The intent of a POST that never reached the API is taken back: planned again."""
        ctx = self._ctx
        with anyio.CancelScope(shield=True):
            await ctx.db(ctx.store.mark_unsent, order.id, reason)
        if order.submit_attempts == 0:
            ctx.tally.move(order.step, NumberStatus.IN_ORDER, NumberStatus.PENDING, order.size)

    async def _record_submitted(
        self, order: OrderRecord, remote_id: str, remote_status: str
    ) -> OrderRecord:
        """Commit the order's remote id (shielded) before anything polls it."""
        ctx = self._ctx
        with anyio.CancelScope(shield=True):
            await ctx.db(ctx.store.mark_submitted, order.id, remote_id, remote_status, ctx.clock())
        ctx.tally.orders_submitted += 1
        return replace(
            order, state=OrderState.SUBMITTED, remote_id=remote_id, remote_status=remote_status
        )

    async def _refused(
        self, order: OrderRecord, kind: OrderKind, exc: PermanentApiError
    ) -> OrderRecord:
        """The API refused the create (4xx): its numbers fail with the API's code; a target
        that does not serve the endpoint at all aborts the run."""
        ctx = self._ctx
        if exc.status in (404, 405):
            raise await self._unsent(order, exc) from exc
        code = exc.code or str(exc.status)
        desc = exc.description or str(exc)
        role = ctx.steps[order.step].settings.get("role")
        rest = failure_status(str(role) if role else None, code)
        await commit(ctx, order, REJECTED_STATUS, [], (code, desc), [], rest)
        return replace(order, state=OrderState.DONE)

    async def _lookup(self, fn: Callable[[], Awaitable[OrderList]]) -> OrderList:
        """One order-list lookup for reconciliation; an API that cannot answer aborts the run
        (posting again without proof of absence could duplicate the order)."""
        try:
            return await self._ctx.call(fn, Priority.SUBMIT)
        except (ApiError, XmlError) as exc:  # unreachable, or an answer that is not a list
            raise self._ctx.abort(
                f"cannot look orders up in the API ({exc}); run again to resume"
            ) from exc


class _Tries:
    """One create, as the gate calls it (again after a 429 or a failed connection): remembers
    whether any try may have reached the API. One that failed to connect, was rate limited
    (429) or refused for its credentials (401/403) did not; one cut short did only if the
    transport had begun writing it (`SendWitness`)."""

    def __init__(self, client: ApiClient, kind: OrderKind, body: bytes) -> None:
        self._client = client
        self._kind = kind
        self._body = body
        self._earlier = False  # an earlier try may have got through
        self._current: SendWitness | None = None

    @property
    def maybe_sent(self) -> bool:
        """True when some try may have reached the API."""
        return self._earlier or (self._current is not None and self._current.maybe_sent)

    async def __call__(self) -> OrderDoc:
        witness = self._current = SendWitness()
        try:
            return await self._client.create_order(self._kind, self._body, witness=witness)
        except (RequestNotSentError, RateLimitedError, AuthError):
            self._current = None  # provably not processed
            raise
        except BaseException:
            self._earlier = self._earlier or witness.maybe_sent
            self._current = None
            raise
