"""Reading numbers back from the API, for a snapshot and a verify: pages where they cover the
field, tndetails where they do not, every request through the run's gate.

    reader = NumberReader(api.client, api.gate, account_id)
    members = await reader.members(None, budget_pages=…)   # the account's in-service pages
    states, unreadable = await reader.details(numbers, on_read=…)

`members` walks `inserviceNumbers` (or a site's) by `Links/next`, `PAGE_SIZE` numbers a page,
and gives up (None) as soon as the first page's `TotalCount` says it would take more pages
than `budget_pages`: reading the numbers one by one is then cheaper. `details` reads tndetails
for many numbers with `concurrency` workers (the gate paces them); a number the API will not
answer for (after the gate's retries) is unreadable, with the reason, not an error; when
`stopping()` turns true the workers stop taking numbers (the caller sees fewer states). Credentials
refused, the API unreachable or unreadable pages raise (the caller cannot complete).

Read-only: GETs only, at the gate's POLL priority, retried as idempotent calls. Counts what it
sent (`ReadCounters`). Prints nothing.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import anyio

from orchestrator.api.client import ApiClient
from orchestrator.api.gate import Priority, RequestGate, call_with_retry
from orchestrator.api.number_state import (
    NumberState,
    absent,
    number_state_from_details,
    parse_inservice_page,
)
from orchestrator.api.pacing import Backoff
from orchestrator.errors import AuthError, PermanentApiError, TransientApiError, XmlError
from orchestrator.plan.e164_number import e164_from_api

PAGE_SIZE = 2500
"""Numbers per in-service page: the only documented cap of a number listing (`/tns`, 1006
above 2500, reference §12); `inserviceNumbers` documents none (default 300)."""
DETAIL_WORKERS = 16
_T = TypeVar("_T")


@dataclass(slots=True)
class ReadCounters:
    """Requests sent, by kind."""

    pages: int = 0
    details: int = 0

    @property
    def requests(self) -> int:
        """Every request."""
        return self.pages + self.details


def pages_for(total: int, size: int = PAGE_SIZE) -> int:
    """How many pages a list of `total` numbers takes (at least one request)."""
    return max(1, -(-total // size))


class NumberReader:
    """Reads one account's numbers through one gate."""

    def __init__(
        self,
        client: ApiClient,
        gate: RequestGate,
        account_id: str,
        *,
        backoff: Backoff | None = None,
        concurrency: int = DETAIL_WORKERS,
        page_size: int = PAGE_SIZE,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.client = client
        self.gate = gate
        self.account_id = account_id
        self.counters = ReadCounters()
        self._backoff = backoff or Backoff()
        self._rng = random.Random()
        self._concurrency = concurrency
        self._page_size = page_size
        self._stopping = stopping

    async def _call(self, fn: Callable[[], Awaitable[_T]]) -> _T:
        return await call_with_retry(
            self.gate, self._backoff, self._rng, fn, priority=Priority.POLL, retry_posts=True
        )

    async def members(self, site_id: str | None, *, budget_pages: int) -> set[str] | None:
        """The numbers in service on the account (or on `site_id`), or None when reading them
        would take more than `budget_pages` pages."""
        path = "inserviceNumbers" if site_id is None else f"sites/{site_id}/inserviceNumbers"
        query: dict[str, str] | None = {"page": "1", "size": str(self._page_size)}
        found: set[str] = set()
        first, read = True, 0
        while query is not None:
            self.counters.pages += 1
            body = await self._call(functools.partial(self.client.get_account_xml, path, query))
            if body is None:
                break  # 204: nothing (more) in service
            page = parse_inservice_page(body)
            if first and pages_for(page.total, self._page_size) > budget_pages:
                return None
            first = False
            read += 1
            if read > pages_for(page.total, self._page_size) + 1:
                raise XmlError(f"{path}: the pages' Links/next never end ({read} pages read)")
            found.update(e164_from_api(n) for n in page.numbers)
            query = page.next_query if page.numbers else None
        return found

    async def detail(self, number: str) -> NumberState:
        """One number's tndetails, read for the account (404: not on it)."""
        self.counters.details += 1
        body = await self._call(functools.partial(self.client.get_tn_details_xml, number))
        if body is None:
            return absent(number, detailed=True)
        return number_state_from_details(body, number, self.account_id)

    async def details(
        self,
        numbers: Sequence[str],
        on_read: Callable[[list[NumberState]], Awaitable[None]] | None = None,
        *,
        batch_size: int = 500,
    ) -> tuple[dict[str, NumberState], dict[str, str]]:
        """tndetails for every number: (states, unreadable number -> why). `on_read` gets the
        states in batches (a snapshot saves them as they come, so it can resume)."""
        states: dict[str, NumberState] = {}
        unreadable: dict[str, str] = {}
        batch: list[NumberState] = []
        todo = iter(numbers)

        async def flush() -> None:
            nonlocal batch
            if batch and on_read is not None:
                done, batch = batch, []
                await on_read(done)

        async def worker() -> None:
            nonlocal batch
            for number in todo:
                if self._stopping():
                    return  # the run was asked to stop: what was read is kept
                try:
                    state = await self.detail(number)
                except AuthError:
                    raise
                except (PermanentApiError, TransientApiError, XmlError) as exc:
                    unreadable[number] = str(exc)
                    continue
                states[number] = state
                batch.append(state)
                if len(batch) >= batch_size:
                    await flush()

        async with anyio.create_task_group() as tg:
            for _ in range(max(1, min(self._concurrency, len(numbers)))):
                tg.start_soon(worker)
        await flush()
        return states, unreadable
