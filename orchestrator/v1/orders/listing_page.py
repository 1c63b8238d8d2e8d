"""One page of the live v1 `externalTns` listing: what paging needs from it.

This module owns `PageInfo` and `listing_page_info`: the TotalCount, the query of the next page
(`Links/next`), the order ids and the oldest order date on the page. Reading the orders of the
pages is `orchestrator.v1.orders.reader`'s (`read_listing_pages`).

Pure. Imports only the standard library, the hardened XML parser, `orchestrator.errors` and its
siblings `element` and `order_document` (the order-id element names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.api.xml import parse_xml
from orchestrator.errors import InputError, XmlError
from orchestrator.v1.orders.element import child_text, first_child, local_name
from orchestrator.v1.orders.order_document import ORDER_ID

__all__ = ["PageInfo", "listing_page_info"]


@dataclass(frozen=True, slots=True)
class PageInfo:
    """What paging needs from one `ExternalTnsOrders` page."""

    total_count: int | None
    next_query: str | None  # the query string of `Links/next`, if any
    order_ids: tuple[str, ...]
    oldest_date: str | None  # yyyy-mm-dd of the oldest order on the page


_NEXT_LINK = re.compile(r"<([^>]*)>")


def listing_page_info(body: bytes, source: str) -> PageInfo:
    """Read the paging facts of one listing page (reference §12: `Links/next` holds
    `Link=<https://…?page=X&size=N>;rel="next";`)."""
    try:
        root = parse_xml(body)
    except XmlError as exc:
        raise InputError(f"{source}: {exc}") from exc
    if local_name(root) != "ExternalTnsOrders":
        raise InputError(f"{source}: expected <ExternalTnsOrders>, got <{local_name(root)}>")
    total = child_text(root, "TotalCount")
    next_query = None
    links = first_child(root, "Links")
    if links is not None:
        text = child_text(links, "next")
        if text:
            match = _NEXT_LINK.search(text)
            url = match.group(1) if match else text
            next_query = url.partition("?")[2] or None
    ids, dates = [], []
    for el in root.iterchildren("ExternalTnsOrder"):
        ids.append(child_text(el, *ORDER_ID) or "")
        date = child_text(el, "OrderCreateDate")
        if date:
            dates.append(date[:10])
    return PageInfo(
        total_count=int(total) if total and total.isdigit() else None,
        next_query=next_query,
        order_ids=tuple(ids),
        oldest_date=min(dates) if dates else None,
    )
