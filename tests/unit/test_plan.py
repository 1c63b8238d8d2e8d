"""Plan parsing, validation errors with locations, and compilation (dedupe, conflicts, orders)."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from orchestrator.api.orders import order_body
from orchestrator.errors import PlanError
from orchestrator.plan import (
    CompiledPlan,
    StepKind,
    a2p_step_name,
    asks_a2p,
    chained_a2p_settings,
    chained_settings,
    compile_plan,
    customer_order_id,
    estimate,
    iter_compiled_rows,
    parse_plan,
    sms_step_name,
    with_canary,
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


# What the schema's ImportTnOrder form needs for +1 numbers (imports of +1 numbers in these
# tests carry it unless a test is about its absence).
SUBSCRIBER = (
    '{ name = "ABC Inc.", house_number = "11235", street_name = "Back", city = "Denver", '
    'state_code = "CO", zip = "27541" }'
)
DETAILS = {"subscriber": SUBSCRIBER, "loa_authorizing_person": '"The Authguy"'}


def _import_step(numbers: list[str], *, details: bool = True, **extra: str) -> str:
    keys = (DETAILS if details else {}) | extra
    body = "".join(f"{k} = {v}\n" for k, v in keys.items())
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
    """The estimate counts a create for every order, chained ones included, and at least one
    poll each (tests/unit/test_estimate.py checks the model itself)."""
    plan = _compile(
        HEADER + "batch_size = 2\n[rate]\nrequests_per_s = 2\npoll_interval_s = 5\n"
        "expected_order_s = 10\n" + _import_step(SEED_NUMBERS, enable_messaging="true")
    )
    est = estimate(plan)
    # 2 import orders (a 2-number canary, then 2) + 2 chained TN option orders
    assert (est.orders, est.chained_orders, est.a2p_orders, est.creates) == (2, 2, 0, 4)
    assert est.polls >= 4 and est.api_calls == est.creates + est.polls


def test_estimate_counts_a2p_follow_ups() -> None:
    """A2P follow-ups are orders too (one per order turning SMS on)."""
    plan = _compile(
        HEADER + "batch_size = 2\ncanary = 0\n[rate]\nrequests_per_s = 2\npoll_interval_s = 5\n"
        "expected_order_s = 10\n"
        + _import_step(SEED_NUMBERS, enable_messaging="true", a2p='{ campaign_id = "C1" }')
        + _numbers_step("messaging", ["3369788814"], 'sms = "on"\na2p = { campaign_id = "C2" }\n')
    )
    est = estimate(plan)
    assert (est.orders, est.chained_orders, est.a2p_orders, est.creates) == (3, 2, 3, 8)


# --- body forms, subscriber and LOA ---------------------------------------------------------------

NANP_MESSAGE = (
    "plan.toml: steps[0] ('import-1'): 4 numbers are +1 (NANP), for which the ImportTnOrder "
    "body (the published v2 schema's form, sent by default) requires what this step lacks: "
    "subscriber, loa_authorizing_person; add to the step or to [import_defaults]: subscriber "
    '= { name = "...", house_number = "...", street_name = "...", city = "...", state_code = '
    '"...", zip = "..." } and loa_authorizing_person = "..."; or send the migration guide\'s '
    'ExternalTnsOrder form, which has neither: body_form = "ExternalTnsOrder"'
)


def test_nanp_import_without_subscriber_and_loa_is_refused_in_one_line() -> None:
    """+1 numbers in the default (schema) form need a subscriber and LOA person: one line says
    which step, what is missing, the TOML to add, and how to choose the guide's form."""
    with pytest.raises(PlanError) as info:
        _compile(HEADER + _import_step(SEED_NUMBERS, details=False))
    assert str(info.value) == NANP_MESSAGE
    assert int(info.value.exit_code) == 2


def test_partial_subscriber_names_the_missing_keys_and_keeps_the_given_values() -> None:
    """A subscriber without its address: the missing keys are named; the snippet keeps what the
    step gave and marks what to fill in."""
    step = _import_step(
        ["9199918388"],
        details=False,
        subscriber='{ name = "ABC Inc.", city = "Denver", county = "Canyon" }',
        loa_authorizing_person='"Jo"',
    )
    with pytest.raises(PlanError) as info:
        _compile(HEADER + step)
    assert str(info.value) == (
        "plan.toml: steps[0] ('import-1'): 1 number is +1 (NANP), for which the ImportTnOrder "
        "body (the published v2 schema's form, sent by default) requires what this step lacks: "
        "subscriber.house_number, subscriber.street_name, subscriber.state_code, subscriber.zip;"
        ' add to the step or to [import_defaults]: subscriber = { name = "ABC Inc.", '
        'house_number = "...", street_name = "...", city = "Denver", state_code = "...", zip = '
        '"...", county = "Canyon" }; or send the migration guide\'s ExternalTnsOrder form, '
        'which has neither: body_form = "ExternalTnsOrder"'
    )


@pytest.mark.parametrize(
    "text",
    [
        # international numbers only: the schema requires nothing more
        _import_step(["+441224003018", "+61870933122"], details=False),
        # the guide's form, chosen in the step or for every import
        _import_step(SEED_NUMBERS, details=False, body_form='"ExternalTnsOrder"'),
        '[import_defaults]\nbody_form = "externaltnsorder"\n'
        + _import_step(SEED_NUMBERS, details=False),
        # the details given once for every import step
        f'[import_defaults]\nsubscriber = {SUBSCRIBER}\nloa_authorizing_person = "Jo"\n'
        + _import_step(SEED_NUMBERS, details=False),
    ],
)
def test_imports_that_need_no_more_details_compile(text: str) -> None:
    """International-only steps, the guide's form and details from [import_defaults] pass."""
    assert _compile(HEADER + text).valid_count > 0


def test_import_defaults_are_inherited_and_step_keys_replace_them() -> None:
    """Steps inherit [import_defaults]; a step's own key wins; a step in the guide's form does
    not inherit a subscriber or LOA person it cannot send."""
    spec = parse_plan(
        HEADER + '[import_defaults]\nloa_type = "subscriber"\nloa_authorizing_person = "Jo"\n'
        f"subscriber = {SUBSCRIBER}\n"
        + _import_step(["1"], details=False)
        + _import_step(["2"], details=False, loa_authorizing_person='"Al"', loa_type='"CARRIER"')
        + _import_step(["3"], details=False, body_form='"ExternalTnsOrder"'),
        "plan.toml",
    )
    first, second, guide = spec.steps
    assert (first.loa_type, first.loa_authorizing_person, first.body_form) == (
        "SUBSCRIBER",
        "Jo",
        "ImportTnOrder",
    )
    assert first.subscriber is not None and first.subscriber.state_code == "CO"
    assert (second.loa_type, second.loa_authorizing_person) == ("CARRIER", "Al")
    assert second.subscriber == first.subscriber
    assert (guide.body_form, guide.subscriber, guide.loa_authorizing_person) == (
        "ExternalTnsOrder",
        None,
        None,
    )
    assert guide.loa_type == "SUBSCRIBER"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            _import_step(["1"], body_form='"Import"'),
            'plan.toml: steps[0].body_form: must be "ImportTnOrder" (the published v2 '
            "schema's form, the default) or \"ExternalTnsOrder\" (the migration guide's form), "
            "got 'Import'",
        ),
        (
            _import_step(["1"], body_form='"ExternalTnsOrder"'),
            "plan.toml: steps[0].subscriber: the ExternalTnsOrder body form (body_form = "
            '"ExternalTnsOrder" in this step) has no Subscriber element; remove subscriber, or '
            'send the published schema\'s form with body_form = "ImportTnOrder"',
        ),
        (
            '[import_defaults]\nbody_form = "ExternalTnsOrder"\nloa_authorizing_person = "Jo"\n'
            + _import_step(["1"], details=False),
            "plan.toml: import_defaults.loa_authorizing_person: the ExternalTnsOrder body form "
            '(body_form = "ExternalTnsOrder" in [import_defaults]) has no LoaAuthorizingPerson '
            "element; remove loa_authorizing_person, or send the published schema's form with "
            'body_form = "ImportTnOrder"',
        ),
        (
            '[import_defaults]\nbody_form = "ExternalTnsOrder"\n' + _import_step(["1"]),
            "plan.toml: steps[0].subscriber: the ExternalTnsOrder body form (body_form = "
            '"ExternalTnsOrder" in [import_defaults]) has no Subscriber element; remove '
            'subscriber, or send the published schema\'s form with body_form = "ImportTnOrder"',
        ),
        (
            _import_step(["1"], subscriber='{ name = "N", state_code = "Colorado" }'),
            'plan.toml: steps[0].subscriber.state_code: must be two letters (e.g. "CO"), got '
            "'Colorado'",
        ),
        (
            _import_step(["1"], subscriber='{ name = "N", house_number = "12B" }'),
            "plan.toml: steps[0].subscriber.house_number: must be digits (the v2 schema's "
            "HouseNumber is an integer), got '12B'",
        ),
        (
            "[import_defaults]\nsite_id = 1\n" + _import_step(["1"]),
            "plan.toml: import_defaults.site_id: unknown key; known keys: body_form, subscriber, "
            "loa_authorizing_person, loa_type",
        ),
        (
            "canary = -1\n" + _import_step(["1"]),
            "plan.toml: canary: must be between 0 and 5000, got -1",
        ),
        (
            _import_step(["1"], canary="1.5"),
            "plan.toml: steps[0].canary: must be an integer, not 1.5",
        ),
        (
            _numbers_step("remove", ["1"], "canary = 2\n"),
            "plan.toml: steps[0].canary: unknown key; known keys: kind, name, numbers, files",
        ),
        (
            '[rate]\nvisibility_window_s = "30"\n' + _import_step(["1"]),
            "plan.toml: rate.visibility_window_s: must be a number, not '30'",
        ),
        (
            "[rate]\nvisibility_window_s = 0\n" + _import_step(["1"]),
            "plan.toml: rate.visibility_window_s: must be more than 0 and at most 600 seconds, "
            "got 0",
        ),
        (
            "[rate]\nvisibility_window_s = 601\n" + _import_step(["1"]),
            "plan.toml: rate.visibility_window_s: must be more than 0 and at most 600 seconds, "
            "got 601",
        ),
    ],
)
def test_new_keys_are_validated_with_exact_one_line_messages(text: str, message: str) -> None:
    """body_form, [import_defaults], subscriber fields, canary and the visibility window are
    checked where they are written, each refusal one line naming the key and the fix."""
    with pytest.raises(PlanError) as info:
        parse_plan(HEADER + text, "plan.toml")
    assert str(info.value) == message


def test_visibility_window_is_read_with_its_default() -> None:
    """[rate] visibility_window_s defaults to 30 s and keeps a value given."""
    assert parse_plan(HEADER + _import_step(["1"]), "p.toml").rate.visibility_window_s == 30.0
    given = parse_plan(HEADER + "[rate]\nvisibility_window_s = 2.5\n" + _import_step(["1"]), "p")
    assert given.rate.visibility_window_s == 2.5


# --- the canary ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("canary", "sizes"),
    [
        ("", [5, 5, 5, 5, 2]),  # default 5
        ("canary = 3\n", [3, 5, 5, 5, 4]),
        ("canary = 0\n", [5, 5, 5, 5, 2]),
        ("canary = 1\n", [1, 5, 5, 5, 5, 1]),
        ("canary = 9\n", [5, 5, 5, 5, 2]),  # at most a full order
        ("canary = 30\n", [5, 5, 5, 5, 2]),
    ],
)
def test_canary_order_comes_first_then_batch_size_orders(canary: str, sizes: list[int]) -> None:
    """An import step's first order carries min(canary, batch_size) numbers, the rest follow
    in batch_size orders; numbers stay in plan order, CustomerOrderIds count from 00000."""
    plan = _compile(HEADER + "batch_size = 5\n" + canary + _import_step(_many(22)))
    orders = plan.steps[0].orders
    assert [len(o.numbers) for o in orders] == sizes
    assert [n for o in orders for n in o.numbers] == plan.steps[0].numbers
    assert [o.customer_order_id[-5:] for o in orders] == [f"{i:05d}" for i in range(len(sizes))]
    assert len({o.customer_order_id for o in orders}) == len(orders)


def test_step_canary_overrides_the_plan_and_only_imports_have_one() -> None:
    """A step's canary wins over the plan's; remove and messaging steps are cut as before."""
    plan = _compile(
        HEADER
        + "batch_size = 4\ncanary = 1\n"
        + _import_step(_many(6), canary="2")
        + _numbers_step("remove", ["+13035133456", "+13038565530", "+12122177954"])
    )
    assert [len(o.numbers) for o in plan.steps[0].orders] == [2, 4]
    assert [len(o.numbers) for o in plan.steps[1].orders] == [3]
    assert plan.steps[0].spec.settings()["canary"] == 2


def test_compiled_rows_follow_the_canary_cut() -> None:
    """`--out` rows name the order each number is really in (the canary shifts the rest)."""
    plan = _compile(HEADER + "batch_size = 3\ncanary = 1\n" + _import_step(_many(5)))
    rows = list(iter_compiled_rows(plan))
    assert [r["order_index"] for r in rows] == [0, 1, 1, 1, 2]
    assert rows[1]["customer_order_id"] == plan.steps[0].orders[1].customer_order_id


def test_run_canary_override_replaces_every_import_steps_canary() -> None:
    """`with_canary` (run --canary N) sets every import step's canary, and so the hash."""
    spec = parse_plan(HEADER + "batch_size = 5\n" + _import_step(_many(12), canary="4"), "p")
    base = compile_plan(spec, lambda name: b"")
    none = compile_plan(with_canary(spec, 0), lambda name: b"")
    assert [len(o.numbers) for o in base.steps[0].orders] == [4, 5, 3]
    assert [len(o.numbers) for o in none.steps[0].orders] == [5, 5, 2]
    assert none.hash != base.hash


def test_hash_covers_body_form_and_canary_but_not_the_visibility_window() -> None:
    """body_form and canary change what is sent, so the hash; the visibility window does not."""
    base = HEADER + _import_step(SEED_NUMBERS)
    h = _compile(base).hash
    assert _compile(HEADER + "canary = 4\n" + _import_step(SEED_NUMBERS)).hash != h
    assert _compile(HEADER + "canary = 5\n" + _import_step(SEED_NUMBERS)).hash == h
    guide = _import_step(SEED_NUMBERS, details=False, body_form='"ExternalTnsOrder"')
    plain = _import_step(SEED_NUMBERS, details=False)
    assert (
        _compile(HEADER + guide).hash
        != compile_plan(
            parse_plan(HEADER + plain, "plan.toml"), lambda n: b"", require_import_details=False
        ).hash
    )
    window = HEADER + "[rate]\nvisibility_window_s = 120\n" + _import_step(SEED_NUMBERS)
    assert _compile(window).hash == h


# --- chained steps and order bodies ---------------------------------------------------------


def test_sms_and_a2p_are_chained_apart() -> None:
    """The SMS-on step chained to an import carries SMS only; a step asking for A2P is followed
    by `<SMS step>:a2p`, chained from the step turning SMS on, with the A2P settings only."""
    spec = parse_plan(
        HEADER
        + _import_step(["1"], enable_messaging="true", a2p='{ campaign_id = "C1" }', name='"h"')
        + _numbers_step(
            "messaging", ["2"], 'name = "m"\nsms = "on"\na2p = { campaign_id = "C2" }\n'
        )
        + _import_step(["3"], enable_messaging="true", name='"plain"'),
        "plan.toml",
    )
    imported, messaging, plain = spec.steps
    assert chained_settings(imported) == {
        "kind": "messaging",
        "sms": "on",
        "chained_from": "h",
        "role": "sms",
    }
    a2p = {"message_class": None, "campaign_id": "C1", "action": "asSpecified"}
    assert (a2p_step_name(imported), chained_a2p_settings(imported)) == (
        "h:sms-on:a2p",
        {"kind": "messaging", "a2p": a2p, "chained_from": "h:sms-on", "role": "a2p"},
    )
    assert (a2p_step_name(messaging), chained_a2p_settings(messaging)["chained_from"]) == (
        "m:a2p",
        "m",
    )
    assert [asks_a2p(s) for s in spec.steps] == [True, True, False]
    assert sms_step_name(plain) == "plain:sms-on"


def _group(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    return [child.tag for child in root.find("TnOptionGroups/TnOptionGroup")]


def test_order_bodies_send_sms_and_a2p_in_separate_orders() -> None:
    """A step turning SMS on with A2P sends SMS only; its A2P step sends A2pSettings only; SMS
    off goes with the step's A2P settings (action off) in one order."""
    spec = parse_plan(
        HEADER
        + _numbers_step("messaging", ["1"], 'sms = "on"\na2p = { campaign_id = "C2" }\n')
        + _numbers_step("messaging", ["2"], 'sms = "off"\na2p = { action = "off" }\n'),
        "plan.toml",
    )
    on, off = spec.steps
    tns = ["+19195551234"]
    assert _group(order_body(StepKind.MESSAGING, on.settings(), "X", tns)) == [
        "Sms",
        "TelephoneNumbers",
    ]
    follow_up = order_body(StepKind.MESSAGING, chained_a2p_settings(on), "X-A", tns)
    assert _group(follow_up) == ["A2pSettings", "TelephoneNumbers"]
    assert etree.fromstring(follow_up).findtext(".//CampaignId") == "C2"
    assert _group(order_body(StepKind.MESSAGING, off.settings(), "Y", tns)) == [
        "Sms",
        "A2pSettings",
        "TelephoneNumbers",
    ]


@pytest.mark.parametrize(
    ("form", "root", "subscriber"),
    [("ImportTnOrder", "ImportTnOrder", True), ("ExternalTnsOrder", "ExternalTnsOrder", False)],
)
def test_import_order_body_follows_the_steps_body_form(
    form: str, root: str, subscriber: bool
) -> None:
    """The import body is the form the step settings name, with its details when it has them."""
    step = _import_step(SEED_NUMBERS, details=subscriber, body_form=f'"{form}"')
    plan = _compile(HEADER + step)
    order = plan.steps[0].orders[0]
    body = order_body(StepKind.IMPORT, plan.steps[0].spec.settings(), "X", order.numbers)
    doc = etree.fromstring(body)
    assert doc.tag == root
    assert (doc.find("Subscriber") is not None) is subscriber
    assert doc.findtext("LoaType") == "CARRIER"


def test_an_import_step_without_valid_numbers_has_no_orders() -> None:
    """A step whose every entry is invalid gets no order, canary or not (nothing to cut)."""
    plan = _compile(HEADER + _import_step(["letters!", "12"], details=False))
    assert plan.steps[0].orders == [] and len(plan.invalid) == 2


def test_a2p_for_numbers_outside_nanp_is_refused_in_one_line() -> None:
    """The published schema takes A2P settings only for +1 numbers: a messaging step that asks
    for A2P with a UK number is refused, naming the step and a number to move."""
    step = (
        '[[steps]]\nkind = "messaging"\nsms = "on"\n'
        'a2p = { campaign_id = "CA3XKE1" }\nnumbers = ["+19199918388", "+442079460123"]\n'
    )
    with pytest.raises(PlanError) as info:
        _compile(HEADER + step)
    assert str(info.value) == (
        "plan.toml: steps[0] ('messaging-1'): a2p is set, but 1 number is not +1 (NANP), e.g. "
        "+442079460123; the published v2 schema takes A2P settings (10DLC) only for NANP "
        "numbers: move those numbers to a step without a2p"
    )


_BUDGET_PLAN = (
    'name = "b"\naccount_id = "1"\n[rate]\n{rate}\n'
    '[[steps]]\nkind = "remove"\nnumbers = ["+19195550100"]\n'
)


@pytest.mark.parametrize(
    ("rate", "share_per_s"),
    [
        ("account_limit_per_s = 20\nshare = 0.75", 15.0),
        ("account_limit_per_s = 20\nreserve_per_s = 5", 15.0),
        ("account_limit_per_s = 20", 16.0),
    ],
)
def test_a_budget_makes_the_share_the_runs_rate(rate: str, share_per_s: float) -> None:
    """`[rate]` with the account's limit and a share (or a reserve left for live traffic):
    the run's rate is the share (the default share is 80 %)."""
    text = _BUDGET_PLAN.format(rate=rate)
    spec = parse_plan(text, "plan.toml")
    assert spec.rate.requests_per_s == share_per_s
    assert spec.rate.budget is not None and spec.rate.budget.account_limit_per_s == 20.0


@pytest.mark.parametrize(
    ("rate", "key"),
    [
        ("share = 0.5", "rate.share"),
        ("account_limit_per_s = 20\nrequests_per_s = 3", "rate.requests_per_s"),
        ("account_limit_per_s = 20\nshare = 0.5\nreserve_per_s = 2", "rate.reserve_per_s"),
        ("account_limit_per_s = 20\nreserve_per_s = 20", "rate.reserve_per_s"),
        ("account_limit_per_s = 20\nshare = 0", "rate.share"),
        ("account_limit_per_s = 20\nshare = 1.5", "rate.share"),
    ],
)
def test_a_budget_that_contradicts_itself_is_one_line_naming_the_key(rate: str, key: str) -> None:
    """A share without a limit, a rate beside a budget, both share and reserve, a reserve
    leaving nothing, a share outside (0, 1]: refused with the key named."""
    text = _BUDGET_PLAN.format(rate=rate)
    with pytest.raises(PlanError) as info:
        parse_plan(text, "plan.toml")
    assert key in str(info.value) and "\n" not in str(info.value)
