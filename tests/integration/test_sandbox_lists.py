"""Sandbox: the order list endpoints (import, removal, TN options): the filters the engine uses,
the 1,000-order cap, and the list lag fault (`[faults] list_lag_s`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx
import pytest

from orchestrator.sandbox import ManualClock
from orchestrator.sandbox.config import FaultConfig
from orchestrator.sandbox.model import ApiVersion, RemoveRequest

IMPORT = "importTnOrders/messaging"
REMOVE = "removeImportedTnOrders/messaging"
OPTIONS = "tnoptions"
DAY_S = 86_400.0
# ManualClock() starts at 2024-05-14T09:12:03Z.
START_DAY, NEXT_DAY = "2024-05-14", "2024-05-15"


def import_body(coid: str, *numbers: str) -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)
    return (
        f"<ExternalTnsOrder><CustomerOrderId>{coid}</CustomerOrderId><SiteId>743</SiteId>"
        f"<LoaType>CARRIER</LoaType><TelephoneNumbers>{tns}</TelephoneNumbers></ExternalTnsOrder>"
    )


def remove_body(coid: str, *numbers: str) -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)
    return (
        f"<RemoveImportedTnOrder><CustomerOrderId>{coid}</CustomerOrderId>"
        f"<TelephoneNumbers>{tns}</TelephoneNumbers></RemoveImportedTnOrder>"
    )


def options_body(coid: str, *numbers: str) -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)
    return (
        f"<TnOptionOrder><CustomerOrderId>{coid}</CustomerOrderId><TnOptionGroups><TnOptionGroup>"
        f"<Sms>on</Sms><TelephoneNumbers>{tns}</TelephoneNumbers></TnOptionGroup>"
        "</TnOptionGroups></TnOptionOrder>"
    )


BODIES = {IMPORT: import_body, REMOVE: remove_body, OPTIONS: options_body}


def create(client: httpx.Client, path: str, coid: str, *numbers: str) -> str:
    """POST an order; its OrderId."""
    r = client.post(path, content=BODIES[path](coid, *numbers))
    assert r.status_code == 201, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def listed(client: httpx.Client, path: str, params: object = None) -> list[str]:
    """The OrderIds a list answer shows (checking TotalCount agrees under the cap); the v2 TN
    option list is inside `TnOptionOrderReportResponse`."""
    r = client.get(path, params=params)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    if path == OPTIONS:
        assert root.tag == "TnOptionOrderReportResponse" and len(root) == 1
        root = root[0]
    ids = [s.findtext("OrderId") or "" for s in root if s.tag != "TotalCount"]
    assert root.findtext("TotalCount") == str(len(ids))
    return ids


@pytest.fixture
def lagging(sandbox_client, sandbox_factory):
    """A sandbox on a manual clock whose new orders show in lists 30 s after creation
    (configured after `sandbox_client`, whose `sandbox` fixture resets the server)."""
    clock = ManualClock()
    sandbox = sandbox_factory(clock=clock, faults=FaultConfig(list_lag_s=30.0))
    sandbox.state.seed(
        {"numbers": [{"number": "+19195550100"}, {"number": "+19195550200", "kind": "imported"}]}
    )
    return sandbox, clock


@pytest.mark.parametrize(
    ("path", "number"),
    [(IMPORT, "+19195550300"), (REMOVE, "+19195550200"), (OPTIONS, "+19195550100")],
)
def test_new_order_is_listed_only_after_the_lag(lagging, sandbox_client, path, number):
    """With list_lag_s = 30 an order of any kind is absent from its list (by customerOrderId,
    by tn, unfiltered) until 30 s on the sandbox clock; GET by id and the ledger see it at once."""
    sandbox, clock = lagging
    order_id = create(sandbox_client, path, "lag-1", number)
    assert sandbox_client.get(f"{path}/{order_id}").status_code == 200
    ledger = httpx.get(sandbox.base_url + "/_sandbox/ledger").json()
    assert [o["order_id"] for o in ledger["orders"]] == [order_id]
    queries = [{"customerOrderId": "lag-1"}, {"tn": number}, None]
    clock.advance(29.9)
    assert [listed(sandbox_client, path, q) for q in queries] == [[], [], []]
    clock.advance(0.1)
    assert [listed(sandbox_client, path, q) for q in queries] == [[order_id]] * 3


def test_lag_is_exactly_the_setting_for_every_order(lagging, sandbox_client):
    """Every order lags the same S (no draw): of two orders created 10 s apart, the first shows
    at +30 s, the second 10 s later."""
    _, clock = lagging
    first = create(sandbox_client, IMPORT, "lag-a", "+19195550301")
    clock.advance(10.0)
    second = create(sandbox_client, IMPORT, "lag-b", "+19195550302")
    clock.advance(20.0)
    assert listed(sandbox_client, IMPORT) == [first]
    clock.advance(10.0)
    assert listed(sandbox_client, IMPORT) == [second, first]


def test_list_lag_seeded_through_the_side_endpoint(sandbox_factory, sandbox_client):
    """`POST /_sandbox/seed` with `[faults] list_lag_s` makes orders created after it lag."""
    clock = ManualClock()
    sandbox = sandbox_factory(clock=clock)
    before = create(sandbox_client, IMPORT, "seed-0", "+19195550301")
    r = httpx.post(sandbox.base_url + "/_sandbox/seed", json={"faults": {"list_lag_s": 5}})
    assert r.status_code == 200
    after = create(sandbox_client, IMPORT, "seed-1", "+19195550302")
    assert listed(sandbox_client, IMPORT) == [before]
    clock.advance(5.0)
    assert listed(sandbox_client, IMPORT) == [after, before]


def test_negative_list_lag_is_refused(sandbox):
    """A negative `list_lag_s` is a seed error, not a sandbox that lists the future."""
    r = httpx.post(sandbox.base_url + "/_sandbox/seed", json={"faults": {"list_lag_s": -1}})
    assert r.status_code == 400
    assert "list_lag_s" in r.json()["error"]


@pytest.mark.parametrize("path", [IMPORT, REMOVE, OPTIONS])
def test_created_date_filters_are_inclusive_utc_dates(sandbox_factory, sandbox_client, path):
    """createdDateFrom/createdDateTo (yyyy-MM-dd) bound the sandbox clock's UTC creation date,
    both ends inclusive."""
    clock = ManualClock()
    sandbox_factory(clock=clock).state.seed({"numbers": [{"number": "+19195550100"}]})
    first = create(sandbox_client, path, "day-1", "+19195550100")
    clock.advance(DAY_S)
    second = create(sandbox_client, path, "day-2", "+19195550100")
    assert listed(sandbox_client, path, {"createdDateFrom": NEXT_DAY}) == [second]
    assert listed(sandbox_client, path, {"createdDateTo": START_DAY}) == [first]
    both_ends = {"createdDateFrom": START_DAY, "createdDateTo": START_DAY}
    assert listed(sandbox_client, path, both_ends) == [first]
    window = {"createdDateFrom": START_DAY, "createdDateTo": NEXT_DAY}
    assert listed(sandbox_client, path, window) == [second, first]
    assert listed(sandbox_client, path, {"createdDateFrom": "2024-05-16"}) == []


@pytest.mark.parametrize("path", [IMPORT, REMOVE, OPTIONS])
@pytest.mark.parametrize("bad", ["2024-5-14", "20240514", "14/05/2024", "2024-02-30"])
def test_malformed_date_is_400_1007(sandbox_client, path, bad):
    """A date that is not yyyy-MM-dd answers 400 ResponseStatus 1007 naming the parameter."""
    r = sandbox_client.get(path, params={"createdDateFrom": bad})
    assert r.status_code == 400
    root = ET.fromstring(r.content)
    assert root.findtext("ResponseStatus/ErrorCode") == "1007"
    assert root.findtext("ResponseStatus/Description") == (
        "createdDateFrom is not a valid date format."
    )


@pytest.mark.parametrize("path", [IMPORT, REMOVE, OPTIONS])
def test_filters_combine_and_unknown_parameters_are_ignored(sandbox, sandbox_client, path):
    """customerOrderId, tn and repeated status narrow together; unknown parameters (and
    loaType outside the import list) change nothing."""
    sandbox.state.seed(
        {
            "numbers": [
                {"number": "+19195550100", "kind": "imported"},
                {"number": "+19195550101", "kind": "imported"},
                {"number": "+19195550102", "kind": "imported"},
            ],
            "failure_rules": [
                {"kind": kind, "numbers": ["+19195550101"], "code": 7518}
                for kind in ("import", "remove", "tnoptions")
            ],
        }
    )
    ok = create(sandbox_client, path, "same", "+19195550100")
    bad = create(sandbox_client, path, "same", "+19195550101")
    other = create(sandbox_client, path, "other", "+19195550102")
    assert listed(sandbox_client, path, {"customerOrderId": "same"}) == [bad, ok]
    assert listed(sandbox_client, path, {"customerOrderId": "same", "tn": "+19195550100"}) == [ok]
    assert listed(sandbox_client, path, [("status", "FAILED")]) == [bad]
    both = [("status", "FAILED"), ("status", "complete"), ("customerOrderId", "same")]
    assert listed(sandbox_client, path, both) == [bad, ok]
    noise = {"frobnicate": "1", "orderIdFragment": "zz", "page": "x"}
    if path != IMPORT:
        noise["loaType"] = "SUBSCRIBER"
    assert listed(sandbox_client, path, noise) == [other, bad, ok]


def test_import_list_filters_by_loa_type(sandbox_client):
    """The import list's loaType filter (SUBSCRIBER|CARRIER|ALL) matches the orders' LoaType."""
    carrier = create(sandbox_client, IMPORT, "c", "+19195550100")
    assert listed(sandbox_client, IMPORT, {"loaType": "SUBSCRIBER"}) == []
    assert listed(sandbox_client, IMPORT, {"loaType": "carrier"}) == [carrier]
    assert listed(sandbox_client, IMPORT, {"loaType": "ALL"}) == [carrier]


def test_list_answers_at_most_1000_orders_with_the_full_total(sandbox_factory, sandbox_client):
    """1,001 matching orders: TotalCount 1001 and the newest 1,000 summaries, newest first."""
    clock = ManualClock()
    sandbox = sandbox_factory(clock=clock)
    for i in range(1001):
        clock.advance(1.0)
        sandbox.state.create_remove(
            "9900012",
            RemoveRequest(numbers=(f"+1919555{i:04d}",), customer_order_id=f"cap-{i}"),
            ApiVersion.V2,
            "sandbox",
        )
    root = ET.fromstring(sandbox_client.get(REMOVE).content)
    summaries = root.findall("RemoveImportedTnOrderSummary")
    assert root.findtext("TotalCount") == "1001"
    assert len(summaries) == 1000
    assert summaries[0].findtext("CustomerOrderId") == "cap-1000"
    assert summaries[-1].findtext("CustomerOrderId") == "cap-1"


def _page(client: httpx.Client, url: str, params: object = None) -> tuple[list[str], str | None]:
    """One page of a list: its OrderIds and the URL of `Links/next` (None on the last page)."""
    r = client.get(url, params=params)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    ids = [s.findtext("OrderId") or "" for s in root if s.tag.endswith("Summary")]
    nxt = root.findtext("Links/next")
    return ids, None if nxt is None else nxt.split("<", 1)[1].split(">", 1)[0]


def test_a_list_pages_by_links_and_keeps_its_filters(sandbox, sandbox_client):
    """`size=2` over five orders: three pages linked by `Links/next` (each keeping the
    creation-date filter), every order exactly once, newest first, no `next` on the last."""
    ids = [create(sandbox_client, IMPORT, f"page-{i}", f"+1919555040{i}") for i in range(5)]
    pages, url, params = [], IMPORT, {"createdDateFrom": "2000-01-01", "size": "2"}
    while url is not None:
        shown, url = _page(sandbox_client, url, params)
        params = None
        pages.append(shown)
        assert url is None or "createdDateFrom=2000-01-01" in url
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in p] == list(reversed(ids))


def test_a_v2_list_refuses_a_status_its_enum_does_not_name(sandbox, sandbox_client):
    """The v2 import and removal lists' `status` enum is PROCESSING, COMPLETE, PARTIAL, FAILED
    (the excerpt): RECEIVED or EXCEPTION is a 400, as for any invalid value."""
    for path in (IMPORT, REMOVE):
        assert sandbox_client.get(path, params={"status": "EXCEPTION"}).status_code == 400
        assert sandbox_client.get(path, params={"status": "RECEIVED"}).status_code == 400
        assert sandbox_client.get(path, params={"status": "COMPLETE"}).status_code in (200, 204)
