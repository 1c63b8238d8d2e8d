"""The plan file: TOML text -> a validated `PlanSpec`, with the file and key of every problem.

Unknown keys are refused with the closest known one suggested; anything that looks like a
credential is refused outright (credentials never go in a plan); every value is type- and
range-checked; A2P, LOA and subscriber rules that the API would reject later are caught here.
Import steps inherit `body_form`, `subscriber`, `loa_authorizing_person` and `loa_type` from
`[import_defaults]` (a step's own key replaces the default's) and `canary` from the top level.
Whether +1 numbers have the subscriber and LOA person they need is decided when the plan is
compiled (`orchestrator.plan`): only then are the numbers known.

Pure: text in, dataclasses out. No I/O, no clock, no environment.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from orchestrator.errors import InputError, PlanError
from orchestrator.plan.model import (
    BODY_FORMS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_BODY_FORM,
    DEFAULT_CANARY,
    GUIDE_BODY_FORM,
    MAX_BATCH_SIZE,
    MAX_VISIBILITY_WINDOW_S,
    A2pSettings,
    FailureThreshold,
    PlanSpec,
    RateSpec,
    StepKind,
    StepSpec,
    Subscriber,
)
from orchestrator.plan.numbers import DEFAULT_COUNTRY_A3, region_for_a3
from orchestrator.plan.source import NumberFile

_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential", re.IGNORECASE)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_A2P_ACTIONS = ("asSpecified", "off", "unchanged", "systemDefault", "delete")
_STATE_CODE = re.compile(r"^[A-Za-z]{2}$")
_IMPORT_DEFAULT_KEYS = ("body_form", "subscriber", "loa_authorizing_person", "loa_type")
_GUIDE_FORM_LACKS = {"subscriber": "Subscriber", "loa_authorizing_person": "LoaAuthorizingPerson"}


@dataclass(frozen=True, slots=True)
class _ImportDefaults:
    """What `[import_defaults]` gives import steps (None: not given)."""

    body_form: str | None = None
    subscriber: Subscriber | None = None
    loa_authorizing_person: str | None = None
    loa_type: str | None = None
    canary: int = DEFAULT_CANARY  # the top-level `canary`


def parse_plan(text: str, path: str) -> PlanSpec:
    """Parse and validate plan TOML; raise `PlanError` naming the file and key on any problem."""
    return read_plan(text, path)


def read_plan(text: str, path: str) -> PlanSpec:
    """Parse and validate plan TOML; raise `PlanError` naming the file and key on any problem."""
    try:
        doc = tomllib.loads(text.lstrip("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{path}: invalid TOML: {exc}; fix the syntax and run again") from exc
    return _Validator(path).plan(doc)


class _Validator:
    """Turns the TOML document into a `PlanSpec`, with precise error locations."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> PlanError:
        """Build the one-line error for key `where` (TOML keys may hold newlines: escaped)."""
        loc = f"{self.path}: {where}" if where else self.path
        return PlanError(_CONTROL.sub(lambda m: repr(m.group())[1:-1], f"{loc}: {message}"))

    def check_keys(self, table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
        """Refuse secrets and unknown keys, suggesting the closest known key."""
        for key in table:
            if _SECRET_KEYS.search(key):
                raise self.fail(
                    f"{where}{key}",
                    "credentials never go in a plan; remove it and set BWMIGRATE_* environment "
                    "variables instead (see README)",
                )
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"known keys: {', '.join(allowed)}"
                raise self.fail(f"{where}{key}", f"unknown key; {hint}")

    def text(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        *,
        required: bool = False,
        digits: bool = False,
    ) -> str | None:
        """Read a string (or integer id) value."""
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}{key}", "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(f"{where}{key}", f"must be a string, not {type(value).__name__}")
        out = str(value).strip()
        if not out:
            raise self.fail(f"{where}{key}", "must not be empty")
        if digits and not out.isdigit():
            raise self.fail(f"{where}{key}", f"must be digits, got {out!r}")
        return out

    def number(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        default: float,
        lo: float,
        hi: float,
        *,
        integer: bool = False,
    ) -> float:
        """Read a bounded number."""
        value = table.get(key, default)
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            kind = "an integer" if integer else "a number"
            raise self.fail(f"{where}{key}", f"must be {kind}, not {value!r}")
        if not lo <= value <= hi or math.isnan(value):
            raise self.fail(f"{where}{key}", f"must be between {lo:g} and {hi:g}, got {value!r}")
        return float(value)

    def plan(self, doc: Mapping[str, Any]) -> PlanSpec:
        """Validate the top level."""
        self.check_keys(
            doc,
            (
                "name",
                "account_id",
                "country",
                "batch_size",
                "canary",
                "import_defaults",
                "rate",
                "failure_threshold",
                "rehearsal",
                "steps",
            ),
            "",
        )
        name = self.text(doc, "name", "", required=True) or ""
        if not _NAME_RE.match(name):
            raise self.fail("name", f"{name!r} must be 1-64 letters, digits, '-', '_' or '.'")
        country = (self.text(doc, "country", "") or DEFAULT_COUNTRY_A3).upper()
        try:
            region_for_a3(country)
        except InputError as exc:
            raise self.fail("country", str(exc)) from exc
        steps_doc = doc.get("steps")
        if not isinstance(steps_doc, list) or not steps_doc:
            raise self.fail(
                "steps", "add at least one [[steps]] table (import, remove or messaging)"
            )
        canary = int(
            self.number(doc, "canary", "", DEFAULT_CANARY, 0, MAX_BATCH_SIZE, integer=True)
        )
        defaults = self.import_defaults(doc.get("import_defaults", {}), canary)
        steps = tuple(self.step(i, s, defaults) for i, s in enumerate(steps_doc))
        seen: set[str] = set()
        for s in steps:
            if s.name in seen:
                raise self.fail(f"steps[{s.index}].name", f"{s.name!r} is used by two steps")
            seen.add(s.name)
        return PlanSpec(
            path=self.path,
            name=name,
            account_id=self.text(doc, "account_id", "", required=True, digits=True) or "",
            country=country,
            batch_size=int(
                self.number(
                    doc, "batch_size", "", DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE, integer=True
                )
            ),
            canary=canary,
            rate=self.rate(doc.get("rate", {})),
            failure_threshold=self.threshold(doc.get("failure_threshold", {})),
            rehearsal=self.text(doc, "rehearsal", ""),
            steps=steps,
        )

    def table(self, value: Any, where: str) -> Mapping[str, Any]:
        """Require a TOML table."""
        if not isinstance(value, dict):
            raise self.fail(where, "must be a table")
        return value

    def rate(self, value: Any) -> RateSpec:
        """Validate [rate]."""
        t = self.table(value, "rate")
        self.check_keys(
            t,
            (
                "requests_per_s",
                "max_orders_in_flight",
                "poll_interval_s",
                "expected_order_s",
                "visibility_window_s",
            ),
            "rate.",
        )
        d = RateSpec()
        window = self.number(
            t, "visibility_window_s", "rate.", d.visibility_window_s, -math.inf, math.inf
        )
        if not 0 < window <= MAX_VISIBILITY_WINDOW_S:
            raise self.fail(
                "rate.visibility_window_s",
                f"must be more than 0 and at most {MAX_VISIBILITY_WINDOW_S:g} seconds, got "
                f"{t['visibility_window_s']!r}",
            )
        return RateSpec(
            requests_per_s=self.number(t, "requests_per_s", "rate.", d.requests_per_s, 0.01, 1000),
            max_orders_in_flight=int(
                self.number(
                    t,
                    "max_orders_in_flight",
                    "rate.",
                    d.max_orders_in_flight,
                    1,
                    1000,
                    integer=True,
                )
            ),
            poll_interval_s=self.number(
                t, "poll_interval_s", "rate.", d.poll_interval_s, 0.01, 3600
            ),
            expected_order_s=self.number(
                t, "expected_order_s", "rate.", d.expected_order_s, 0, 86400
            ),
            visibility_window_s=window,
        )

    def threshold(self, value: Any) -> FailureThreshold:
        """Validate [failure_threshold]."""
        t = self.table(value, "failure_threshold")
        self.check_keys(t, ("max_failed_percent", "min_finished"), "failure_threshold.")
        d = FailureThreshold()
        return FailureThreshold(
            max_failed_percent=self.number(
                t, "max_failed_percent", "failure_threshold.", d.max_failed_percent, 0, 100
            ),
            min_finished=int(
                self.number(
                    t, "min_finished", "failure_threshold.", d.min_finished, 0, 10**9, integer=True
                )
            ),
        )

    def step(self, index: int, value: Any, defaults: _ImportDefaults) -> StepSpec:
        """Validate one [[steps]] table."""
        where = f"steps[{index}]."
        t = self.table(value, f"steps[{index}]")
        kind_text = self.text(t, "kind", where, required=True) or ""
        try:
            kind = StepKind(kind_text.lower())
        except ValueError:
            raise self.fail(
                f"{where}kind", f"{kind_text!r} is not one of import, remove, messaging"
            ) from None
        common = ("kind", "name", "numbers", "files")
        allowed = {
            StepKind.IMPORT: (
                *common,
                "site_id",
                "sip_peer_id",
                "loa_type",
                "subscriber",
                "loa_authorizing_person",
                "enable_messaging",
                "a2p",
                "body_form",
                "canary",
            ),
            StepKind.REMOVE: common,
            StepKind.MESSAGING: (*common, "sms", "a2p"),
        }[kind]
        self.check_keys(t, allowed, where)
        name = self.text(t, "name", where) or f"{kind.value}-{index + 1}"
        if not _NAME_RE.match(name):
            raise self.fail(f"{where}name", f"{name!r} must be 1-64 letters, digits, '-', '_', '.'")
        inline = self.inline_numbers(t.get("numbers", []), where)
        files = self.files(t.get("files", []), where)
        if not inline and not files:
            raise self.fail(
                f"steps[{index}]", "has no numbers: add `numbers = [...]` or `files = [...]`"
            )
        base = StepSpec(index=index, name=name, kind=kind, inline=inline, files=files)
        if kind is StepKind.IMPORT:
            return self.import_step(base, t, where, defaults)
        if kind is StepKind.MESSAGING:
            sms = (self.text(t, "sms", where, required=True) or "").lower()
            if sms not in ("on", "off"):
                raise self.fail(f"{where}sms", f'must be "on" or "off", got {sms!r}')
            return replace(base, sms=sms, a2p=self.a2p(t.get("a2p"), sms, where))
        return base

    def import_defaults(self, value: Any, canary: int) -> _ImportDefaults:
        """Validate [import_defaults]: what import steps inherit."""
        where = "import_defaults."
        t = self.table(value, "import_defaults")
        self.check_keys(t, _IMPORT_DEFAULT_KEYS, where)
        form = self.body_form(t, where)
        if form == GUIDE_BODY_FORM:
            self.refuse_guide_form_extras(t, where, "in [import_defaults]")
        return _ImportDefaults(
            body_form=form,
            subscriber=self.subscriber(t.get("subscriber"), where),
            loa_authorizing_person=self.text(t, "loa_authorizing_person", where),
            loa_type=self.loa_type(t, where),
            canary=canary,
        )

    def body_form(self, t: Mapping[str, Any], where: str) -> str | None:
        """Read `body_form`: one of the two import bodies, in any letter case."""
        text = self.text(t, "body_form", where)
        if text is None:
            return None
        for form in BODY_FORMS:
            if text.lower() == form.lower():
                return form
        raise self.fail(
            f"{where}body_form",
            f'must be "{DEFAULT_BODY_FORM}" (the published v2 schema\'s form, the default) or '
            f'"{GUIDE_BODY_FORM}" (the migration guide\'s form), got {text!r}',
        )

    def refuse_guide_form_extras(self, t: Mapping[str, Any], where: str, how: str) -> None:
        """The guide's ExternalTnsOrder form has no Subscriber and no LoaAuthorizingPerson."""
        for key, element in _GUIDE_FORM_LACKS.items():
            if key in t:
                raise self.fail(
                    f"{where}{key}",
                    f'the {GUIDE_BODY_FORM} body form (body_form = "{GUIDE_BODY_FORM}" {how}) '
                    f"has no {element} element; remove {key}, or send the published schema's "
                    f'form with body_form = "{DEFAULT_BODY_FORM}"',
                )

    def loa_type(self, t: Mapping[str, Any], where: str) -> str | None:
        """Read `loa_type`: CARRIER or SUBSCRIBER."""
        loa = self.text(t, "loa_type", where)
        if loa is not None and loa.upper() not in ("CARRIER", "SUBSCRIBER"):
            raise self.fail(f"{where}loa_type", f"must be CARRIER or SUBSCRIBER, got {loa!r}")
        return None if loa is None else loa.upper()

    def import_step(
        self, base: StepSpec, t: Mapping[str, Any], where: str, defaults: _ImportDefaults
    ) -> StepSpec:
        """Validate the settings of an import step (unset keys inherited from `defaults`)."""
        own_form = self.body_form(t, where)
        form = own_form or defaults.body_form or DEFAULT_BODY_FORM
        if form == GUIDE_BODY_FORM:
            how = "in this step" if own_form else "in [import_defaults]"
            self.refuse_guide_form_extras(t, where, how)
        enable = t.get("enable_messaging", False)
        if not isinstance(enable, bool):
            raise self.fail(f"{where}enable_messaging", "must be true or false")
        if "a2p" in t and not enable:
            raise self.fail(f"{where}a2p", "A2P settings need `enable_messaging = true`")
        schema_form = form == DEFAULT_BODY_FORM
        subscriber = self.subscriber(t.get("subscriber"), where)
        person = self.text(t, "loa_authorizing_person", where)
        return replace(
            base,
            site_id=self.text(t, "site_id", where, required=True, digits=True),
            sip_peer_id=self.text(t, "sip_peer_id", where, digits=True),
            loa_type=self.loa_type(t, where) or defaults.loa_type or "CARRIER",
            subscriber=subscriber or (defaults.subscriber if schema_form else None),
            loa_authorizing_person=person
            or (defaults.loa_authorizing_person if schema_form else None),
            enable_messaging=enable,
            sms="on" if enable else None,
            a2p=self.a2p(t.get("a2p"), "on", where) if enable else None,
            body_form=form,
            canary=int(
                self.number(t, "canary", where, defaults.canary, 0, MAX_BATCH_SIZE, integer=True)
            ),
        )

    def subscriber(self, value: Any, where: str) -> Subscriber | None:
        """Validate an optional subscriber table (the `ImportTnOrder` body form)."""
        if value is None:
            return None
        w = f"{where}subscriber."
        t = self.table(value, w[:-1])
        keys = ("name", "house_number", "street_name", "city", "state_code", "zip", "county")
        self.check_keys(t, keys, w)
        name = self.text(t, "name", w, required=True) or ""
        if len(name) > 45:
            raise self.fail(f"{w}name", "is longer than 45 characters (API error 25131)")
        values = {k: self.text(t, k, w) for k in keys[1:]}
        house, state = values["house_number"], values["state_code"]
        if house is not None and not (house.isascii() and house.isdigit()):
            raise self.fail(
                f"{w}house_number",
                f"must be digits (the v2 schema's HouseNumber is an integer), got {house!r}",
            )
        if state is not None:
            if not _STATE_CODE.match(state):
                raise self.fail(f"{w}state_code", f'must be two letters (e.g. "CO"), got {state!r}')
            values["state_code"] = state.upper()
        return Subscriber(name=name, **values)

    def a2p(self, value: Any, sms: str, where: str) -> A2pSettings | None:
        """Validate optional A2P settings."""
        if value is None:
            return None
        w = f"{where}a2p."
        t = self.table(value, w[:-1])
        self.check_keys(t, ("message_class", "campaign_id", "action"), w)
        action = self.text(t, "action", w) or "asSpecified"
        if action not in _A2P_ACTIONS:
            raise self.fail(f"{w}action", f"must be one of {', '.join(_A2P_ACTIONS)}")
        klass, campaign = self.text(t, "message_class", w), self.text(t, "campaign_id", w)
        for key, val in (("message_class", klass), ("campaign_id", campaign)):
            if val is not None and len(val) > 64:
                raise self.fail(f"{w}{key}", "must be 1-64 characters")
        if action == "asSpecified" and not (klass or campaign):
            raise self.fail(w[:-1], "action asSpecified needs message_class and/or campaign_id")
        if action == "off" and (klass or campaign):
            raise self.fail(w[:-1], "action off takes no message_class or campaign_id")
        if sms == "off" and action == "asSpecified":
            raise self.fail(w[:-1], 'A2P settings need sms = "on" (API error 5132)')
        return A2pSettings(message_class=klass, campaign_id=campaign, action=action)

    def inline_numbers(self, value: Any, where: str) -> tuple[str, ...]:
        """Validate `numbers = [...]`: strings (or integers), never floats."""
        if not isinstance(value, list):
            raise self.fail(f"{where}numbers", "must be a list of strings")
        out = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, int) and not isinstance(item, bool):
                out.append(str(item))
            else:
                raise self.fail(
                    f"{where}numbers[{i}]",
                    f'{item!r} must be a quoted string (e.g. "+19195551234")',
                )
        return tuple(out)

    def files(self, value: Any, where: str) -> tuple[NumberFile, ...]:
        """Validate `files = [...]`: paths, or tables {path, column, header}."""
        if not isinstance(value, list):
            raise self.fail(f"{where}files", "must be a list of paths or {path, column} tables")
        out = []
        for i, item in enumerate(value):
            w = f"{where}files[{i}]"
            if isinstance(item, str) and item.strip():
                out.append(NumberFile(path=item.strip()))
                continue
            t = self.table(item, w)
            self.check_keys(t, ("path", "column", "header"), f"{w}.")
            path = self.text(t, "path", f"{w}.", required=True) or ""
            column = t.get("column")
            if column is not None and (
                isinstance(column, bool)
                or not isinstance(column, str | int)
                or (isinstance(column, int) and column < 1)
            ):
                raise self.fail(f"{w}.column", "must be a header name or a 1-based column number")
            header = t.get("header")
            if header is not None and not isinstance(header, bool):
                raise self.fail(f"{w}.header", "must be true or false")
            out.append(NumberFile(path=path, column=column, header=header))
        return tuple(out)


def import_defaults_template(why: str) -> list[str]:
    """Plan lines for a commented `[import_defaults]` to fill in, for a generated plan whose +1
    imports lack a subscriber and LOA person (`why` says whose inputs did not carry them).

    Nothing in it is sent until filled in: the values are commented out (and empty, which the
    plan refuses if uncommented as they are), so `bwmigrate plan` names what is missing.
    """
    return [
        "# +1 (NANP) numbers are imported with the published v2 schema's ImportTnOrder body, which",
        "# requires the subscriber (name and service address) and the person who signed the LOA;",
        f"# {why}. Fill them in and uncomment the two lines (`bwmigrate plan` refuses the plan",
        "# until then), or uncomment body_form instead to send the migration guide's",
        "# ExternalTnsOrder form, which has neither.",
        "[import_defaults]",
        '# subscriber = { name = "", house_number = "", street_name = "", city = "", '
        'state_code = "", zip = "" }',
        '# loa_authorizing_person = ""',
        '# body_form = "ExternalTnsOrder"',
    ]
