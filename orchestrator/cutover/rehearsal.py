"""A sandbox prepared for one plan: what `bwmigrate run PLAN --sandbox` rehearses against.

The account, sites and SIP peers the plan names exist; numbers the plan removes or whose
messaging it changes are already hosted on the account (removing or re-configuring a number
that was never imported would only show 5158/5076 errors); numbers it imports are not (they
are external numbers to import). Orders take `expected_order_s` (capped) to complete, and the
sandbox enforces the plan's request rate, so a rehearsal shows the real pacing. A plan's
`rehearsal = "file.toml"` seed file (sandbox seed format, see `config.py`) is applied on top:
failure rules, faults, extra inventory.

An embedded sandbox lives only as long as its run. A resumed rehearsal therefore starts from
the account as the state file says it now is (`done`: numbers already imported, removed or
re-configured are in their final state) and places the orders that were in flight again: the
state file says so in their `last_error`. To rehearse crash recovery against one sandbox that
outlives the run, serve it with `bwmigrate sandbox` and use `run --target`.

`rehearsal_config` is pure apart from reading that seed file through `load_config`;
`rehearsal_sandbox` (`run --sandbox`, `plan --check --sandbox`, `doctor --sandbox --plan`) and
`serve_sandbox` start the embedded sandbox in a background thread for as long as they are open.
This is the one place that builds the rehearsal target.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from orchestrator.api.client import BasicCredentials
from orchestrator.cutover.connection import ApiAccess
from orchestrator.plan import REHEARSAL_MAX_ORDER_S, CompiledPlan, StepKind
from orchestrator.sandbox.app import TOKEN_PATH
from orchestrator.sandbox.config import (
    AccountConfig,
    NumberSeed,
    SandboxConfig,
    SipPeerConfig,
    SiteConfig,
    load_config,
)
from orchestrator.sandbox.model import NumberKind
from orchestrator.sandbox.server import run_sandbox
from orchestrator.state.store import Store

MAX_REHEARSAL_ORDER_S = REHEARSAL_MAX_ORDER_S  # in the plan wing: the dry run estimates with it
LOST_SANDBOX = "the embedded sandbox of an earlier rehearsal run is gone; placed again"


def _account(plan: CompiledPlan) -> AccountConfig:
    """The plan's account with every site and SIP peer its import steps name."""
    sites: dict[str, list[str]] = {}
    for step in plan.steps:
        s = step.spec
        if s.kind is StepKind.IMPORT and s.site_id:
            peers = sites.setdefault(s.site_id, [])
            if s.sip_peer_id and s.sip_peer_id not in peers:
                peers.append(s.sip_peer_id)
    if not sites:
        sites["1"] = []
    return AccountConfig(
        id=plan.spec.account_id,
        sites=tuple(
            SiteConfig(
                id=site,
                sip_peers=tuple(
                    SipPeerConfig(id=p, sms_enabled=True, default=(i == 0))
                    for i, p in enumerate(peers or [f"{site}01"])
                ),
            )
            for site, peers in sites.items()
        ),
    )


def _inventory(plan: CompiledPlan) -> list[NumberSeed]:
    """Numbers already on the account: those the plan removes are hosted (imported) there;
    those it only re-configures are Bandwidth numbers in service (what v1's per-number SIP peer
    messaging settings were for), so their A2P settings can apply."""
    seeds: list[NumberSeed] = []
    imported = {n for s in plan.steps if s.spec.kind is StepKind.IMPORT for n in s.numbers}
    for step in plan.steps:
        s = step.spec
        if s.kind is StepKind.IMPORT:
            continue
        sms_before = s.kind is StepKind.REMOVE or s.sms == "off"
        kind = NumberKind.IMPORTED if s.kind is StepKind.REMOVE else NumberKind.INSERVICE
        seeds.extend(
            NumberSeed(
                number=n,
                kind=kind,
                account=plan.spec.account_id,
                sms_enabled=sms_before,
            )
            for n in step.numbers
            if n not in imported
        )
    return seeds


@dataclass(frozen=True, slots=True)
class DoneNumber:
    """A number a previous run of the rehearsal finished, and the step that changed it."""

    number: str
    kind: StepKind
    settings: dict[str, Any]


def _apply_done(
    account: str, seeds: list[NumberSeed], done: Sequence[DoneNumber]
) -> list[NumberSeed]:
    """The inventory after the effects of `done` (in the order given)."""
    by_number = {s.number: s for s in seeds}
    for d in done:
        s = d.settings
        if d.kind is StepKind.IMPORT:
            by_number[d.number] = NumberSeed(
                number=d.number,
                kind=NumberKind.IMPORTED,
                account=account,
                site=s.get("site_id"),
                sip_peer=s.get("sip_peer_id"),
            )
        elif d.kind is StepKind.REMOVE:
            by_number.pop(d.number, None)
        else:
            seed = by_number.get(d.number) or NumberSeed(
                number=d.number, kind=NumberKind.IMPORTED, account=account
            )
            on = s.get("sms") == "on"
            a2p = s.get("a2p") or {}
            by_number[d.number] = replace(
                seed,
                sms_enabled=on,
                campaign_id=(a2p.get("campaign_id") if on else None) or seed.campaign_id,
                message_class=(a2p.get("message_class") if on else None) or seed.message_class,
            )
    return list(by_number.values())


def rehearsal_config(
    plan: CompiledPlan, seed_file: Path | None = None, done: Sequence[DoneNumber] = ()
) -> SandboxConfig:
    """The sandbox configuration that rehearses `plan` (plus its optional seed file), with the
    numbers a previous run finished (`done`) already in their final state."""
    base = SandboxConfig(
        accounts=(_account(plan),),
        numbers=tuple(_apply_done(plan.spec.account_id, _inventory(plan), done)),
        order_delay_s=min(plan.spec.rate.expected_order_s, MAX_REHEARSAL_ORDER_S),
        rate_limit_per_s=plan.spec.rate.requests_per_s,
    )
    return load_config(seed_file, base=base) if seed_file is not None else base


def _done_numbers(store: Store) -> list[DoneNumber]:
    """What earlier runs of this rehearsal finished, as sandbox effects.

    An A2P follow-up (settings role "a2p") ran only for numbers whose SMS order succeeded: its
    effect is SMS on with its A2P settings (its settings carry no SMS of their own).
    """
    steps = {s.id: s for s in store.steps()}
    effects = {
        i: {**s.settings, "sms": "on"} if s.settings.get("role") == "a2p" else s.settings
        for i, s in steps.items()
    }
    return [
        DoneNumber(number, steps[step].kind, effects[step])
        for step, number in store.succeeded_numbers()
    ]


@contextlib.contextmanager
def serve_sandbox(config: SandboxConfig) -> Iterator[ApiAccess]:
    """Serve an embedded sandbox with `config` on 127.0.0.1 (a free port) while open; yield its
    v2 base URL with its public Basic login, its own token endpoint as the token URL."""
    with run_sandbox(config) as sandbox:
        creds = config.credentials
        yield ApiAccess(
            f"{sandbox.base_url}/api/v2",
            BasicCredentials(creds.username, creds.password),
            token_url=f"{sandbox.base_url}{TOKEN_PATH}",
            public=True,
        )


@contextlib.contextmanager
def rehearsal_sandbox(plan: CompiledPlan, store: Store | None = None) -> Iterator[ApiAccess]:
    """Serve a sandbox prepared for `plan` (its seed file included) and for what `store` says
    earlier runs finished; orders the store holds as placed in a lost sandbox are marked to be
    placed again. Without a store: as for a first run (`plan --check --sandbox`)."""
    seed_file = Path(plan.spec.path).parent / plan.spec.rehearsal if plan.spec.rehearsal else None
    done: list[DoneNumber] = []
    if store is not None:
        store.forget_remote_orders(LOST_SANDBOX)
        done = _done_numbers(store)
    with serve_sandbox(rehearsal_config(plan, seed_file, done)) as access:
        yield access
