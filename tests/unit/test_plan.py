"""Plan parsing, validation errors with locations, and compilation (dedupe, conflicts, orders)."""

from __future__ import annotations

import re

import pytest

from orchestrator.errors import PlanError
from orchestrator.plan import (
    CompiledPlan,
    StepKind,
    compile_plan,
    customer_order_id,
    estimate,
    parse_plan,
)

HEADER = 'name = "acme-cutover"\naccount_id = "9900012"\n'
SEED_NUMBERS = ["9199918388", "4158714245", "4352154439", "4352154466"]


def _compile(text: str, files: dict[str, bytes] | None = None) -> CompiledPlan:
    files = files or {}

    def read_file(name: str) -> bytes:
        if name not in files:
            raise PlanError(f"plan.toml: number file {name!r} not found")
        return files[name]

    return compile_plan(parse_plan(text, "plan.toml"), read_file)


def _import_step(numbers: list[str], **extra: str) -> str:
    body = "".join(f"{k} = {v}\n" for k, v in extra.items())
    quoted = ", ".join(f'"{n}"' for n in numbers)
    return f'[[steps]]\nkind = "import"\nsite_id = "743"\n{body}numbers = [{quoted}]\n'


def _numbers_step(kind: str, numbers: list[str], extra: str = "") -> str:
    quoted = ", ".join(f'"{n}"' for n in numbers)
    return f'[[steps]]\nkind = "{kind}"\n{extra}numbers = [{quoted}]\n'


# --- parsing and validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("name = \n", r"plan\.toml: invalid TOML: .*line 1"),
        ('account_id = "1"\n' + _import_step(["9199918388"]), r"plan\.toml: name: is required"),
        (HEADER, r"steps: add at least one \[\[steps\]\]"),
        (
            HEADER + "batch_size = 6000\n" + _import_step(["1"]),
            r"batch_size: must be between 1 and 5000, got 6000",
        ),
        (HEADER + "sitee = 1\n" + _import_step(["1"]), r"sitee: unknown key"),
        (
            HEADER + _import_step(["1"]).replace("site_id", "sitd_id"),
            r"steps\[0\]\.sitd_id: unknown key; did you mean 'site_id'\?",
        ),
        (
            HEADER + 'password = "hunter2"\n' + _import_step(["1"]),
            r"password: credentials never go in a plan",
        ),
        (HEADER + _numbers_step("export", ["1"]), r"steps\[0\]\.kind: 'export' is not one of"),
        (HEADER + '[[steps]]\nkind = "remove"\n', r"steps\[0\]: has no numbers"),
        (
            HEADER + _numbers_step("messaging", ["1"], 'sms = "maybe"\n'),
            r"steps\[0\]\.sms: must be \"on\" or \"off\"",
        ),
        (
            HEADER
            + _numbers_step("messaging", ["1"], 'sms = "off"\na2p = { campaign_id = "C1" }\n'),
            r"A2P settings need sms = \"on\" \(API error 5132\)",
        ),
        (
            HEADER + _import_step(["1"], a2p='{ campaign_id = "C1" }'),
            r"steps\[0\]\.a2p: A2P settings need `enable_messaging = true`",
        ),
        (
            HEADER + _import_step(["1"], loa_type='"WHATEVER"'),
            r"steps\[0\]\.loa_type: must be CARRIER or SUBSCRIBER",
        ),
        (
            HEADER + _import_step(["1"]).replace('site_id = "743"\n', ""),
            r"steps\[0\]\.site_id: is required",
        ),
        (
            HEADER + '[[steps]]\nkind = "remove"\nnumbers = ["1", 6.67e9]\n',
            r"steps\[0\]\.numbers\[1\]: 6670000000\.0 must be a quoted string",
        ),
        (HEADER + 'country = "XYZ"\n' + _import_step(["1"]), r"country: .*XYZ"),
        (
            HEADER + _numbers_step("remove", ["1"], 'name = "a"\n') * 2,
            r"steps\[1\]\.name: 'a' is used by two steps",
        ),
        (
            HEADER + _import_step(["1"], subscriber='{ name = "' + "N" * 46 + '" }'),
            r"subscriber\.name: is longer than 45 characters \(API error 25131\)",
        ),
    ],
)
def test_plan_errors_name_the_file_and_key(text: str, pattern: str) -> None:
    """Every unusable plan is refused with a PlanError naming the file, the key and the fix."""
    with pytest.raises(PlanError, match=pattern):
        parse_plan(text, "plan.toml")


def test_plan_error_exit_code_is_two() -> None:
    """A plan error maps to exit code 2 (bad usage, plan or input)."""
    with pytest.raises(PlanError) as info:
        parse_plan("x", "plan.toml")
    assert int(info.value.exit_code) == 2


def test_defaults_and_settings_are_read() -> None:
    """Defaults apply (CARRIER, batch 1000, USA) and explicit settings are kept."""
    spec = parse_plan(
        HEADER
        + _import_step(
            SEED_NUMBERS,
            sip_peer_id='"303716"',
            enable_messaging="true",
            a2p='{ message_class = "M", campaign_id = "CA3XKE1" }',
        ),
        "plan.toml",
    )
    step = spec.steps[0]
    assert (spec.batch_size, spec.country, step.loa_type) == (1000, "USA", "CARRIER")
    assert (step.kind, step.name, step.site_id, step.sip_peer_id) == (
        StepKind.IMPORT,
        "import-1",
        "743",
        "303716",
    )
    assert step.a2p is not None and step.a2p.campaign_id == "CA3XKE1"
    assert step.a2p.action == "asSpecified"
    assert step.messaging_sms == "on"


# --- compilation ----------------------------------------------------------------------------------


def test_numbers_are_normalised_and_invalid_ones_reported_with_location() -> None:
    """Valid numbers become E.164; invalid ones are excluded and listed with file:line."""
    csv = b"TN\n919-991-8388\n6.67229E+09\n(415) 871-4245\n"
    plan = _compile(
        HEADER + '[[steps]]\nkind = "remove"\nnumbers = ["+1 435 215 4439", "x"]\n'
        'files = [{ path = "n.csv", column = "TN" }]\n',
        {"n.csv": csv},
    )
    step = plan.steps[0]
    assert step.numbers == ["+14352154439", "+19199918388", "+14158714245"]
    assert step.locations == ["plan.toml:steps[0].numbers[0]", "n.csv:2", "n.csv:4"]
    assert [(e.raw, e.location) for e in plan.invalid] == [
        ("x", "plan.toml:steps[0].numbers[1]"),
        ("6.67229E+09", "n.csv:3"),
    ]
    assert plan.invalid[1].reason == "scientific_notation"


def test_duplicates_within_a_step_are_dropped_and_reported() -> None:
    """The first occurrence of a number is kept; later ones are reported with both locations."""
    plan = _compile(
        HEADER
        + _numbers_step("remove", ["9199918388", "+1 (919) 991-8388", "4158714245", "19199918388"])
    )
    assert plan.steps[0].numbers == ["+19199918388", "+14158714245"]
    assert [(d.location, d.first_location) for d in plan.duplicates] == [
        ("plan.toml:steps[0].numbers[1]", "plan.toml:steps[0].numbers[0]"),
        ("plan.toml:steps[0].numbers[3]", "plan.toml:steps[0].numbers[0]"),
    ]
    assert plan.steps[0].duplicate_count == 2


@pytest.mark.parametrize(
    ("second", "why"),
    [
        (_numbers_step("remove", ["+19199918388"]), "cannot be imported and removed"),
        (_import_step(["919.991.8388"]), "importing a number twice resets its attributes"),
        (
            _numbers_step("messaging", ["9199918388"], 'sms = "off"\n'),
            "messaging cannot be turned on and off",
        ),
    ],
)
def test_contradictions_across_steps_are_refused(second: str, why: str) -> None:
    """A number changed by two steps in contradictory ways stops the plan with both locations."""
    first = _import_step(["9199918388"], enable_messaging="true")
    with pytest.raises(PlanError) as info:
        _compile(HEADER + first + second)
    message = str(info.value)
    assert why in message
    assert "+19199918388 is in step 'import-1' (plan.toml:steps[0].numbers[0])" in message
    assert "plan.toml:steps[1].numbers[0]" in message


def test_import_then_messaging_step_is_allowed() -> None:
    """Importing a number and then setting its messaging in a later step is not a conflict."""
    plan = _compile(
        HEADER
        + _import_step(["9199918388"])
        + _numbers_step("messaging", ["9199918388"], 'sms = "on"\n')
    )
    assert [s.numbers for s in plan.steps] == [["+19199918388"], ["+19199918388"]]


def _many(count: int) -> list[str]:
    # 919-991-xxxx is a valid NANP block; vary the line number.
    return [f"+1919991{i:04d}" for i in range(count)]


def test_orders_are_cut_at_batch_size() -> None:
    """A step is cut into orders of at most batch_size numbers, in plan order."""
    plan = _compile(HEADER + "batch_size = 1000\n" + _numbers_step("remove", _many(2500)))
    orders = plan.steps[0].orders
    assert [len(o.numbers) for o in orders] == [1000, 1000, 500]
    assert orders[1].numbers[0] == "+19199911000"
    assert [o.index for o in orders] == [0, 1, 2]


def test_customer_order_ids_are_stable_valid_and_unique() -> None:
    """CustomerOrderIds are identical across compiles, unique, at most 40 chars of [A-Za-z0-9 -]."""
    text = (
        HEADER
        + "batch_size = 10\n"
        + _numbers_step("remove", _many(35))
        + _import_step(["6672286710"])
    )
    ids_a = [o.customer_order_id for s in _compile(text).steps for o in s.orders]
    ids_b = [o.customer_order_id for s in _compile(text).steps for o in s.orders]
    assert ids_a == ids_b
    assert len(set(ids_a)) == len(ids_a) == 5
    for cid in ids_a:
        assert len(cid) <= 40 and re.fullmatch(r"[A-Za-z0-9 -]+", cid), cid
    assert ids_a[0].startswith("acme-cutover-") and ids_a[0].endswith("-R01-00000")
    assert ids_a[4].endswith("-I02-00000")


def test_long_plan_name_still_gives_short_customer_order_ids() -> None:
    """A 64-character plan name with dots still yields a CustomerOrderId within the API rule."""
    spec = parse_plan(
        'name = "' + "a.b" * 21 + 'c"\naccount_id = "1"\n' + _numbers_step("remove", ["1"]),
        "p.toml",
    )
    cid = customer_order_id(spec, "f" * 64, spec.steps[0], 99999, chained=True)
    assert len(cid) <= 40 and re.fullmatch(r"[A-Za-z0-9 -]+", cid)


def test_hash_tracks_what_would_be_sent_and_nothing_else() -> None:
    """The hash changes with numbers and settings, not with rates or how numbers were written."""
    base = HEADER + _import_step(SEED_NUMBERS)
    h = _compile(base).hash
    assert _compile(base.replace("9199918388", "6672286710")).hash != h
    assert _compile(base.replace('site_id = "743"', 'site_id = "744"')).hash != h
    assert _compile(base.replace('account_id = "9900012"', 'account_id = "9900013"')).hash != h
    assert _compile(HEADER + "batch_size = 2\n" + _import_step(SEED_NUMBERS)).hash != h
    assert _compile(HEADER + "[rate]\nrequests_per_s = 3\n" + _import_step(SEED_NUMBERS)).hash == h
    assert _compile(base.replace('"9199918388"', '"+1 (919) 991-8388"')).hash == h


def test_missing_number_file_stops_the_plan() -> None:
    """A number file that cannot be read is a PlanError, not a partial plan."""
    with pytest.raises(PlanError, match=r"number file 'gone\.csv' not found"):
        _compile(HEADER + '[[steps]]\nkind = "remove"\nfiles = ["gone.csv"]\n')


def test_estimate_counts_creates_polls_and_chained_orders() -> None:
    """The estimate counts a create and the polls for every order, chained ones included."""
    plan = _compile(
        HEADER + "batch_size = 2\n[rate]\nrequests_per_s = 2\npoll_interval_s = 5\n"
        "expected_order_s = 10\n" + _import_step(SEED_NUMBERS, enable_messaging="true")
    )
    est = estimate(plan)
    # 2 import orders + 2 chained TN option orders, each: 1 create + (1 + 10/5) polls = 4 calls.
    assert (est.orders, est.chained_orders, est.api_calls) == (2, 2, 16)
    assert est.eta_s == pytest.approx(16 / 2 + 10 + 10)
