"""Read the v1 `externalTns` order listing live, read-only, for `convert --from-api`.

`GET {v1 base}/accounts/{id}/externalTns?page=1&size=N`, following `Links/next` (reference
§12). The listing is capped at 1,000 orders per answer and documents no paging of its own; when
an answer holds fewer orders than its `TotalCount` and names no next page, older orders are
fetched through `createdDateTo` windows (newest first, de-duplicated by order id) until every
order is in or no window brings a new one (then a note says the listing is incomplete).

The caller opens the client (on `v1_base_url(url)`) and its request gate
(`orchestrator.cutover.connection.open_api`, as every command talking to an API does): auth,
error mapping and the OAuth2 token come from `orchestrator.api.client.ApiClient` (the same
`BWMIGRATE_*` credentials as every other command, client credentials going only to `token_url`,
Bandwidth's token endpoint unless given); this module only adds one read-only GET, paced by that
gate (`DEFAULT_RATE_PER_S` is the pace to open it with). Only GETs are sent.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from orchestrator.api.client import ApiClient
from orchestrator.api.credentials import redact_url
from orchestrator.api.gate import Priority, RequestGate, call_with_retry
from orchestrator.api.pacing import Backoff
from orchestrator.errors import InputError
from orchestrator.text import counted
from orchestrator.v1.intent import Note
from orchestrator.v1.orders.listing_page import listing_page_info

DEFAULT_PAGE_SIZE = 1000
DEFAULT_RATE_PER_S = 2.0  # a polite pace for a read the cutover's budget may share
MAX_REQUESTS = 1000  # a bound on one listing's GETs, whatever the server answers


@dataclass(slots=True)
class Listing:
    """The raw pages of one listing, the URL it came from (no credentials), and notes."""

    source: str
    pages: list[bytes] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def v1_base_url(url: str) -> str:
    """Check and normalise a v1 base URL: no credentials in it, not v2; bare host -> /api/v1."""
    parts = urlsplit(url.strip())
    shown = redact_url(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"--from-api {shown!r}: give an http(s) URL such as "
            "https://dashboard.bandwidth.com/api/v1"
        )
    if parts.username or parts.password:
        raise InputError(
            "--from-api: credentials in the URL are refused; set BWMIGRATE_* "
            "environment variables instead"
        )
    if parts.query or parts.fragment or "?" in url:
        raise InputError(
            f"--from-api {shown!r}: a query string or fragment is refused (a token there would "
            "be shown and logged); set BWMIGRATE_* environment variables instead"
        )
    path = parts.path.rstrip("/")
    if path.lower().endswith("/v2"):
        raise InputError(
            f"--from-api {shown!r} is a v2 base: externalTns exists only on v1 "
            "(/api/v1, /api or /v1.0)"
        )
    return urlunsplit((parts.scheme, parts.netloc, path or "/api/v1", "", ""))


async def fetch_external_tns(
    client: ApiClient,
    gate: RequestGate,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_page: Callable[[int, int, int | None], None] | None = None,
) -> Listing:
    """Every page of the client's account's v1 externalTns listing (see the module docstring);
    `client` is open on a v1 base URL (`v1_base_url`). `on_page(pages, orders, expected)` is
    told after each page read: pages so far, orders seen, the total the listing reports.

    GETs go through `gate`; 429s pause until the window resets and transient faults are
    retried with backoff (`call_with_retry`: GETs are safe to repeat).
    """
    listing = Listing(source=f"{client.base_url}/accounts/{client.account_id}/externalTns")
    seen: set[str] = set()
    expected: int | None = None
    params: dict[str, str] = {"page": "1", "size": str(page_size)}
    backoff, rng = Backoff(), random.Random()
    for _ in range(MAX_REQUESTS):
        body = await call_with_retry(
            gate, backoff, rng, partial(client.get_account_xml, "externalTns", dict(params)),
            priority=Priority.POLL, retry_posts=True,
        )  # fmt: skip
        if body is None:
            break
        info = listing_page_info(body, listing.source)
        new = [i for i in info.order_ids if i not in seen]
        seen.update(info.order_ids)
        if new or not listing.pages:
            listing.pages.append(body)
        if expected is None:
            expected = info.total_count
        if on_page is not None:
            on_page(len(listing.pages), len(seen), expected)
        if info.next_query:
            params = dict(parse_qsl(info.next_query))
            continue
        if expected is None or len(seen) >= expected or not new or info.oldest_date is None:
            break
        params = {"createdDateTo": info.oldest_date}  # older orders, newest first
    if expected is not None and len(seen) < expected:
        listing.notes.append(
            Note(
                listing.source,
                None,
                f"the listing reports {counted(expected, 'order')} but only "
                f"{len(seen)} could be read: convert saved listings for the rest",
            )
        )
    return listing
