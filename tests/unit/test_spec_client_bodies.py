"""Every body the client can build conforms to Bandwidth's published v2 schema.

Plans are generated (step kinds, both import body forms, SMS on/off, A2P settings, subscriber
and LOA type, 1..5000 numbers, NANP and international numbers), compiled as `bwmigrate plan`
compiles them, and every order body of every step — and of the SMS and A2P orders chained
after them, and the pre-flight's importTnChecker body — is judged by the vendored schema's
referee (`orchestrator.spec`), not by our own builders' golden files.
"""

from __future__ import annotations

import json

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.api.orders import order_body
from orchestrator.api.xml_request import build_import_checker
from orchestrator.plan import (
    StepKind,
    asks_a2p,
    chained_a2p_settings,
    chained_settings,
    compile_plan,
    parse_plan,
)
from orchestrator.spec import validate_import_body, validate_request

NANP = [f"+1919991{i:04d}" for i in range(5000)]
_REGIONS = ("GB", "DE", "FR", "AU", "BR", "JP", "IN", "ZA", "MX", "NL")
INTERNATIONAL = [
    phonenumbers.format_number(
        phonenumbers.example_number_for_type(region, kind), phonenumbers.PhoneNumberFormat.E164
    )
    for region in _REGIONS
    for kind in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
    )
]

_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs", "P")), min_size=1, max_size=30
).filter(lambda s: s.strip() == s and s.strip())

subscribers = st.fixed_dictionaries(
    {
        "name": _text.map(lambda s: s[:45]),
        "house_number": st.integers(1, 99999).map(str),
        "street_name": _text,
        "city": _text,
        "state_code": st.sampled_from(["CO", "NC", "CA", "NY", "TX"]),
        "zip": st.from_regex(r"[0-9]{5}", fullmatch=True),
    },
    optional={"county": _text},
)

a2p_settings = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "action": st.just("asSpecified"),
            "campaign_id": st.from_regex(r"C[A-Z0-9]{6}", fullmatch=True),
        },
        optional={"message_class": st.sampled_from(["M", "A", "P"])},
    ),
)


@st.composite
def numbers(draw: st.DrawFn) -> list[str]:
    """1..5000 distinct numbers: NANP, international, or both."""
    mix = draw(st.sampled_from(["nanp", "international", "both"]))
    pool = {"nanp": NANP, "international": INTERNATIONAL, "both": NANP[:50] + INTERNATIONAL}[mix]
    count = draw(st.integers(1, len(pool)))
    return pool[:count] if mix == "nanp" else draw(st.permutations(pool))[:count]


def _toml(value: object) -> str:
    """A TOML value (JSON strings are valid TOML basic strings; tables inline)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


@st.composite
def plans(draw: st.DrawFn) -> str:
    """A plan's TOML with one step of every kind the draw asks for."""
    lines = ['name = "spec-bodies"', 'account_id = "9900012"', "batch_size = 5000"]
    lines.append(f"canary = {draw(st.sampled_from([0, 1, 5]))}")
    kind = draw(st.sampled_from(["import", "remove", "messaging"]))
    step: dict[str, object] = {"kind": kind, "numbers": draw(numbers())}
    if kind == "import":
        form = draw(st.sampled_from(["ImportTnOrder", "ExternalTnsOrder"]))
        step |= {"site_id": "743", "loa_type": draw(st.sampled_from(["CARRIER", "SUBSCRIBER"]))}
        step["body_form"] = form
        if draw(st.booleans()):
            step["sip_peer_id"] = "303716"
        if form == "ImportTnOrder":
            step["subscriber"] = draw(subscribers)
            step["loa_authorizing_person"] = draw(_text)
        step["enable_messaging"] = draw(st.booleans())
        a2p = draw(a2p_settings) if step["enable_messaging"] else None
    else:
        step["sms"] = "on" if kind == "remove" else draw(st.sampled_from(["on", "off"]))
        a2p = draw(a2p_settings) if kind == "messaging" and step["sms"] == "on" else None
        if kind == "remove":
            del step["sms"]
    if a2p and all(n.startswith("+1") for n in step["numbers"]):  # type: ignore[attr-defined]
        step["a2p"] = a2p  # the plan refuses A2P for other numbers (tests/unit/test_plan.py)
    lines.append("[[steps]]")
    lines += [f"{k} = {_toml(v)}" for k, v in step.items()]
    return "\n".join(lines) + "\n"


def _violations(kind: StepKind, settings_: dict[str, object], body: bytes) -> list[str]:
    if kind is StepKind.IMPORT:
        found = validate_import_body(body, str(settings_["body_form"]))
    elif kind is StepKind.REMOVE:
        found = validate_request("CreateRemoveImportedTnOrder", body)
    else:
        found = validate_request("CreateTnOptionOrder", body)
    return [f"{v.path}: {v.message}" for v in found]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=plans())
def test_every_order_body_of_every_plan_conforms_to_the_published_schema(text: str) -> None:
    """Each order body (and the chained SMS / A2P bodies, and the checker body) validates."""
    plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")
    for step in plan.steps:
        spec = step.spec
        bodies = [(spec.kind, spec.settings(), o) for o in step.orders]
        chained = []
        if spec.kind is StepKind.IMPORT and spec.enable_messaging:
            chained.append(chained_settings(spec))
        if asks_a2p(spec):
            chained.append(chained_a2p_settings(spec))
        bodies += [(StepKind.MESSAGING, s, o) for s in chained for o in step.orders]
        for kind, settings_, order in bodies:
            body = order_body(kind, settings_, order.customer_order_id, order.numbers)
            problems = _violations(kind, settings_, body)
            assert not problems, (kind, settings_, problems[:5])
        if spec.kind is StepKind.IMPORT:
            checker = build_import_checker(
                site_id="743", sip_peer_id=spec.sip_peer_id, numbers=step.numbers[:5000]
            )
            assert not validate_request("CreateRequestImportTnChecker", checker)
