"""The engine harness shared by the engine's integration tests: a plan run as `bwmigrate run`
runs it (`Cutover`: the real engine, client, gate and audit log) against the sandbox over real
HTTP, with a real SQLite state file, and the two witnesses to judge it by (the state file's
report; the sandbox's ledger and inventory)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planfiles import IMPORT_DETAILS

from orchestrator.api.client import BasicCredentials, Exchange
from orchestrator.api.pacing import Backoff
from orchestrator.cutover.cutover import Cutover, LiveTarget, Tuning
from orchestrator.cutover.engine import EngineSettings, Progress, RunOutcome
from orchestrator.cutover.notifications import NotifySettings
from orchestrator.plan import FailureThreshold, compile_plan, parse_plan
from orchestrator.sandbox import RunningSandbox
from orchestrator.state.store import Store

ACCOUNT = "9900012"


def numbers_from(prefix: str, count: int) -> list[str]:
    """`count` valid NANP numbers in one exchange, e.g. prefix +1919991."""
    return [f"{prefix}{i:04d}" for i in range(count)]


def plan_text(steps: str, batch_size: int = 10) -> str:
    return f'name = "engine-test"\naccount_id = "{ACCOUNT}"\nbatch_size = {batch_size}\n' + steps


def step(kind: str, numbers: list[str], extra: str = "") -> str:
    quoted = ", ".join(f'"{n}"' for n in numbers)
    return f'[[steps]]\nkind = "{kind}"\n{extra}numbers = [{quoted}]\n'


IMPORT_EXTRA = 'site_id = "743"\nsip_peer_id = "303716"\nloa_type = "CARRIER"\n' + IMPORT_DETAILS


class Harness:
    """Runs the engine on a plan against the sandbox and exposes both witnesses."""

    def __init__(self, sandbox: RunningSandbox, tmp_path: Path) -> None:
        self.sandbox = sandbox
        self.state_path = tmp_path / "state.db"
        self.seen: list[Progress] = []

    async def run(
        self,
        text: str,
        *,
        threshold: FailureThreshold | None = None,
        credentials: Any = None,
        rate_per_s: float | None = 500.0,
        stop_after_orders: int | None = None,
        timeout_s: float = 5.0,
        base_path: str = "/api/v2",
        base_url: str | None = None,
        stop_when: Callable[[Progress], bool] | None = None,
        visibility_window_s: float = 0.3,
        status_reads: str = "batched",
        poll_interval_s: float = 0.01,
        poll_cap_s: float | None = None,
        notify: NotifySettings | None = None,
        observe: Callable[[Exchange], None] | None = None,
    ) -> RunOutcome:
        """Open the state file for the plan (a changed plan without effect starts over, as
        `bwmigrate run` does) and run it; the report and counts are read afterwards."""
        plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")
        creds = self.sandbox.config.credentials
        credentials = credentials or BasicCredentials(creds.username, creds.password)
        target = LiveTarget(
            base_url or f"{self.sandbox.base_url}{base_path}",
            token_url=f"{self.sandbox.base_url}/api/v1/oauth2/token",
        )
        tuning = Tuning(
            settings=EngineSettings(
                max_orders_in_flight=4,
                poll_interval_s=poll_interval_s,
                poll_cap_s=max(0.05, poll_interval_s) if poll_cap_s is None else poll_cap_s,
                failure_threshold=threshold or FailureThreshold(100.0, 0),
                seed=1,
                visibility_window_s=visibility_window_s,
                status_reads=status_reads,
                notify=notify,
            ),
            rate_per_s=rate_per_s,
            backoff=Backoff(base_s=0.01, cap_s=0.05, max_attempts=8, sleeps=False),
            timeout_s=timeout_s,
            observe=observe,
        )
        with Cutover.open(plan, self.state_path, target, plan_text=text) as cutover:

            def on_progress(p: Progress) -> None:
                self.seen.append(p)
                if stop_after_orders is not None and p.orders_terminal >= stop_after_orders:
                    cutover.request_stop()
                if stop_when is not None and stop_when(p):
                    cutover.request_stop()

            try:
                result = await cutover.run(credentials, on_progress, tuning=tuning)
            finally:
                self._read_witness()
        return RunOutcome(result.outcome, result.message, result.progress)

    def _read_witness(self) -> None:
        """The state file's side: every number's report row, and the counts per step."""
        store = Store.open(self.state_path, readonly=True)
        try:
            self.report = list(store.iter_report())
            self.counts = {c.name: c for c in store.counts()}
        finally:
            store.close()

    def ledger_orders(self, kind: str | None = None) -> list[dict[str, Any]]:
        orders = self.sandbox.state.ledger_orders()
        return [o for o in orders if kind is None or o["kind"] == kind]

    def assert_no_number_in_two_orders(self) -> None:
        """The exactly-once witness: per kind, every number sits in at most one accepted order
        (TN option orders apart from the A2P follow-ups, CustomerOrderId `-A`, which repeat the
        numbers of the order turning SMS on)."""
        for kind in ("import", "remove", "tnoptions"):
            for a2p in (False, True):
                orders = [
                    o
                    for o in self.ledger_orders(kind)
                    if str(o["customer_order_id"]).endswith("-A") is a2p
                ]
                seen = Counter(n for o in orders for n in o["numbers"])
                twice = {n: c for n, c in seen.items() if c > 1}
                assert not twice, f"{kind}: numbers in two orders: {sorted(twice)[:5]}"

    def inventory(self) -> dict[str, dict[str, Any]]:
        return {r["number"]: r for r in self.sandbox.state.inventory_json()}


def seed_hosted(sandbox: RunningSandbox, numbers: list[str], sms: bool) -> None:
    sandbox.state.seed(
        {
            "numbers": [
                {
                    "number": n,
                    "kind": "imported",
                    "account": ACCOUNT,
                    "site": "743",
                    "sip_peer": "303716",
                    "sms_enabled": sms,
                }
                for n in numbers
            ]
        }
    )
