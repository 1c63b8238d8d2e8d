"""The dry run's estimate against what a rehearsal actually sends: the creates and polls the
model counts are the requests a rehearsal's audit log records (counts, not seconds)."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

from orchestrator.plan.numbers import normalize_numbers

REPO = Path(__file__).resolve().parents[2]


def bwmigrate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


def _numbers(count: int, npa: str) -> list[str]:
    """`count` distinct numbers bwmigrate accepts, in area code `npa`."""
    out: list[str] = []
    for nxx in range(201, 1000):
        candidates = [f"+1{npa}{nxx}{line:04d}" for line in range(0, 10000, 17)]
        out += [n for n in normalize_numbers(candidates) if isinstance(n, str)]
        if len(out) >= count:
            return out[:count]
    raise AssertionError(f"could not make {count} numbers")


def _quoted(numbers: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in numbers)


# Orders of 2 s, polled at 0.5, 1.25 and 2.375 s after their create (3 polls each, with 0.75 s
# between the second poll and the order's end, so a loaded machine cannot save or add a poll),
# at a rate the run never reaches.
PLAN = """name = "estimate-check"
account_id = "9900012"
batch_size = 4
canary = 2
[rate]
requests_per_s = 100
max_orders_in_flight = 4
poll_interval_s = 0.5
expected_order_s = 2
[[steps]]
kind = "import"
name = "hosted"
site_id = "743"
sip_peer_id = "303716"
body_form = "ExternalTnsOrder"
enable_messaging = true
numbers = [{imports}]
[[steps]]
kind = "messaging"
name = "support"
sms = "on"
a2p = {{ message_class = "M", campaign_id = "CB7SUPP" }}
numbers = [{messaging}]
[[steps]]
kind = "remove"
name = "release"
numbers = [{removals}]
"""


def test_estimated_creates_and_polls_are_what_a_rehearsal_sends(tmp_path: Path) -> None:
    """A plan with a canary, SMS orders chained to imports, A2P follow-ups and a remove step:
    the dry run's creates equal the POSTs of its rehearsal and its polls the GETs, per the
    audit log. (The former estimate counted one poll too many per order: 4 instead of 3.)"""
    plan = tmp_path / "plan.toml"
    plan.write_text(
        PLAN.format(
            imports=_quoted(_numbers(10, "919")),
            messaging=_quoted(_numbers(6, "336")),
            removals=_quoted(_numbers(3, "415")),
        )
    )
    dry = bwmigrate("plan", str(plan), "--json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    est = json.loads(dry.stdout)["estimate"]
    # hosted: a canary of 2, then 4 + 4, each with its SMS order; support: 2 orders, each with
    # its A2P follow-up; release: 1 order. Each order looked at 3 times, the looks served by
    # shared list reads (batched reads): 24 reads, not 33 GETs; and each of the 7 TN option
    # orders (3 SMS, 2 support, 2 A2P), seen COMPLETE, is read by id once for its warnings: 31.
    assert (est["creates"], est["polls"]) == (11, 31)
    assert est["assumptions"]["poll_offsets_s"] == [0.5, 1.25, 2.38]
    assert json.loads(dry.stdout)["api_calls_estimate"] == 42

    # the orders' requests only: the estimate does not model the snapshot's reads
    run = bwmigrate("run", str(plan), "--sandbox", "--yes", "--json", "--no-snapshot", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["numbers"]["succeeded"] == result["numbers"]["total"], result["numbers"]
    sent: collections.Counter[tuple[str, int | None]] = collections.Counter()
    for line in (tmp_path / result["audit_log"]).read_text().splitlines():
        entry = json.loads(line)
        if entry["type"] == "exchange":
            sent[(entry["method"], entry["status"])] += 1
    assert sent == {("POST", 201): est["creates"], ("GET", 200): est["polls"]}
    assert result["requests"]["total"] == est["api_calls"]
