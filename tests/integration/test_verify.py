"""Snapshot and verify against the sandbox over real HTTP with real state files: a run snapshots
before its first order, verify after it finds every number where the plan put it, a number
changed behind the run's back (orders sent straight to the sandbox) is reported with the
field, and the in-service pages replace per-number reads for the fields they cover."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
from asgi_peer import serve_asgi
from planfiles import IMPORT_DETAILS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orchestrator.api.client import BasicCredentials
from orchestrator.api.pacing import Backoff
from orchestrator.cutover.connection import ApiAccess, open_api
from orchestrator.cutover.cutover import Cutover, LiveTarget, Tuning
from orchestrator.cutover.engine import EngineSettings
from orchestrator.cutover.reading import NumberReader
from orchestrator.cutover.snapshot import take_snapshot
from orchestrator.cutover.verify import VerifyResult, verify_numbers
from orchestrator.errors import ExitCode
from orchestrator.plan import FailureThreshold, compile_plan, parse_plan
from orchestrator.sandbox import RunningSandbox
from orchestrator.state.store import Store

ACCOUNT = "9900012"
FAST = "[rate]\nrequests_per_s = 1000\npoll_interval_s = 0.01\nexpected_order_s = 0\n"
TUNING = Tuning(
    settings=EngineSettings(
        max_orders_in_flight=2,
        poll_interval_s=0.01,
        poll_cap_s=0.05,
        failure_threshold=FailureThreshold(100.0, 0),
        visibility_window_s=0.3,
    ),
    backoff=Backoff(base_s=0.01, cap_s=0.05, max_attempts=8, sleeps=False),
)


def _numbers(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(count)]


def _import_plan(numbers: list[str], *, messaging: bool = True) -> str:
    quoted = ", ".join(f'"{n}"' for n in numbers)
    return (
        f'name = "cut"\naccount_id = "{ACCOUNT}"\nbatch_size = 10\ncanary = 0\n{FAST}'
        f'[[steps]]\nkind = "import"\nname = "move"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        f"enable_messaging = {str(messaging).lower()}\n{IMPORT_DETAILS}numbers = [{quoted}]\n"
    )


def _live(sandbox: RunningSandbox) -> tuple[LiveTarget, BasicCredentials]:
    creds = sandbox.config.credentials
    return LiveTarget(f"{sandbox.base_url}/api/v2/"), BasicCredentials(
        creds.username, creds.password
    )


async def _run(sandbox: RunningSandbox, text: str, state: Path) -> Cutover:
    target, creds = _live(sandbox)
    plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")
    with Cutover.open(plan, state, target, plan_text=text) as cutover:
        result = await cutover.run(creds, tuning=TUNING)
    assert (result.outcome, result.exit_code) == ("done", ExitCode.OK)
    return cutover


async def _verify(sandbox: RunningSandbox, state: Path) -> VerifyResult:
    target, creds = _live(sandbox)
    store = Store.open(state, readonly=True)
    try:
        async with open_api(ApiAccess(target.url, creds), ACCOUNT, rate_per_s=1000) as api:
            reader = NumberReader(api.client, api.gate, ACCOUNT, backoff=TUNING.backoff)
            return await verify_numbers(store, reader)
    finally:
        store.close()


def _send(sandbox: RunningSandbox, path: str, body: str) -> None:
    """An order sent straight to the sandbox, behind the run's back."""
    creds = sandbox.config.credentials
    url = f"{sandbox.base_url}/api/v2/accounts/{ACCOUNT}/{path}"
    r = httpx.post(
        url,
        content=body,
        auth=(creds.username, creds.password),
        headers={"Content-Type": "application/xml"},
    )
    assert r.status_code == 201, r.text
    sandbox.state.account_numbers(ACCOUNT)  # let the order complete (order_delay_s = 0)


def _sms_off(number: str) -> str:
    return (
        "<TnOptionOrder><CustomerOrderId>behind-the-back</CustomerOrderId><TnOptionGroups>"
        f"<TnOptionGroup><Sms>off</Sms><TelephoneNumbers><TelephoneNumber>{number}"
        "</TelephoneNumber></TelephoneNumbers></TnOptionGroup></TnOptionGroups></TnOptionOrder>"
    )


async def test_a_run_snapshots_first_and_verify_finds_every_number_as_planned(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """The run keeps each planned number's before-state (external numbers: not on the account,
    from one in-service page) before its first order; verify after it reads every number back
    and finds all of them where the plan put them (site, SIP peer, SMS on): exit 0."""
    numbers = _numbers("+1919444", 12)
    state = tmp_path / "s.db"
    cutover = await _run(sandbox, _import_plan(numbers), state)
    assert cutover.checks.snapshotted is not None
    assert (cutover.checks.snapshotted.by_pages, cutover.checks.snapshotted.requests) == (12, 1)
    store = Store.open(state, readonly=True)
    try:
        before = store.snapshot()
        assert "snapshot_taken_at" in store.meta()
    finally:
        store.close()
    assert sorted(before) == numbers
    assert {s.on_account for s in before.values()} == {"false"}
    result = await _verify(sandbox, state)
    assert result.as_json()["numbers"] == {
        "checked": 12, "matched": 12, "drifted": 0, "unreadable": 0, "not_checked": 0,
    }  # fmt: skip
    assert result.exit_code is ExitCode.OK


async def test_a_number_changed_behind_the_runs_back_is_reported_with_the_field(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """After the run, a TN option order sent straight to the sandbox turns one number's SMS
    off and an import order moves another to site 486: verify reports exactly those two, with
    the step that set each field, what it expected and what the API says; exit 1."""
    numbers = _numbers("+1919445", 6)
    state = tmp_path / "s.db"
    await _run(sandbox, _import_plan(numbers), state)
    _send(sandbox, "tnoptions", _sms_off(numbers[1]))
    moved = (
        f"<ImportTnOrder><CustomerOrderId>moved</CustomerOrderId><SiteId>486</SiteId>"
        f"<SipPeerId>500025</SipPeerId><Subscriber><Name>ACME</Name><ServiceAddress>"
        "<HouseNumber>1</HouseNumber><StreetName>Main</StreetName><City>Raleigh</City>"
        "<StateCode>NC</StateCode><Zip>27606</Zip></ServiceAddress></Subscriber>"
        "<LoaAuthorizingPerson>Someone</LoaAuthorizingPerson><LoaType>CARRIER</LoaType>"
        f"<TelephoneNumbers><TelephoneNumber>{numbers[4]}</TelephoneNumber></TelephoneNumbers>"
        "</ImportTnOrder>"
    )
    _send(sandbox, "importTnOrders/messaging", moved)
    result = await _verify(sandbox, state)
    drift = result.as_json()["drift"]
    assert [(d["number"], d["field"], d["step"], d["expected"], d["actual"]) for d in drift] == [
        (numbers[1], "sms", "move:sms-on", "true", "false"),
        (numbers[4], "site_id", "move", "743", "486"),
        (numbers[4], "sip_peer_id", "move", "303716", "500025"),
        (numbers[4], "sms", "move:sms-on", "true", "false"),  # a re-import resets messaging
    ]
    assert (result.matched, result.drifted, result.exit_code) == (4, 2, ExitCode.FAILED_NUMBERS)


async def test_pages_cover_membership_and_site_and_are_read_instead_of_each_number(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """With only fields the pages cover (imported on a site, no SIP peer or SMS to check),
    verify of 30 numbers sends 1 request (the site's page: it proves the account too) and no
    tndetails; a number removed behind the run's back is then read alone to say what it is."""
    numbers = _numbers("+1919446", 30)
    text = _import_plan(numbers, messaging=False).replace('sip_peer_id = "303716"\n', "")
    state = tmp_path / "s.db"
    await _run(sandbox, text, state)
    clean = await _verify(sandbox, state)
    assert (clean.matched, clean.pages, clean.details) == (30, 1, 0)
    removal = (
        "<RemoveImportedTnOrder><CustomerOrderId>gone</CustomerOrderId><TelephoneNumbers>"
        f"<TelephoneNumber>{numbers[7]}</TelephoneNumber></TelephoneNumbers>"
        "</RemoveImportedTnOrder>"
    )
    _send(sandbox, "removeImportedTnOrders/messaging", removal)
    drifted = await _verify(sandbox, state)
    assert [(d.number, d.field, d.expected, d.actual) for d in drifted.drift] == [
        (numbers[7], "on_account", "true", "false")
    ]
    assert (drifted.pages, drifted.details) == (1, 1)


async def test_a_snapshot_cut_short_resumes_with_the_numbers_it_lacks(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Numbers already hosted are read one by one (site, peer, SMS, campaign kept); a snapshot
    taken again reads only what the state file does not hold, and marks itself complete."""
    hosted = _numbers("+1919447", 4)
    sandbox.state.seed({"numbers": [
        {"number": n, "kind": "imported", "account": ACCOUNT, "site": "486",
         "sip_peer": "500025", "sms_enabled": True} for n in hosted
    ]})  # fmt: skip
    text = _import_plan(hosted)
    plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")
    state = tmp_path / "s.db"
    store = Store.open(state)
    try:
        store.initialize(plan, text, 0.0)
        target, creds = _live(sandbox)
        async with open_api(ApiAccess(target.url, creds), ACCOUNT, rate_per_s=1000) as api:
            reader = NumberReader(api.client, api.gate, ACCOUNT)
            first = await reader.detail(hosted[0])
            store.save_snapshot([first], 1.0)
            result = await take_snapshot(store, reader, target_id=target.id)
        kept = store.snapshot()
    finally:
        store.close()
    assert (result.already, result.by_details, result.details) == (1, 3, 4)
    assert result.complete
    one: Any = kept[hosted[2]]
    assert (one.on_account, one.site_id, one.sip_peer_id, one.sms) == ("true", "486", "500025",
                                                                      "true")  # fmt: skip


async def test_a_stop_during_the_snapshot_sends_nothing_and_the_resume_finishes_it(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Asked to stop while the snapshot reads 1,200 hosted numbers one by one, the run stops
    reading, sends no order and ends interrupted with what it read kept; run again, it reads
    only the numbers it lacks, then removes every number."""
    hosted = _numbers("+1919451", 1200)
    sandbox.state.seed({"numbers": [{"number": hosted[0], "count": 1200, "kind": "imported",
                                     "account": ACCOUNT}]})  # fmt: skip
    quoted = ", ".join(f'"{n}"' for n in hosted)
    text = (f'name = "rm"\naccount_id = "{ACCOUNT}"\nbatch_size = 500\ncanary = 0\n{FAST}'
            f'[[steps]]\nkind = "remove"\nnumbers = [{quoted}]\n')  # fmt: skip
    plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")
    target, creds = _live(sandbox)
    state = tmp_path / "s.db"
    with Cutover.open(plan, state, target, plan_text=text) as cutover:
        cutover.checks.on_snapshot = lambda p: cutover.request_stop()
        first = await cutover.run(creds, tuning=TUNING)
        cut_short = cutover.checks.snapshotted
    assert first.outcome == "interrupted" and sandbox.state.ledger_orders() == []
    assert cut_short is not None and not cut_short.complete
    assert 500 <= cut_short.by_details < 1200
    with Cutover.open(plan, state, target, plan_text=text) as cutover:
        second = await cutover.run(creds, tuning=TUNING)
        resumed = cutover.checks.snapshotted
    assert second.outcome == "done"
    assert resumed is not None and resumed.complete
    assert resumed.already == cut_short.by_details and resumed.by_details == 1200 - resumed.already


def _peer_without_pages() -> Starlette:
    """A peer that completes removal orders at once and answers every other GET 503."""

    async def create(request: Request) -> Response:
        body = (
            "<RemoveImportedTnOrdersResponse><RemoveImportedTnOrder>"
            "<OrderId>00000000-0000-4000-8000-000000000001</OrderId>"
            "<ProcessingStatus>RECEIVED</ProcessingStatus>"
            "</RemoveImportedTnOrder></RemoveImportedTnOrdersResponse>"
        )
        return Response(body, 201, media_type="application/xml")

    async def get(request: Request) -> Response:
        body = (
            "<RemoveImportedTnOrder><OrderId>00000000-0000-4000-8000-000000000001</OrderId>"
            "<ProcessingStatus>COMPLETE</ProcessingStatus></RemoveImportedTnOrder>"
        )
        return Response(body, 200, media_type="application/xml")

    async def unavailable(request: Request) -> Response:
        return Response(b"", 503)

    base = "/api/v2/accounts/9900012/removeImportedTnOrders/messaging"
    return Starlette(routes=[
        Route(base, create, methods=["POST"]),
        Route(base + "/{order_id}", get, methods=["GET"]),
        Route("/{rest:path}", unavailable, methods=["GET"]),
    ])  # fmt: skip


def test_pages_the_api_will_not_serve_leave_the_run_whole(tmp_path: Path) -> None:
    """In-service pages answered 503 after every retry: the run goes on without a snapshot
    (`snapshot_error`), finishes and is recorded; its --verify says why it could not complete
    (`verify_error`) instead of taking the run down."""
    text = (f'name = "rm"\naccount_id = "{ACCOUNT}"\ncanary = 0\n{FAST}[[steps]]\n'
            'kind = "remove"\nnumbers = ["+19195550100", "+19195550101"]\n')  # fmt: skip
    plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")

    async def main(cutover: Cutover) -> str:
        cutover.checks.verify = True
        result = await cutover.run(BasicCredentials("u", "p"), tuning=TUNING)
        return str(result.outcome)

    with serve_asgi(_peer_without_pages()) as base_url:
        target = LiveTarget(f"{base_url}/api/v2")
        with Cutover.open(plan, tmp_path / "s.db", target, plan_text=text) as cutover:
            outcome = anyio.run(main, cutover)
    assert outcome == "done"
    assert "no snapshot was taken" in (cutover.checks.snapshot_error or "")
    assert "could not complete" in (cutover.checks.verify_error or "")
    assert cutover.checks.verified is None
    store = Store.open(tmp_path / "s.db", readonly=True)
    try:
        assert [r["exit_code"] for r in store.runs()] == [0]
    finally:
        store.close()
