"""`bwmigrate plan --check` and `run --checked` as subprocesses: the sandbox's non-importable
numbers are excluded from the compiled plan, never sent, and reported with the API's code; the
checked plan's hash guards resumes; a live run's confirmation gate shows what it will do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from planfiles import IMPORT_DETAILS

from orchestrator.sandbox import RunningSandbox

ACCOUNT = "9900012"
ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")} | {
    "BWMIGRATE_USERNAME": "sandbox",
    "BWMIGRATE_PASSWORD": "sandbox",
}
IMPORTS = [f"+1919991{i:04d}" for i in range(8)]
RULE_SHOWN, RULE_HIDDEN, BANDWIDTH = IMPORTS[1], IMPORTS[2], IMPORTS[6]


def _cli(
    cwd: Path, *args: str, stdin: Any = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=env or ENV,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=stdin,
    )


def _plan(folder: Path, numbers: list[str], rehearsal: bool = False) -> Path:
    quoted = ", ".join(f'"{n}"' for n in numbers)
    plan = folder / "p.toml"
    plan.write_text(
        f'name = "pre"\naccount_id = "{ACCOUNT}"\nbatch_size = 3\n'
        + ('rehearsal = "seed.toml"\n' if rehearsal else "")
        + "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\nexpected_order_s = 0.2\n"
        + '[[steps]]\nkind = "import"\nname = "hosted"\nsite_id = "743"\n'
        + f"{IMPORT_DETAILS}numbers = [{quoted}]\n"
    )
    return plan


SEED = f"""
[[failure_rules]]
numbers = ["{RULE_SHOWN}"]
kind = "import"
code = 19005
checker = true

[[failure_rules]]
numbers = ["{RULE_HIDDEN}"]
kind = "import"
code = 7518
checker = false

[[numbers]]
number = "{BANDWIDTH}"
kind = "bandwidth"
"""


def _rows(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    return lines[0], lines[1:]


def _report(cwd: Path, *args: str) -> list[dict[str, Any]]:
    out = _cli(cwd, "report", *args, "--format", "json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_check_on_the_rehearsal_sandbox_excludes_what_it_cannot_import(tmp_path: Path) -> None:
    """`--check --sandbox`: checker-visible rule numbers and Bandwidth numbers (19006) are left
    out of the compiled plan; the run never sends them and reports them with their codes; a rule
    the checker cannot see fails at order time as usual."""
    (tmp_path / "seed.toml").write_text(SEED)
    plan = _plan(tmp_path, IMPORTS, rehearsal=True)
    checked = _cli(
        tmp_path, "plan", str(plan), "--check", "--sandbox", "--out", "c.jsonl", "--json"
    )
    assert checked.returncode == 1, checked.stderr
    summary = json.loads(checked.stdout)
    excluded = {(x["number"], x["code"]) for x in summary["check"]["excluded"]}
    assert excluded == {(RULE_SHOWN, "19005"), (BANDWIDTH, "19006")}
    assert summary["numbers"]["rejected"] == 2 and summary["numbers"]["valid"] == 6
    header, rows = _rows(tmp_path / "c.jsonl")
    assert {r["e164"] for r in rows} == set(IMPORTS) - {RULE_SHOWN, BANDWIDTH}
    assert (
        header["plan"]["hash"]
        == header["check"]["plan_hash"]
        != summary["check"]["source_plan_hash"]
    )
    assert (tmp_path / "state" / "pre.check.audit.jsonl").exists()

    ran = _cli(tmp_path, "run", str(plan), "--sandbox", "--checked", "c.jsonl", "--json")
    assert ran.returncode == 1, ran.stderr
    report = {r["number"]: r for r in _report(tmp_path, "--state", "state/pre.rehearsal.db")}
    assert {n: report[n]["error_code"] for n in (RULE_SHOWN, BANDWIDTH, RULE_HIDDEN)} == {
        RULE_SHOWN: "19005",
        BANDWIDTH: "19006",
        RULE_HIDDEN: "7518",
    }
    assert report[BANDWIDTH]["order_id"] == "" and "excluded" in report[BANDWIDTH]["note"]
    assert report[RULE_HIDDEN]["order_id"] != ""
    assert sum(r["status"] == "succeeded" for r in report.values()) == 5
    for number in (RULE_SHOWN, BANDWIDTH):  # the audit log proves they were never sent
        sent = _report(tmp_path, "--state", "state/pre.rehearsal.db", "--audit", "--number", number)
        assert sent == []
    posted = _report(
        tmp_path, "--state", "state/pre.rehearsal.db", "--audit", "--number", RULE_HIDDEN
    )
    assert [x["method"] for x in posted] == ["POST", "GET"]  # sent, then its failure read
    assert [e["code"] for e in posted[1]["errors"]] == ["7518"]


def test_checked_live_run_guards_its_plan_and_its_resumes(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Against a live target: the checked plan sends none of the rejected numbers; resuming
    without the file, a sandbox check for a live run, and a stale check are all refused."""
    sandbox.state.seed({"numbers": [{"number": BANDWIDTH, "kind": "bandwidth"}]})
    plan = _plan(tmp_path, IMPORTS)
    url = f"{sandbox.base_url}/api/v2"
    checked = _cli(tmp_path, "plan", str(plan), "--check", "--target", url, "--out", "c.jsonl")
    assert checked.returncode == 1, checked.stderr
    assert "19006" in checked.stdout and BANDWIDTH in checked.stdout
    assert sandbox.state.ledger_orders() == []  # a check places no order

    def run(state: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return _cli(tmp_path, "run", str(plan), "--target", url, "--state", state, "--yes", *extra)

    ran = run("s.db", "--checked", "c.jsonl")
    assert ran.returncode == 1, ran.stderr
    sent = {n for o in sandbox.state.ledger_orders() for n in o["numbers"]}
    assert sent == set(IMPORTS) - {BANDWIDTH}

    without = run("s.db")
    assert without.returncode == 2
    assert "started with --checked c.jsonl" in without.stderr

    (tmp_path / "seed.toml").write_text(SEED)
    _cli(tmp_path, "plan", str(plan), "--check", "--sandbox", "--out", "sb.jsonl")
    wrong = run("t.db", "--checked", "sb.jsonl")
    assert wrong.returncode == 2 and "checked against the sandbox" in wrong.stderr

    plan.write_text(plan.read_text().replace("batch_size = 3", "batch_size = 4"))
    stale = run("u.db", "--checked", "c.jsonl")
    assert stale.returncode == 2 and "the plan changed since the check" in stale.stderr


def test_the_confirmation_gate_shows_the_run_and_what_a_resume_has_left(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Without --yes and without a terminal a live run exits 2 before sending anything (and,
    for a new state file, before creating it); the message names target, account, plan, audit
    log and per-step counts, and on a resumed state file what is left to do."""
    plan = _plan(tmp_path, IMPORTS)
    args = ["run", str(plan), "--target", f"{sandbox.base_url}/api/v2", "--state", "s.db"]
    first = _cli(tmp_path, *args, stdin=subprocess.DEVNULL)
    assert first.returncode == 2 and "pass --yes" in first.stderr
    for text in (sandbox.base_url, f"account {ACCOUNT}", "s.db.audit.jsonl", "8 numbers in 3"):
        assert text in first.stderr
    assert not (tmp_path / "s.db").exists()
    refused = _cli(tmp_path, *args, "--yes", env=ENV | {"BWMIGRATE_PASSWORD": "wrong"})
    assert refused.returncode == 3, refused.stderr  # the state file exists, nothing was sent
    again = _cli(tmp_path, *args, stdin=subprocess.DEVNULL)
    assert again.returncode == 2
    assert "Resuming: so far 0 number-steps succeeded and 0 failed" in again.stderr
    assert "hosted: import 8 numbers, 3 orders open (0 sent" in again.stderr
    assert sandbox.state.ledger_orders() == []  # one refused (401) request, no order
