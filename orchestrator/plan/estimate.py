"""The dry run's estimate: how many requests a plan's run sends and how long it takes. Pure.

The estimate is a model of how the engine drives a run (docs/PERFORMANCE.md, "The dry run's
estimate"), simulated in model time: no clock, no I/O. What it assumes (`Assumptions`, shown by
the dry run and in `--json`):

- Orders: each step's orders as compiled (`batch_size`, an import step's canary order first).
  Every order of an import step with `enable_messaging` is followed, in the same slot, by its
  SMS order, and every order turning SMS on with A2P settings by its A2P follow-up (every
  number assumed to succeed, so every order has its chained order).
- Order time: an order is terminal `order_s` after its create (`[rate] expected_order_s`; a
  rehearsal's sandbox completes orders in min(expected_order_s, 10 s)).
- Polls: the engine looks at an order `poll_interval_s` after its create, then backs off by
  `POLL_FACTOR` up to `POLL_CAP_S` between looks (`orchestrator.api.pacing.PollSchedule`); the
  look that first sees the order terminal is its last. With batched reads (the default,
  `orchestrator.cutover.status_reader`) a look is served by a read of the order's list made
  since its last look, if there is one (no request), else it reads the list (one request per
  `LIST_PAGE` orders created on it), and a TN option order seen terminal is read by id once
  (its per-number warnings); per-order polling (`status_reads="per_order"`) sends one
  GET per look; with order notifications (`"notify"`) each order learns its end from its
  callback, at no request (lost callbacks and the safety-net reads are not modelled).
- Requests: one gate at `requests_per_s`, grants evenly spaced, creates before polls; at most
  `max_orders_in_flight` order chains open at once, taken by the steps in turn; a canary
  order holds the rest of its step until it is terminal; a step sharing numbers with an
  earlier one waits for it (`depends_on`).
- Answers take no time, nothing is refused, nothing is retried (429s, lost answers and
  reconciliation add requests and time a dry run cannot know).

Plans of more than `SIMULATED_CHAINS` order chains (fewer when orders take many polls: about
`SIMULATED_REQUESTS` requests) are simulated at two smaller sizes with the same proportions and
extrapolated linearly (a run's time grows linearly with its orders once the
first ones are under way).

Imports only its siblings in the plan wing; the engine's poll cadence is mirrored here
(`POLL_FACTOR`, `POLL_CAP_S`; tests/unit/test_estimate.py checks they agree).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from orchestrator.plan.chain import asks_a2p
from orchestrator.plan.compile import canary_size
from orchestrator.plan.model import CompiledPlan, StepKind

__all__ = [
    "POLL_CAP_S",
    "POLL_FACTOR",
    "SIMULATED_CHAINS",
    "Assumptions",
    "Estimate",
    "estimate",
    "iter_compiled_rows",
    "poll_offsets",
]

POLL_FACTOR = 1.5  # mirrors orchestrator.api.pacing.PollSchedule.factor
POLL_CAP_S = 30.0  # mirrors orchestrator.cutover.engine.EngineSettings.poll_cap_s
SIMULATED_CHAINS = 2000  # order chains simulated one by one; larger plans are extrapolated
SIMULATED_REQUESTS = 200_000  # ... and fewer when their orders take many polls each


@dataclass(frozen=True, slots=True)
class Assumptions:
    """What the estimate assumes of the run (shown by the dry run)."""

    requests_per_s: float
    max_orders_in_flight: int
    order_s: float  # from an order's create to its terminal status
    poll_offsets_s: tuple[float, ...]  # when an order's polls go out, after its create
    status_reads: str = "batched"  # shared order-list reads, or "per_order" GETs

    @property
    def polls_per_order(self) -> int:
        """Polls of an order whose polls are not delayed by the gate."""
        return len(self.poll_offsets_s)

    def as_dict(self) -> dict[str, Any]:
        """The `--json` form."""
        return {
            "requests_per_s": self.requests_per_s,
            "max_orders_in_flight": self.max_orders_in_flight,
            "order_s": self.order_s,
            "polls_per_order": self.polls_per_order,
            "poll_offsets_s": [round(t, 2) for t in self.poll_offsets_s],
            "poll_factor": POLL_FACTOR,
            "poll_cap_s": POLL_CAP_S,
            "status_reads": self.status_reads,
            "every_number_succeeds": True,
            "answers_take_no_time": True,
        }


@dataclass(frozen=True, slots=True)
class Estimate:
    """Requests and time a plan's run needs under `assumptions`."""

    orders: int  # the plan's own orders, canary orders included
    chained_orders: int  # TN option orders turning SMS on after imports
    a2p_orders: int  # A2P follow-ups of the orders that turn SMS on
    creates: int  # one POST per order, chained ones included
    polls: int
    eta_s: float  # from the first request to the last order seen terminal
    assumptions: Assumptions
    rate_busy: float  # share of the time the request rate is used (1.0: the rate is the limit)
    extrapolated: bool = False

    @property
    def api_calls(self) -> int:
        """Requests the run sends: creates and polls."""
        return self.creates + self.polls


def poll_offsets(
    order_s: float,
    first_s: float,
    *,
    factor: float = POLL_FACTOR,
    cap_s: float = POLL_CAP_S,
) -> tuple[float, ...]:
    """When an order taking `order_s` is polled, in seconds after its create: `first_s`, then
    gaps growing by `factor` up to `cap_s`, until a poll is at or after `order_s`."""
    offsets: list[float] = []
    at, gap = 0.0, first_s
    while not offsets or offsets[-1] < order_s:
        at += min(gap, cap_s)
        offsets.append(at)
        gap *= factor
    return tuple(offsets)


def estimate(
    plan: CompiledPlan,
    *,
    order_s: float | None = None,
    max_simulated_chains: int = SIMULATED_CHAINS,
    status_reads: str = "batched",
) -> Estimate:
    """Estimate the requests and time of `plan`'s run (orders taking `order_s`: by default the
    plan's `expected_order_s`). Plans of more than `max_simulated_chains` orders are
    extrapolated from two smaller simulations."""
    rate = plan.spec.rate
    took = rate.expected_order_s if order_s is None else order_s
    assumptions = Assumptions(
        requests_per_s=rate.requests_per_s,
        max_orders_in_flight=rate.max_orders_in_flight,
        order_s=took,
        poll_offsets_s=poll_offsets(took, rate.poll_interval_s),
        status_reads=status_reads,
    )
    steps = _work(plan)
    run = _simulate_or_extrapolate(steps, assumptions, rate.poll_interval_s, max_simulated_chains)
    orders = sum(s.orders for s in steps)
    chained = sum(s.orders for s in steps if s.sms_chained)
    a2p = sum(s.orders for s in steps if s.a2p_chained)
    busy = run.requests / rate.requests_per_s / run.makespan_s if run.makespan_s else 0.0
    return Estimate(
        orders=orders,
        chained_orders=chained,
        a2p_orders=a2p,
        creates=orders + chained + a2p,
        polls=run.polls,
        eta_s=run.makespan_s,
        assumptions=assumptions,
        rate_busy=min(busy, 1.0),
        extrapolated=run.extrapolated,
    )


# --- the model -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Step:
    """One plan step as the model drives it."""

    orders: int
    sms_chained: bool  # each order is followed by its SMS order
    a2p_chained: bool  # ... and by its A2P follow-up
    canary: bool  # order 0 holds the rest until it is terminal
    depends_on: tuple[int, ...]
    kind: str = "tnoptions"  # the order list its own orders are read from
    started: int = 0
    done: int = 0
    held: bool = False
    active: bool = False

    @property
    def links(self) -> int:
        """Orders in one chain: the order and the orders chained to it."""
        return 1 + self.sms_chained + self.a2p_chained


def _work(plan: CompiledPlan) -> list[_Step]:
    return [
        _Step(
            orders=len(s.orders),
            sms_chained=s.spec.kind is StepKind.IMPORT and s.spec.enable_messaging,
            a2p_chained=asks_a2p(s.spec),
            canary=canary_size(plan.spec, s.spec, len(s.numbers)) > 0,
            depends_on=s.depends_on,
            kind=_LIST_OF.get(s.spec.kind, "tnoptions"),
        )
        for s in plan.steps
    ]


_LIST_OF = {StepKind.IMPORT: "import", StepKind.REMOVE: "remove"}  # else the TN option list
LIST_PAGE = 1000  # orders in one page of an order list
FRESH_FRACTION = 0.5  # mirrors orchestrator.cutover.status_reader.FRESH_FRACTION


@dataclass(frozen=True, slots=True)
class _Run:
    makespan_s: float
    requests: int
    polls: int
    extrapolated: bool = False


def _simulate_or_extrapolate(
    steps: list[_Step], a: Assumptions, first_s: float, limit: int
) -> _Run:
    """Simulate the plan; one of more than `limit` order chains at two scaled-down sizes,
    extrapolated linearly."""
    chains = sum(s.orders for s in steps)
    per_chain = max((s.links for s in steps), default=1) * (1 + a.polls_per_order)
    limit = max(20, min(limit, SIMULATED_REQUESTS // per_chain))
    if chains <= limit:
        return _Simulation(steps, a, first_s).run()
    scale = limit / 2 / chains
    small = [replace(s, orders=max(1, math.ceil(s.orders * scale))) for s in steps]
    large = [replace(s, orders=2 * s.orders) for s in small]
    n1, n2 = sum(s.orders for s in small), sum(s.orders for s in large)
    r1 = _Simulation(small, a, first_s).run()
    r2 = _Simulation(large, a, first_s).run()

    def grow(v1: float, v2: float) -> float:
        return v1 + (v2 - v1) * (chains - n1) / (n2 - n1)

    return _Run(
        makespan_s=grow(r1.makespan_s, r2.makespan_s),
        requests=round(grow(r1.requests, r2.requests)),
        polls=round(grow(r1.polls, r2.polls)),
        extrapolated=True,
    )


@dataclass(slots=True)
class _Chain:
    """An order and the orders chained to it, driven in one slot."""

    step: int
    canary: bool
    links_left: int
    created_at: float = 0.0
    polls: int = 0
    first_link: bool = True
    seen: int = -1  # the last shared list read this chain's order looked at


class _Simulation:
    """The engine's dispatch, slots, gate and polling, in model time (see the module docstring)."""

    def __init__(self, steps: list[_Step], a: Assumptions, first_s: float) -> None:
        self.steps = [replace(s) for s in steps]
        self.a = a
        self.first_s = first_s
        self.creates: list[tuple[float, int, _Chain]] = []  # (ready at, seq, chain)
        self.polls: list[tuple[float, int, _Chain]] = []
        self.waiting: deque[int] = deque()  # steps waiting for a slot, in turn
        self.free = a.max_orders_in_flight
        self.seq = 0
        self.requests = self.poll_count = 0
        self.end = 0.0
        self.shared = a.status_reads == "batched"
        self.notified = a.status_reads == "notify"  # the callback comes at the order's end
        self.reads: dict[str, tuple[int, float]] = {}  # list -> (read number, when)
        self.listed: dict[str, int] = {}  # list -> orders created on it so far

    def _kind(self, chain: _Chain) -> str:
        return self.steps[chain.step].kind if chain.first_link else "tnoptions"

    def _shared_read(self, chain: _Chain, at: float) -> tuple[int, float] | None:
        """A list read newer than the chain's last look, made after its create and at most
        `first_s / 2` before `at` (batched; `status_reader.StatusReader` shares the same)."""
        read = self.reads.get(self._kind(chain)) if self.shared else None
        if read is None or read[0] <= chain.seen:
            return None
        if read[1] < max(chain.created_at, at - self.first_s * FRESH_FRACTION):
            return None
        return read

    def run(self) -> _Run:
        for i, step in enumerate(self.steps):
            if not step.depends_on:
                self._activate(i)
        self._take_slots(0.0)
        gate_free, interval = 0.0, 1.0 / self.a.requests_per_s
        while self.creates or self.polls:
            first = min(q[0][0] for q in (self.creates, self.polls) if q)
            now = max(gate_free, first)
            if self.polls and self.polls[0][0] <= now:
                at = self.polls[0][0]
                read = (0, at) if self.notified else self._shared_read(self.polls[0][2], at)
                if read is not None:  # served by a read made since its last look: no request
                    _, _, chain = heapq.heappop(self.polls)
                    self._looked(chain, at, read)
                    continue
            if self.creates and self.creates[0][0] <= now:  # creates before polls
                self._created(heapq.heappop(self.creates)[2], now)
                pages = 1
            else:
                pages = self._polled(heapq.heappop(self.polls)[2], now)
            self.requests += pages
            gate_free = now + interval * pages
        return _Run(self.end, self.requests, self.poll_count)

    def _push(self, queue: list[tuple[float, int, _Chain]], at: float, chain: _Chain) -> None:
        self.seq += 1
        heapq.heappush(queue, (at, self.seq, chain))

    def _activate(self, i: int) -> None:
        """Step `i` may start (the steps it depends on are done)."""
        step = self.steps[i]
        if step.active:
            return
        step.active = True
        if step.orders == 0:
            self._step_finished(i)
            return
        step.held = step.canary and step.orders > 1
        self.waiting.append(i)

    def _take_slots(self, now: float) -> None:
        """Give free slots to the waiting steps in turn; each starts its next order."""
        while self.free and self.waiting:
            i = self.waiting.popleft()
            step = self.steps[i]
            chain = _Chain(i, canary=step.canary and step.started == 0, links_left=step.links)
            step.started += 1
            self.free -= 1
            self._push(self.creates, now, chain)
            if not step.held and step.started < step.orders:
                self.waiting.append(i)

    def _created(self, chain: _Chain, now: float) -> None:
        chain.created_at, chain.polls, chain.seen = now, 0, -1
        kind = self._kind(chain)
        self.listed[kind] = self.listed.get(kind, 0) + 1
        self._push(self.polls, now + (self.a.order_s if self.notified else self._gap(0)), chain)

    def _polled(self, chain: _Chain, now: float) -> int:
        """A poll that sends a request: a GET by id, or (batched) a read of the chain's order
        list, one request per page, that later looks may share. The requests it took."""
        pages = 1
        if self.shared:
            kind = self._kind(chain)
            pages = max(1, math.ceil(self.listed.get(kind, 0) / LIST_PAGE))
            self.reads[kind] = (self.poll_count, now)
        self.poll_count += pages
        self._looked(chain, now, (self.poll_count - pages, now))
        return pages

    def _looked(self, chain: _Chain, now: float, read: tuple[int, float]) -> None:
        """The chain's order looked at `now` through a read made at `read[1]`."""
        chain.polls += 1
        chain.seen = read[0]
        if read[1] < chain.created_at + self.a.order_s - 1e-9:
            self._push(self.polls, now + self._gap(chain.polls), chain)
            return
        self.end = max(self.end, now)
        if (self.shared or self.notified) and self._kind(chain) == "tnoptions":
            self.poll_count += 1  # its warnings: a COMPLETE TN option order is read by id once
        if chain.first_link:
            chain.first_link = False
            self._order_done(chain, now)
        chain.links_left -= 1
        if chain.links_left:
            self._push(self.creates, now, chain)  # its chained order, in the same slot
        else:
            self.free += 1
            self._take_slots(now)

    def _gap(self, polls_done: int) -> float:
        try:
            return min(POLL_CAP_S, self.first_s * POLL_FACTOR**polls_done)
        except OverflowError:  # long past the cap
            return POLL_CAP_S

    def _order_done(self, chain: _Chain, now: float) -> None:
        """A step's own order is terminal: a canary releases its step; a last order finishes
        its step (its dependants may start)."""
        step = self.steps[chain.step]
        step.done += 1
        if chain.canary and step.held:
            step.held = False
            if step.started < step.orders:
                self.waiting.append(chain.step)
        if step.done == step.orders:
            self._step_finished(chain.step)
        self._take_slots(now)

    def _step_finished(self, i: int) -> None:
        for j, other in enumerate(self.steps):
            if i in other.depends_on and all(
                self.steps[d].done == self.steps[d].orders for d in other.depends_on
            ):
                self._activate(j)


def iter_compiled_rows(plan: CompiledPlan) -> Iterator[dict[str, Any]]:
    """Every planned number as a row: step, order index, E.164, original text, location."""
    for step in plan.steps:
        i = 0
        for order in step.orders:
            for number in order.numbers:
                yield {
                    "step": step.spec.name,
                    "kind": step.spec.kind.value,
                    "order_index": order.index,
                    "customer_order_id": order.customer_order_id,
                    "e164": number,
                    "input": step.raws[i],
                    "source": step.locations[i],
                }
                i += 1
