"""The plan file: TOML text -> a validated `PlanSpec`, with the file and key of every problem.

Unknown keys are refused with the closest known one suggested; anything that looks like a
credential is refused outright (credentials never go in a plan); every value is type- and
range-checked; A2P, LOA and subscriber rules that the API would reject later are caught here.
Import steps inherit `body_form`, `subscriber`, `loa_authorizing_person` and `loa_type` from
`[import_defaults]` (a step's own key replaces the default's) and `canary` from the top level.
Whether +1 numbers have the subscriber and LOA person they need is decided when the plan is
compiled (`orchestrator.plan`): only then are the numbers known.

This module owns the plan's top level (name, account, country, batch size, canary), `[rate]`,
`[failure_threshold]` and `[import_defaults]`, and the commented `[import_defaults]` template
generated plans carry. Each `[[steps]]` table is `orchestrator.plan.step_table`'s; reading
typed values with the key of every problem is `orchestrator.plan.table_reader`'s.

Pure: text in, dataclasses out. No I/O, no clock, no environment. Imports only the standard
library, `orchestrator.errors` and its plan siblings (`model`, `numbers`, `step_table`); never
`compile` or the package `orchestrator.plan` itself.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from typing import Any

from orchestrator.errors import InputError, PlanError
from orchestrator.plan.budget import BUDGET_KEYS, read_budget
from orchestrator.plan.model import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CANARY,
    GUIDE_BODY_FORM,
    MAX_BATCH_SIZE,
    MAX_VISIBILITY_WINDOW_S,
    FailureThreshold,
    PlanSpec,
    RateSpec,
)
from orchestrator.plan.numbers import DEFAULT_COUNTRY_A3, region_for_a3
from orchestrator.plan.step_table import NAME_RE, ImportDefaults, StepReader

_IMPORT_DEFAULT_KEYS = ("body_form", "subscriber", "loa_authorizing_person", "loa_type")


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


class _Validator(StepReader):
    """Turns the TOML document into a `PlanSpec`: the top level, `[rate]`,
    `[failure_threshold]` and `[import_defaults]` here, each step by `StepReader`."""

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
        if not NAME_RE.match(name):
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
                *BUDGET_KEYS,
            ),
            "rate.",
        )
        d = RateSpec()
        budget = read_budget(self, t)
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
            requests_per_s=budget.share_per_s
            if budget is not None
            else self.number(t, "requests_per_s", "rate.", d.requests_per_s, 0.01, 1000),
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
            budget=budget,
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

    def import_defaults(self, value: Any, canary: int) -> ImportDefaults:
        """Validate [import_defaults]: what import steps inherit."""
        where = "import_defaults."
        t = self.table(value, "import_defaults")
        self.check_keys(t, _IMPORT_DEFAULT_KEYS, where)
        form = self.body_form(t, where)
        if form == GUIDE_BODY_FORM:
            self.refuse_guide_form_extras(t, where, "in [import_defaults]")
        return ImportDefaults(
            body_form=form,
            subscriber=self.subscriber(t.get("subscriber"), where),
            loa_authorizing_person=self.text(t, "loa_authorizing_person", where),
            loa_type=self.loa_type(t, where),
            canary=canary,
        )


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
