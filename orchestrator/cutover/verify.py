"""Verify: read every number of a run back and compare it with what the plan intended and the
state file says happened (`orchestrator.cutover.expectation`).

    result = await verify_numbers(store, NumberReader(client, gate, account_id))
    result.exit_code   # 0 every number matches, 1 some drifted or could not be read

Cheap reads first: numbers whose expectations the in-service pages cover (on the account or
not, on which site) are checked against each expected site's pages (a number on a site of the
account is on the account) and, for numbers expected off the account, the account's pages;
only the numbers those do not confirm are then read one by one, to say what they are instead.
Numbers with fields only tndetails has (SIP peer, SMS, A2P) are read one by one. A list that
would take more pages than the numbers it checks is not read: those numbers are read one by one
too. Errors that stop the whole verify (credentials refused, the API unreachable, pages that do
not parse) are raised: the caller exits 3.

Read-only (GETs through the gate); the state file is only read. Prints nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from orchestrator.api.number_state import NumberState
from orchestrator.cutover.expectation import (
    Drift,
    Expectations,
    Expected,
    StepEffect,
    compare,
    expect,
    needs_details,
)
from orchestrator.cutover.reading import NumberReader
from orchestrator.errors import ExitCode
from orchestrator.state.store import Store


@dataclass(frozen=True, slots=True)
class VerifyProgress:
    """Numbers read one by one so far, of those to read; requests so far."""

    read: int
    to_read: int
    requests: int


@dataclass(slots=True)
class VerifyResult:
    """Per number `matches`, drifted (field by field) or unreadable; what it cost."""

    checked: int = 0
    matched: int = 0
    drift: list[Drift] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    not_checked: int = 0
    pages: int = 0
    details: int = 0
    snapshot: bool = False

    @property
    def drifted(self) -> int:
        """Numbers with at least one drifted field."""
        return len({d.number for d in self.drift})

    @property
    def exit_code(self) -> ExitCode:
        """0 when every checked number matches, 1 otherwise."""
        return ExitCode.OK if not (self.drift or self.unreadable) else ExitCode.FAILED_NUMBERS

    def as_json(self) -> dict[str, Any]:
        """The `verify --json` object."""
        return {
            "numbers": {
                "checked": self.checked,
                "matched": self.matched,
                "drifted": self.drifted,
                "unreadable": len(self.unreadable),
                "not_checked": self.not_checked,
            },
            "drift": [drift_json(d) for d in self.drift],
            "unreadable": [{"number": n, "reason": r} for n, r in sorted(self.unreadable.items())],
            "requests": {
                "pages": self.pages,
                "details": self.details,
                "total": self.pages + self.details,
            },
            "snapshot": self.snapshot,
        }


def drift_json(d: Drift) -> dict[str, str | None]:
    """One `drift[]` entry of `verify --json`."""
    return {
        "number": d.number,
        "step": d.step,
        "field": d.field,
        "expected": d.expected,
        "actual": d.actual,
    }


def expectations_of(store: Store) -> tuple[Expectations, int, bool]:
    """What the run should have left (per number and field), how many planned numbers have no
    expectation (their outcome is not known), and whether a snapshot was there."""
    steps = [StepEffect(s.id, s.name, s.kind, s.settings, s.chained_from) for s in store.steps()]
    outcomes = [(r.step, r.e164, str(r.status)) for r in store.iter_report() if r.e164]
    snapshot = store.snapshot()
    expected = expect(steps, outcomes, snapshot)
    planned = {n for _s, n, _st in outcomes}
    return expected, len(planned - expected.keys()), bool(snapshot)


async def verify_numbers(
    store: Store,
    reader: NumberReader,
    *,
    on_progress: Callable[[VerifyProgress], None] | None = None,
) -> VerifyResult:
    """Read back every number with an expectation and judge it."""
    expected, not_checked, had_snapshot = await anyio.to_thread.run_sync(expectations_of, store)
    result = VerifyResult(not_checked=not_checked, snapshot=had_snapshot)
    one_by_one = {n for n, f in expected.items() if needs_details(f)}
    by_pages = {n: expected[n] for n in expected if n not in one_by_one}
    actual = await _read_pages(reader, by_pages)
    one_by_one |= by_pages.keys() - actual.keys()
    # numbers the pages show drifted are read one by one, to say what they are instead
    one_by_one |= {n for n, state in actual.items() if compare(n, expected[n], state)}
    read = 0

    async def progress(states: list[NumberState]) -> None:
        nonlocal read
        read += len(states)
        if on_progress is not None:
            on_progress(VerifyProgress(read, len(one_by_one), reader.counters.requests))

    states, result.unreadable = await reader.details(sorted(one_by_one), progress)
    actual |= states
    for number in sorted(expected):
        if number in result.unreadable:
            continue
        drift = compare(number, expected[number], actual[number])
        result.drift.extend(drift)
        result.matched += not drift
    result.checked = len(expected)
    result.pages, result.details = reader.counters.pages, reader.counters.details
    return result


async def _read_pages(
    reader: NumberReader, numbers: Mapping[str, Mapping[str, Expected]]
) -> dict[str, NumberState]:
    """The states the pages confirm for these numbers. A number expected on a site is looked
    for in that site's pages (which also prove it is on the account); the others in the
    account's pages. Numbers left out (not on their site, or a list too long for the numbers it
    would check) are to be read one by one."""
    by_site: dict[str, list[str]] = {}
    rest: list[str] = []
    for number, fields in numbers.items():
        site = fields.get("site_id")
        if site is not None and site.value is not None:
            by_site.setdefault(site.value, []).append(number)
        else:
            rest.append(number)
    out: dict[str, NumberState] = {}
    for site_id, listed in by_site.items():
        found = await _members(reader, site_id, len(listed))
        if found is not None:
            out |= {n: NumberState(n, "true", site_id) for n in listed if n in found}
    members = await _members(reader, None, len(rest))
    if members is not None:
        out |= {n: NumberState(n, "true" if n in members else "false") for n in rest}
    return out


async def _members(reader: NumberReader, site: str | None, count: int) -> set[str] | None:
    """A list's numbers, when reading it costs fewer requests than `count` numbers one by one."""
    return await reader.members(site, budget_pages=count - 1) if count > 1 else None
