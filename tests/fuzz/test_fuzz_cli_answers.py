"""`bwmigrate run` as a subprocess against an API answering what the sandbox never would.

The exit code and the last stderr line are the contract scripts rely on: whatever the API
answers, the run ends with a documented exit code and a one-line message, never a traceback,
and the state file it leaves passes SQLite's integrity check. (The volume is in
test_fuzz_engine_answers.py, in process; these are the cases worth a process each.)
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_api import Answer, HostileApi, serve
from planfiles import IMPORT_DETAILS

HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
EMPTY_LIST = b"<ImportTnOrders><TotalCount>0</TotalCount></ImportTnOrders>"
WRONG_ROOT = b"<Nonsense><OrderId>5f2a1c3e-0000-4000-8000-000000000001</OrderId></Nonsense>"
MARKUP_ERROR = (
    b"<ImportTnOrderResponse><ResponseStatus><ErrorCode>1001</ErrorCode><Description>[/bold] "
    b"[red]Access denied</Description></ResponseStatus></ImportTnOrderResponse>"
)
ENV = {**os.environ, "BWMIGRATE_USERNAME": "sandbox", "BWMIGRATE_PASSWORD": "sandbox"}


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[HostileApi, str]]:
    with serve(HostileApi()) as served:
        yield served


CASES = {
    # a 201 nobody can read, then an HTML page where the order list should be
    "unreadable-create-then-html-list": (
        {"create": Answer(201, HTML, "text/html"), "listing": Answer(200, HTML, "text/html")},
        3,
        # the list answers HTML from the start: the run's first request (a list GET) finds
        # that the target is not the v2 API, and nothing is posted
        "is not the v2 API",
    ),
    # the create answer is a proxy's error page with a 4xx: the numbers fail, with the status
    "html-400-on-create": ({"create": Answer(400, HTML, "text/html")}, 1, None),
    # the create path does not exist here: a wrong --target, not bad numbers
    "404-on-create": ({"create": Answer(404, HTML, "text/html")}, 3, None),
    # every create answers a wrong document and the list proves nothing was created
    "wrong-root-create-then-empty-list": (
        {"create": Answer(201, WRONG_ROOT), "listing": Answer(200, EMPTY_LIST)},
        3,
        "could not be placed",
    ),
    "401-on-create": ({"create": Answer(401, b"")}, 3, "refused the credentials"),
    # the API's own words reach the last line; they are text, not terminal markup
    "401-with-markup-in-the-description": (
        {"create": Answer(401, MARKUP_ERROR)},
        3,
        "[/bold] [red]Access denied",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_run_against_a_hostile_api_ends_with_an_exit_code_and_one_line(
    hostile: tuple[HostileApi, str], tmp_path: Path, case: str
) -> None:
    """A hostile API: the documented exit code, one last line, no traceback, state intact."""
    answers, code, says = CASES[case]
    api, base_url = hostile
    api.script(**answers)
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'name = "hostile"\naccount_id = "9900012"\nbatch_size = 2\n'
        "canary = 0\n"  # hostile answers to ordinary orders (a refused canary exits 3)
        "[rate]\nrequests_per_s = 500\npoll_interval_s = 0.01\nvisibility_window_s = 0.2\n"
        "[failure_threshold]\nmax_failed_percent = 100\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\n'
        f"{IMPORT_DETAILS}"
        'numbers = ["+19195550100", "+19195550101", "+19195550102"]\n'
    )
    state = tmp_path / "state.db"
    out = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", str(plan), "--target",
         f"{base_url}/api/v2", "--state", str(state), "--yes"],
        env=ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    assert out.returncode == code, out.stderr[-2000:]
    last = out.stderr.strip().splitlines()[-1]
    if code == 3:
        assert last.startswith("bwmigrate: aborted: ") or last.startswith("bwmigrate: error: ")
    if says is not None:
        assert says in last, last
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        statuses = dict(db.execute("SELECT status, count(*) FROM numbers GROUP BY status"))
    assert sum(statuses.values()) == 3, statuses
