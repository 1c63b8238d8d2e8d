"""Chaos machinery shared by `tests/e2e/test_chaos.py` and `bench/chaos.py`: a sandbox process,
`bwmigrate run` as a subprocess, a generated plan using every step kind, the seeded
kill-and-resume loop, and the witnesses that judge a finished cutover.

The CI test (a few kills, a few hundred numbers) and the bench (100 kills, 10,000+ numbers) run
the same loop and the same checks, so what the bench proves at scale is what CI proves small.

The witnesses are independent of bwmigrate's own view: the sandbox's ledger (every order it
accepted) and inventory (per-number `imports`, SMS state), against the plan as generated here
and the report `bwmigrate report` prints. bwmigrate only ever runs as a child process; nothing
here imports the engine, the store or the client.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

ACCOUNT = "9900012"
SITE, SIP_PEER = "743", "303716"
ENV = {**os.environ, "BWMIGRATE_USERNAME": "sandbox", "BWMIGRATE_PASSWORD": "sandbox"}
TERMINAL = frozenset({"succeeded", "failed", "skipped", "needs_action"})
GRACEFUL_EXIT_S = 90.0  # a SIGTERM'd run may wait out one hung POST (the client's 30 s timeout)


# --- the sandbox as a process ------------------------------------------------------------------


class SandboxProcess:
    """`bwmigrate sandbox --port 0 ARGS` in a child process; its v2 base URL is its first line
    (`base_url` is the root, where the `/_sandbox/*` side endpoints are)."""

    def __init__(self, *args: str, log: Path | None = None) -> None:
        self._log = log.open("ab") if log is not None else None
        self.proc = subprocess.Popen(
            cli_args("sandbox", "--port", "0", *args),
            stdout=subprocess.PIPE,
            stderr=self._log or subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.v2_url = self.proc.stdout.readline().strip()
        if not self.v2_url.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the sandbox did not start (first line {self.v2_url!r})")
        self.base_url = self.v2_url.removesuffix("/api/v2")

    def ledger(self) -> dict[str, Any]:
        """Every order the sandbox accepted, and its request counts."""
        result: dict[str, Any] = httpx.get(f"{self.base_url}/_sandbox/ledger", timeout=60).json()
        return result

    def inventory(self) -> dict[str, dict[str, Any]]:
        """Every number the sandbox knows, by E.164."""
        rows = httpx.get(f"{self.base_url}/_sandbox/inventory", timeout=60).json()["numbers"]
        return {r["number"]: r for r in rows}

    def seed(self, data: dict[str, Any]) -> None:
        """Add numbers, failure rules or fault settings (the seed-file keys, as JSON)."""
        r = httpx.post(f"{self.base_url}/_sandbox/seed", json=data, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"/_sandbox/seed refused the seed: {r.status_code} {r.text}")

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def turn_sms_off(self, number: str) -> None:
        """An SMS-off TN option order sent behind a run's back; returns once the sandbox has
        completed it (after its order delay)."""
        body = (
            "<TnOptionOrder><CustomerOrderId>behind-the-back</CustomerOrderId><TnOptionGroups>"
            f"<TnOptionGroup><Sms>off</Sms><TelephoneNumbers><TelephoneNumber>{number}"
            "</TelephoneNumber></TelephoneNumbers></TnOptionGroup></TnOptionGroups></TnOptionOrder>"
        )
        r = httpx.post(
            f"{self.v2_url}/accounts/{ACCOUNT}/tnoptions",
            content=body,
            auth=("sandbox", "sandbox"),
            headers={"Content-Type": "application/xml"},
        )
        assert r.status_code == 201, r.text
        wait_for(lambda: not self.inventory()[number]["sms_enabled"], 60, "the SMS-off order")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            if self._log is not None:
                self._log.close()


def cli_args(*args: str) -> list[str]:
    """The argv of `bwmigrate ARGS` (this interpreter, this checkout)."""
    return [sys.executable, "-m", "orchestrator", *args]


def run_args(plan: Path, target: str, state: Path | str, *extra: str) -> list[str]:
    """The argv of `bwmigrate run PLAN --target URL --state STATE --yes EXTRA` (STATE a state
    file or a `postgresql://...#PLAN` URL)."""
    return cli_args("run", str(plan), "--target", target, "--state", str(state), "--yes", *extra)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`bwmigrate ARGS` with the sandbox's credentials, its output captured as text."""
    return _captured(cli_args(*args))


def run_plan(
    plan: Path, target: str, state: Path | str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """`bwmigrate run PLAN --target URL --state STATE --yes EXTRA`, as `run_cli` runs it."""
    return _captured(run_args(plan, target, state, *extra))


def _captured(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=300)


def seed_of_planted(hosted: list[str], in_service: list[str]) -> dict[str, Any]:
    """The sandbox seed of a rollback test: `hosted` imported on site 486 / peer 500025 with
    SMS on; `in_service` on site 743 / peer 303716 with SMS on and campaign CAMP0001 class M."""
    return {"numbers": [
        *({"number": n, "kind": "imported", "account": ACCOUNT, "site": "486",
           "sip_peer": "500025", "sms_enabled": True} for n in hosted),
        *({"number": n, "kind": "inservice", "account": ACCOUNT, "site": "743",
           "sip_peer": "303716", "sms_enabled": True, "campaign_id": "CAMP0001",
           "message_class": "M"} for n in in_service),
    ]}  # fmt: skip


def read_report(state: Path | str) -> list[dict[str, Any]]:
    """`bwmigrate report --format json` of a state file."""
    out = subprocess.run(
        cli_args("report", "--state", str(state), "--format", "json"),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


# --- the generated plan --------------------------------------------------------------------------


@dataclass
class ChaosPlan:
    """A plan file with every step kind, and what a correct cutover of it must leave behind."""

    path: Path
    steps: dict[str, list[str]]  # step name -> valid E.164 numbers, plan order
    invalid: dict[str, int]  # step name -> entries the plan itself rejects
    duplicates: dict[str, list[str]]  # step name -> numbers listed again (a skipped row each)
    chained: dict[str, str]  # chained step name -> the step it follows (import or SMS on)
    kinds: dict[str, str]  # step name -> import | remove | messaging
    sms: dict[str, bool]  # messaging and chained step name -> SMS state it sets
    fail: dict[str, set[str]]  # step name -> numbers the sandbox's failure rules refuse
    campaigns: dict[str, str]  # chained A2P step name -> the campaign its orders set
    seed: dict[str, Any]  # what to POST to /_sandbox/seed before the first run
    needs_action: frozenset[str] = frozenset()  # A2P steps the API refuses (5128: hosted)

    def outcome(self, step: str, number: str) -> str:
        """The status a correct cutover leaves `number` in, in `step`."""
        if self.fails(step, number):
            return "failed" if step not in self.chained else "skipped"
        return "needs_action" if step in self.needs_action else "succeeded"

    @property
    def valid_count(self) -> int:
        """Numbers sent, over all plan steps (chained steps not counted)."""
        return sum(len(v) for k, v in self.steps.items() if k not in self.chained)

    def fails(self, step: str, number: str) -> bool:
        """True when the sandbox refuses `number` in `step` or in a step its chain follows."""
        while True:
            if number in self.fail.get(step, ()):
                return True
            if step not in self.chained:
                return False
            step = self.chained[step]

    @property
    def expected_rows(self) -> Counter[str]:
        """Report rows per step: valid numbers, the plan-invalid entries and the duplicates."""
        return Counter(
            {
                k: len(v) + self.invalid.get(k, 0) + len(self.duplicates.get(k, ()))
                for k, v in self.steps.items()
            }
        )


_JUNK = ("not-a-number", "555-CALL-NOW", "123", "9.19555E+9", "+1 919 555 01")


def _block(area: str, first_exchange: int, count: int) -> list[str]:
    """`count` distinct valid NANP numbers: area code, exchanges from `first_exchange` up."""
    return [f"+1{area}{first_exchange + i // 10000}{i % 10000:04d}" for i in range(count)]


def write_chaos_plan(
    folder: Path,
    numbers: int,
    rng: random.Random,
    *,
    batch_size: int,
    rate_per_s: float,
    in_flight: int,
    poll_interval_s: float,
    fail_ratio: float = 0.01,
    visibility_window_s: float = 30.0,
) -> ChaosPlan:
    """Write a plan of about `numbers` valid numbers over five steps, with its number files.

    Steps: an import with `enable_messaging` and A2P (60 %; its chained `:sms-on` step and the
    `:sms-on:a2p` step after it), a plain import (10 %), a removal (15 %), SMS off (7.5 %) and
    SMS on with A2P (7.5 %, Bandwidth numbers; its chained `:a2p` step). The A2P follow-up of
    the hosted import is refused per number (5128: imported numbers take only the SMS
    attribute), so those numbers end `needs_action`. Imports carry the subscriber and LOA
    person the schema's ImportTnOrder body needs for +1 numbers. Number files
    mix formats and carry junk lines (plan-invalid) and duplicates. About `fail_ratio` of each
    step fails in the sandbox by failure rules (PARTIAL orders; chained numbers skipped).
    """
    folder.mkdir(parents=True, exist_ok=True)
    n_hosted, n_plain = int(numbers * 0.6), int(numbers * 0.1)
    n_remove, n_off = int(numbers * 0.15), int(numbers * 0.075)
    n_on = max(1, numbers - n_hosted - n_plain - n_remove - n_off)
    steps = {
        "hosted": _block("919", 200, n_hosted),
        "plain": _block("415", 300, n_plain),
        "release": _block("336", 400, n_remove),
        "sms-off": _block("646", 500, n_off),
        "sms-on": _block("212", 600, n_on),
    }
    junk = {name: rng.randint(1, 3) for name in ("hosted", "release")}
    # hosted.csv: 10-digit, mixed punctuation, a header, junk and duplicate rows.
    lines = ["Account,Phone Number,Label"]
    for i, n in enumerate(steps["hosted"]):
        d = n[2:]
        text = (d, f"({d[:3]}) {d[3:6]}-{d[6:]}", f"1-{d[:3]}-{d[3:6]}-{d[6:]}", n)[i % 4]
        lines.append(f"A{i % 7},{text},line {i}")
    for j in range(junk["hosted"]):
        lines.insert(rng.randrange(1, len(lines)), f"X,{_JUNK[j]},junk")
    lines.insert(rng.randrange(1, len(lines)), f"D,{steps['hosted'][0][2:]},duplicate")
    (folder / "hosted.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    (folder / "plain.txt").write_text("\n".join(n[2:] for n in steps["plain"]) + "\n")
    release = ["# numbers to release", *(n for n in steps["release"])]
    for j in range(junk["release"]):
        release.insert(rng.randrange(1, len(release)), _JUNK[-1 - j])
    (folder / "release.txt").write_text("\n".join(release) + "\n")
    (folder / "sms-off.csv").write_text("TN\n" + "\n".join(n[2:] for n in steps["sms-off"]) + "\n")
    (folder / "sms-on.txt").write_text("\n".join(steps["sms-on"]) + "\n")
    plan = folder / "chaos.toml"
    plan.write_text(
        f'name = "chaos"\naccount_id = "{ACCOUNT}"\nbatch_size = {batch_size}\n'
        f"[rate]\nrequests_per_s = {rate_per_s}\nmax_orders_in_flight = {in_flight}\n"
        f"poll_interval_s = {poll_interval_s}\nvisibility_window_s = {visibility_window_s}\n"
        "[failure_threshold]\nmax_failed_percent = 50\nmin_finished = 100\n"
        '[import_defaults]\nsubscriber = { name = "Chaos Inc.", house_number = "1", '
        'street_name = "Main", city = "Cary", state_code = "NC", zip = "27511" }\n'
        'loa_authorizing_person = "Jo Chaos"\n'
        f'[[steps]]\nkind = "import"\nname = "hosted"\nsite_id = "{SITE}"\n'
        f'sip_peer_id = "{SIP_PEER}"\nenable_messaging = true\n'
        'a2p = { message_class = "M", campaign_id = "CHAOS01", action = "asSpecified" }\n'
        'files = [{ path = "hosted.csv", column = "Phone Number" }]\n'
        f'[[steps]]\nkind = "import"\nname = "plain"\nsite_id = "{SITE}"\n'
        'loa_type = "SUBSCRIBER"\nfiles = ["plain.txt"]\n'
        '[[steps]]\nkind = "remove"\nname = "release"\nfiles = ["release.txt"]\n'
        '[[steps]]\nkind = "messaging"\nname = "sms-off"\nsms = "off"\n'
        'files = [{ path = "sms-off.csv", column = "TN" }]\n'
        '[[steps]]\nkind = "messaging"\nname = "sms-on"\nsms = "on"\n'
        'a2p = { message_class = "M", campaign_id = "CHAOS02" }\nfiles = ["sms-on.txt"]\n'
    )
    fail = {
        name: set(rng.sample(nums, round(len(nums) * fail_ratio))) for name, nums in steps.items()
    }
    for chained, source in (("hosted:sms-on", "hosted"), ("hosted:sms-on:a2p", "hosted"),
                            ("sms-on:a2p", "sms-on")):  # fmt: skip
        steps[chained] = list(steps[source])
        fail[chained] = set()
    hosted = {"kind": "imported", "account": ACCOUNT, "site": SITE, "sip_peer": SIP_PEER}
    seed = {
        "numbers": [
            *({"number": n, **hosted} for n in steps["release"]),
            *({"number": n, **hosted, "sms_enabled": True} for n in steps["sms-off"]),
            *({"number": n, **hosted, "kind": "inservice"} for n in steps["sms-on"]),
        ],
        "failure_rules": [
            {"numbers": sorted(numbers), "kind": kind, "code": code}
            for numbers, kind, code in (
                (fail["hosted"] | fail["plain"], "import", 7518),
                (fail["release"], "remove", 5158),
                (fail["sms-off"] | fail["sms-on"], "tnoptions", 5076),
            )
            if numbers
        ],
    }
    return ChaosPlan(
        path=plan,
        steps=steps,
        invalid={"hosted": junk["hosted"], "release": junk["release"]},
        duplicates={"hosted": [steps["hosted"][0]]},
        chained={
            "hosted:sms-on": "hosted",
            "hosted:sms-on:a2p": "hosted:sms-on",
            "sms-on:a2p": "sms-on",
        },
        kinds={
            "hosted": "import",
            "plain": "import",
            "release": "remove",
            "sms-off": "messaging",
            "sms-on": "messaging",
            "hosted:sms-on": "messaging",
            "hosted:sms-on:a2p": "a2p",
            "sms-on:a2p": "a2p",
        },
        sms={"sms-off": False, "sms-on": True, "hosted:sms-on": True},
        fail=fail,
        campaigns={"hosted:sms-on:a2p": "CHAOS01", "sms-on:a2p": "CHAOS02"},
        seed=seed,
        needs_action=frozenset({"hosted:sms-on:a2p"}),
    )


# --- the kill-and-resume loop --------------------------------------------------------------


@dataclass
class KillLog:
    """What the kill-and-resume loop did, run by run."""

    kills: int = 0
    sigterms: int = 0
    runs: int = 0
    exit_codes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # tracebacks, wrong exit codes, hangs
    final_summary: dict[str, Any] | None = None

    @property
    def resumes(self) -> int:
        """Runs after the first one."""
        return max(0, self.runs - 1)


@dataclass(frozen=True)
class Schedule:
    """When to interrupt a run (seconds after it starts) and how (SIGTERM or SIGKILL)."""

    early_s: tuple[float, float] = (0.05, 0.8)  # interpreter start, plan compile, reconcile
    late_s: tuple[float, float] = (0.8, 4.0)  # mid-run
    early_ratio: float = 0.2
    sigterm_ratio: float = 0.15

    def draw(self, rng: random.Random) -> tuple[float, bool]:
        """(delay, use SIGTERM) for the next run. A SIGTERM comes mid-run only (and is held
        until the run says it starts): one landing while the interpreter itself starts, before
        bwmigrate's code runs, meets Python's default handler and kills it."""
        early, graceful, when = (rng.random() for _ in range(3))
        if graceful < self.sigterm_ratio:
            return self.late_s[0] + when * (self.late_s[1] - self.late_s[0]), True
        lo, hi = self.early_s if early < self.early_ratio else self.late_s
        return lo + when * (hi - lo), False


def _check_stderr(log: Path, start: int, what: str, problems: list[str]) -> None:
    """A run's stderr must never hold a traceback."""
    with log.open("rb") as f:
        f.seek(start)
        text = f.read().decode("utf-8", "replace")
    if "Traceback" in text:
        problems.append(f"{what}: traceback on stderr:\n{text[text.index('Traceback') :][:2000]}")


def kill_and_resume(
    args: list[str],
    rng: random.Random,
    kills: int,
    log: Path,
    *,
    schedule: Schedule = Schedule(),
    max_final_runs: int = 10,
    on_run: Callable[[KillLog], None] | None = None,
) -> KillLog:
    """Start `args` (a `bwmigrate run ... --json`), interrupt it at seeded moments until `kills`
    SIGKILLs were sent (SIGTERM instead for about `schedule.sigterm_ratio` of the interruptions,
    which must exit 130), then run it uninterrupted until it finishes (exit 0 or 1).

    `on_run(kill_log)` is called before each run (the bench switches sandbox faults there).
    Every run's stderr is appended to `log`; any traceback is a problem.
    """
    out = KillLog()
    while out.kills < kills:
        if on_run is not None:
            on_run(out)
        delay, graceful = schedule.draw(rng)
        code, killed = _one_run(args, log, out, delay, graceful)
        if killed:
            continue
        if code in (0, 1):
            out.problems.append(f"run {out.runs} finished before kill {out.kills + 1} of {kills}")
            return out
    for _ in range(max_final_runs):
        if on_run is not None:
            on_run(out)
        code, _killed = _one_run(args, log, out, None, False)
        if code in (0, 1):
            return out
    out.problems.append(f"not finished after {max_final_runs} uninterrupted runs")
    return out


def _one_run(
    args: list[str], log: Path, out: KillLog, delay: float | None, graceful: bool
) -> tuple[int | None, bool]:
    """One run, interrupted after `delay` s (None: never); (exit code, was it interrupted)."""
    out.runs += 1
    how = "to the end" if delay is None else ("SIGTERM" if graceful else "SIGKILL")
    what = f"run {out.runs}" + ("" if delay is None else f" ({how} at {delay:.2f} s)")
    start = log.stat().st_size if log.exists() else 0
    started = time.monotonic()
    with log.open("ab") as err:
        err.write(f"\n=== {what}\n".encode())
        err.flush()
        child = subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=err)
        try:
            stdout, _ = child.communicate(timeout=delay)
            interrupted = False
        except subprocess.TimeoutExpired:
            stdout, interrupted = b"", True
        if interrupted and not graceful:
            child.kill()
            child.communicate()
            out.kills += 1
        elif interrupted:
            _wait_until_started(child, log, start)
            child.send_signal(signal.SIGTERM)
            out.sigterms += 1
            try:
                child.communicate(timeout=GRACEFUL_EXIT_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
                out.problems.append(f"{what}: no exit {GRACEFUL_EXIT_S:.0f} s after SIGTERM")
        code = child.returncode
        err.write(f"=== {what}: exit {code} after {time.monotonic() - started:.2f} s\n".encode())
    label = f"{how}->{code}" if interrupted else str(code)
    out.exit_codes[label] += 1
    if interrupted and graceful and code not in (130, 0, 1):
        out.problems.append(f"{what}: exit {code} after SIGTERM, expected 130")
    if not (interrupted and not graceful):
        _check_stderr(log, start, what, out.problems)
    if code in (0, 1):
        out.final_summary = json.loads(stdout or b"{}")
    return code, interrupted and code not in (0, 1)


_BANNERS = (b"Starting ", b"Resuming ", b"Nothing to do")


def _wait_until_started(child: subprocess.Popen[bytes], log: Path, start: int) -> None:
    """Wait until the run says it starts or resumes (its code, not the interpreter's, is
    running: a SIGTERM any earlier meets Python's default handler and kills it)."""

    def started() -> bool:
        with log.open("rb") as f:
            f.seek(start)
            text = f.read()
        return child.poll() is not None or any(b in text for b in _BANNERS)

    wait_for(started, GRACEFUL_EXIT_S, "the run to start")


# --- the witnesses -------------------------------------------------------------------------


@dataclass
class Verdict:
    """What the witnesses found; a kept promise has every count at 0."""

    duplicates: list[str] = field(default_factory=list)  # a number in two orders of one step
    lost: list[str] = field(default_factory=list)  # a planned number without one terminal row
    unexpected: list[str] = field(default_factory=list)  # orders or rows nobody planned
    mismatched: list[str] = field(default_factory=list)  # report and sandbox disagree
    rows: int = 0
    ledger_orders: int = 0

    @property
    def ok(self) -> bool:
        """True when every promise held."""
        return not (self.duplicates or self.lost or self.unexpected or self.mismatched)

    def summary(self) -> str:
        """Counts and the first few examples of each failure."""
        parts = [
            f"{name} {len(items)}" + (f" (e.g. {items[:3]})" if items else "")
            for name, items in (
                ("duplicates", self.duplicates),
                ("lost", self.lost),
                ("unexpected", self.unexpected),
                ("mismatched", self.mismatched),
            )
        ]
        return ", ".join(parts)


def _step_key(customer_order_id: str) -> str:
    """`chaos-1a2b3c4d-I01-00042[-M][-A]` -> `I01`, `I01-M`, `I01-M-A`: the step an order
    belongs to (`-M` the SMS order chained to an import, `-A` the A2P order after SMS on)."""
    parts = customer_order_id.split("-")
    suffix: list[str] = []
    while parts and parts[-1] in ("M", "A"):
        suffix.insert(0, parts.pop())
    return "-".join([parts[-2], *suffix]) if len(parts) >= 2 else customer_order_id


def check_cutover(
    plan: ChaosPlan,
    rows: list[dict[str, Any]],
    ledger: dict[str, Any],
    inventory: dict[str, dict[str, Any]],
) -> Verdict:
    """Judge a finished cutover by the report, the sandbox ledger and the inventory."""
    v = Verdict(rows=len(rows), ledger_orders=len(ledger["orders"]))
    _check_rows(plan, rows, v)
    _check_ledger(rows, ledger, v)
    _check_world(plan, rows, inventory, v)
    return v


def _check_rows(plan: ChaosPlan, rows: list[dict[str, Any]], v: Verdict) -> None:
    """Each planned number: exactly one row in a terminal state; rows per step as planned."""
    per_step = Counter(r["step"] for r in rows)
    for step, want in plan.expected_rows.items():
        if per_step[step] != want:
            v.unexpected.append(f"step {step}: {per_step[step]} report rows, planned {want}")
    for step in set(per_step) - set(plan.expected_rows):
        v.unexpected.append(f"step {step}: {per_step[step]} rows of a step nobody planned")
    sent = [r for r in rows if r.get("error_code") != "DUPLICATE"]
    seen = Counter((r["step"], r["number"]) for r in sent if r["number"])
    for step, numbers in plan.steps.items():
        for n in numbers:
            if seen[(step, n)] != 1:
                v.lost.append(f"{step} {n}: {seen[(step, n)]} rows")
    dropped = sorted(
        (r["step"], r["number"]) for r in rows if r.get("error_code") == "DUPLICATE"
    )  # a duplicate the plan dropped: a skipped row, never sent
    if dropped != sorted((s, n) for s, ns in plan.duplicates.items() for n in ns):
        v.unexpected.append(f"duplicate rows {dropped}, planned {plan.duplicates}")
    for r in rows:
        if r["status"] not in TERMINAL:
            v.lost.append(f"{r['step']} {r['number']}: {r['status']}")


def _check_ledger(rows: list[dict[str, Any]], ledger: dict[str, Any], v: Verdict) -> None:
    """No number in two accepted orders of one step; every accepted order known to the tool,
    under the order id the tool recorded."""
    by_step: dict[str, Counter[str]] = {}
    for o in ledger["orders"]:
        by_step.setdefault(_step_key(o["customer_order_id"] or "?-?"), Counter()).update(
            o["numbers"]
        )
    for step, counts in sorted(by_step.items()):
        v.duplicates += [f"{step} {n} in {c} orders" for n, c in counts.items() if c > 1]
    known = {r["customer_order_id"]: r["order_id"] for r in rows if r["customer_order_id"]}
    remote_ids = Counter(o["customer_order_id"] for o in ledger["orders"])
    for o in ledger["orders"]:
        coid = o["customer_order_id"]
        if coid not in known:
            v.unexpected.append(f"order {coid} ({o['order_id']}) unknown to the tool")
        elif known[coid] != o["order_id"] and remote_ids[coid] == 1:
            v.mismatched.append(f"order {coid}: tool says {known[coid]}, API {o['order_id']}")
    v.duplicates += [
        f"CustomerOrderId {c} accepted {n} times" for c, n in remote_ids.items() if n > 1
    ]


def _check_world(
    plan: ChaosPlan, rows: list[dict[str, Any]], inv: dict[str, dict[str, Any]], v: Verdict
) -> None:
    """What the report says happened did happen in the sandbox, and only once."""
    status = {
        (r["step"], r["number"]): r["status"]
        for r in rows
        if r["number"] and r.get("error_code") != "DUPLICATE"
    }
    for step, numbers in plan.steps.items():
        kind = plan.kinds[step]
        for n in numbers:
            st, rec = status.get((step, n)), inv.get(n)
            want = plan.outcome(step, n)
            if st != want:
                v.mismatched.append(f"{step} {n}: {st}, expected {want}")
            if kind == "import":
                imports = rec["imports"] if rec else 0
                if imports != (1 if st == "succeeded" else 0):
                    v.duplicates.append(f"{step} {n}: imported {imports} times, report {st}")
            elif kind == "remove" and (rec is None) != (st == "succeeded"):
                v.mismatched.append(f"{step} {n}: {st} but in inventory: {rec is not None}")
            elif (
                kind == "messaging"
                and st == "succeeded"
                and (rec is None or rec["sms_enabled"] is not plan.sms[step])
            ):
                v.mismatched.append(f"{step} {n}: succeeded but sandbox SMS is not set")
            elif (
                kind == "a2p"
                and st == "succeeded"
                and (rec is None or rec.get("campaign_id") != plan.campaigns[step])
            ):
                v.mismatched.append(f"{step} {n}: succeeded but sandbox campaign is not set")
            elif st == "needs_action" and (
                rec is None or not rec["sms_enabled"] or rec.get("campaign_id")
            ):
                v.mismatched.append(f"{step} {n}: needs action but SMS off or a campaign set")


def iter_report_problems(rows: list[dict[str, Any]]) -> Iterator[str]:
    """Rows whose failure carries no code or description (a failure must say why)."""
    for r in rows:
        if r["status"] in ("failed", "skipped") and not (
            r["error_code"] and r["error_description"]
        ):
            yield f"{r['step']} {r['number'] or r['input']}: {r['status']} without a reason"


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `predicate()` until true, or raise naming `what` (a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)
