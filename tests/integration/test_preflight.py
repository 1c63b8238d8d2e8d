"""The importTnChecker pre-flight against the sandbox, and the checked plan it derives."""

from __future__ import annotations

import random
from typing import Any

import pytest
from planfiles import IMPORT_DEFAULTS

from orchestrator.api.client import BasicCredentials
from orchestrator.api.gate import RequestGate
from orchestrator.api.pacing import Backoff
from orchestrator.cutover.connection import ApiAccess, open_api
from orchestrator.cutover.preflight import (
    CheckOutcome,
    apply_check,
    check_imports,
    check_record,
    exclude_numbers,
    read_check_record,
)
from orchestrator.errors import AbortedError, InputError
from orchestrator.plan import CompiledPlan, compile_plan, parse_plan
from orchestrator.sandbox import RunningSandbox

ACCOUNT = "9900012"
IMPORTS = [f"+1919991{i:04d}" for i in range(9)]
OTHER = [f"+1415871{i:04d}" for i in range(4)]


def _text(hosted: list[str], other: list[str], batch: int = 4) -> str:
    def q(ns: list[str]) -> str:
        return ", ".join(f'"{n}"' for n in ns)

    return (
        f'name = "pre"\naccount_id = "{ACCOUNT}"\nbatch_size = {batch}\n{IMPORT_DEFAULTS}'
        f'[[steps]]\nkind = "import"\nname = "hosted"\nsite_id = "743"\nnumbers = [{q(hosted)}]\n'
        f'[[steps]]\nkind = "import"\nname = "other"\nsite_id = "486"\nnumbers = [{q(other)}]\n'
        f'[[steps]]\nkind = "messaging"\nname = "sms"\nsms = "off"\nnumbers = ["+13369788814"]\n'
    )


def _compile(text: str) -> CompiledPlan:
    return compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")


def _seed(sandbox: RunningSandbox) -> None:
    """Rule numbers (one shown by the checker, one not) and two Bandwidth-owned numbers."""
    sandbox.state.seed(
        {
            "failure_rules": [
                {"numbers": [IMPORTS[1]], "kind": "import", "code": 19005, "checker": True},
                {"numbers": [IMPORTS[2]], "kind": "import", "code": 7518, "checker": False},
            ],
            "numbers": [
                {"number": IMPORTS[5], "kind": "bandwidth"},
                {"number": OTHER[3], "kind": "inservice", "account": ACCOUNT},
            ],
        }
    )


async def _check(
    sandbox: RunningSandbox, plan: CompiledPlan, batch_size: int = 5000
) -> tuple[CheckOutcome, RequestGate]:
    creds = sandbox.config.credentials
    access = ApiAccess(
        f"{sandbox.base_url}/api/v2", BasicCredentials(creds.username, creds.password)
    )
    async with open_api(access, ACCOUNT, rate_per_s=200.0) as api:
        outcome = await check_imports(
            api.client,
            api.gate,
            plan,
            batch_size=batch_size,
            rng=random.Random(1),
            backoff=Backoff(sleeps=False),
        )
    return outcome, api.gate


async def test_the_checker_rejects_rule_numbers_and_bandwidth_numbers(
    sandbox: RunningSandbox,
) -> None:
    """Checker-visible failure rules and Bandwidth-owned numbers (19006) are rejected with the
    API's code and description; a rule hidden from the checker passes."""
    _seed(sandbox)
    outcome, _ = await _check(sandbox, _compile(_text(IMPORTS, OTHER)))
    got = {(r.step, r.number, r.code) for r in outcome.rejections}
    assert got == {
        ("hosted", IMPORTS[1], "19005"),
        ("hosted", IMPORTS[5], "19006"),
        ("other", OTHER[3], "19006"),
    }
    descriptions = {r.code: r.description for r in outcome.rejections}
    assert "Bandwidth numbers cannot be imported" in descriptions["19006"]
    assert outcome.checked == len(IMPORTS) + len(OTHER)
    assert outcome.unanswered == ()
    first = next(r for r in outcome.rejections if r.number == IMPORTS[1])
    assert (first.raw, first.source) == (IMPORTS[1], "plan.toml:steps[0].numbers[1]")


async def test_calls_carry_at_most_the_batch_size_and_share_the_gate(
    sandbox_factory: Any,
) -> None:
    """With a cap of 3 per call, 9 + 4 numbers take 3 + 2 calls, every one through the gate."""
    sandbox = sandbox_factory(max_numbers_per_order=3)
    outcome, gate = await _check(sandbox, _compile(_text(IMPORTS, OTHER)), batch_size=3)
    assert outcome.calls == 5
    assert gate.counters.requests == 5
    assert sandbox.app.ledger.to_json()["requests"]["by_status"] == {"200": 5}


async def test_a_call_refused_as_a_whole_stops_the_check(sandbox_factory: Any) -> None:
    """A 400 for the whole batch (here: over the cap) aborts naming the step and the numbers."""
    sandbox = sandbox_factory(max_numbers_per_order=3)
    with pytest.raises(AbortedError, match=r"numbers 1-4 of step 'hosted'.*nothing was excluded"):
        await _check(sandbox, _compile(_text(IMPORTS, OTHER)), batch_size=4)


def test_the_checked_plan_hashes_like_a_plan_that_never_listed_the_numbers() -> None:
    """Excluding numbers changes the hash exactly as deleting them from the plan would, and the
    orders are cut again under the new hash."""
    plan = _compile(_text(IMPORTS, OTHER))
    rejected = [IMPORTS[1], IMPORTS[5]]
    outcome = CheckOutcome(13, 2, _rejections(plan, rejected), ())
    checked = exclude_numbers(plan, outcome.rejections)
    by_hand = _compile(_text([n for n in IMPORTS if n not in rejected], OTHER))
    assert checked.hash == by_hand.hash != plan.hash
    assert [o.numbers for o in checked.steps[0].orders] == [
        o.numbers for o in by_hand.steps[0].orders
    ]
    assert {o.customer_order_id for s in checked.steps for o in s.orders} == {
        o.customer_order_id for s in by_hand.steps for o in s.orders
    }
    assert exclude_numbers(plan, []) is plan


def _rejections(plan: CompiledPlan, numbers: list[str]) -> tuple[Any, ...]:
    from orchestrator.cutover.preflight import Rejection

    step = plan.steps[0]
    return tuple(
        Rejection("hosted", n, step.raws[step.numbers.index(n)], "here", "19006", "no")
        for n in numbers
    )


def test_a_check_record_round_trips_and_guards_the_plan_version() -> None:
    """The header block reads back to the same checked plan; another plan version or an edited
    record is refused."""
    plan = _compile(_text(IMPORTS, OTHER))
    outcome = CheckOutcome(13, 1, _rejections(plan, [IMPORTS[3]]), ())
    checked = exclude_numbers(plan, outcome.rejections)
    block = check_record(plan, checked, outcome, target="https://x/api/v2", checked_at="now")
    record = read_check_record({"type": "plan", "check": block}, "c.jsonl")
    again, excluded = apply_check(plan, record, "c.jsonl")
    assert again.hash == checked.hash
    assert [(x.step, x.e164, x.code) for x in excluded] == [(0, IMPORTS[3], "19006")]

    edited_plan = _compile(_text(IMPORTS[:-1], OTHER))
    with pytest.raises(InputError, match="the plan changed since the check"):
        apply_check(edited_plan, record, "c.jsonl")
    block["excluded"][0]["number"] = IMPORTS[4]
    tampered = read_check_record({"type": "plan", "check": block}, "c.jsonl")
    with pytest.raises(InputError, match="edited or is damaged"):
        apply_check(plan, tampered, "c.jsonl")


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ({"type": "number"}, "not a compiled plan"),
        ({"type": "plan"}, "written without --check"),
        ({"type": "plan", "check": {"version": 1}}, "check record is damaged"),
    ],
)
def test_a_file_that_is_not_a_checked_plan_is_refused(header: Any, why: str) -> None:
    """Anything but a `plan --check --out` header is a clear input error."""
    with pytest.raises(InputError, match=why):
        read_check_record(header, "x.jsonl")
