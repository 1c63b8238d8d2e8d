"""`bwmigrate rollback` end to end: run a plan against a sandbox, write its rollback, run that
against the same sandbox, and get the sandbox's inventory back exactly as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from planfiles import IMPORT_DETAILS

from orchestrator.sandbox import RunningSandbox
from orchestrator.sandbox.config import Credentials

ACCOUNT = "9900012"
CREDS = Credentials(username="rb-user", password="rb-pw-0c9d2e", client_id="c", client_secret="s")
ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")} | {
    "BWMIGRATE_USERNAME": CREDS.username,
    "BWMIGRATE_PASSWORD": CREDS.password,
}

IMPORTS = [f"+1919991{i:04d}" for i in range(12)]
SMS_ON = [f"+1435215{i:04d}" for i in range(6)]
ALREADY_ON = "+14352159999"
SMS_OFF = [f"+1336978{i:04d}" for i in range(5)]
REMOVES = [f"+1415871{i:04d}" for i in range(4)]


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _inventory(sandbox: RunningSandbox) -> dict[str, dict[str, Any]]:
    rows = httpx.get(f"{sandbox.base_url}/_sandbox/inventory", timeout=10).json()["numbers"]
    return {r["number"]: r for r in rows}


def _hosted(numbers: list[str], sms: bool) -> list[dict[str, Any]]:
    return [
        {"number": n, "kind": "imported", "account": ACCOUNT, "site": "743",
         "sip_peer": "303716", "sms_enabled": sms}
        for n in numbers
    ]  # fmt: skip


def _plan(folder: Path) -> Path:
    def q(ns: list[str]) -> str:
        return ", ".join(f'"{n}"' for n in ns)

    plan = folder / "cutover.toml"
    plan.write_text(
        f'name = "cutover"\naccount_id = "{ACCOUNT}"\nbatch_size = 5\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\n"
        '[[steps]]\nkind = "import"\nname = "hosted"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        'enable_messaging = true\na2p = { message_class = "M", campaign_id = "CA3XKE1" }\n'
        f"{IMPORT_DETAILS}numbers = [{q(IMPORTS)}]\n"
        f'[[steps]]\nkind = "messaging"\nname = "sms-on"\nsms = "on"\n'
        f"numbers = [{q([*SMS_ON, ALREADY_ON])}]\n"
        f'[[steps]]\nkind = "messaging"\nname = "sms-off"\nsms = "off"\nnumbers = [{q(SMS_OFF)}]\n'
        f'[[steps]]\nkind = "remove"\nname = "release"\nnumbers = [{q(REMOVES)}]\n'
    )
    return plan


def _run(cwd: Path, plan: Path, sandbox: RunningSandbox, state: str) -> dict[str, Any]:
    out = _cli(
        cwd, "run", str(plan), "--target", f"{sandbox.base_url}/api/v2", "--state", state,
        "--yes", "--json",
    )  # fmt: skip
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_rollback_of_a_completed_run_restores_the_inventory(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    """Imports are removed, SMS on/off reversed, removals re-imported where they were; numbers the
    run did not change (a failed import, SMS already on) are left alone: the inventory after the
    rollback equals the inventory before the run."""
    sandbox = sandbox_factory(credentials=CREDS)
    sandbox.state.seed(
        {
            "numbers": _hosted([*SMS_ON, *REMOVES], sms=False)
            + _hosted([ALREADY_ON, *SMS_OFF], sms=True),
            "failure_rules": [{"numbers": [IMPORTS[4]], "kind": "import", "code": 7518}],
        }
    )
    before = _inventory(sandbox)

    done = _run(tmp_path, _plan(tmp_path), sandbox, "cutover.db")
    assert done["numbers"]["failed"] == 1
    report = json.loads(
        _cli(tmp_path, "report", "--state", "cutover.db", "--format", "json").stdout
    )
    skipped = sorted(r["step"] for r in report if r["status"] == "skipped")
    assert skipped == ["hosted:sms-on", "hosted:sms-on:a2p"]  # the failed import's chain
    during = _inventory(sandbox)
    assert during != before
    assert during[ALREADY_ON]["sms_enabled"] is True
    assert all(n not in during for n in REMOVES)

    written = _cli(
        tmp_path, "rollback", "--state", "cutover.db", "--out", "undo/rollback.toml",
        "--site-id", "743", "--sip-peer-id", "303716", "--json",
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    summary = json.loads(written.stdout)
    assert {s["step"]: s["numbers"] for s in summary["steps"]} == {
        "undo-imports": 11,
        "restore-messaging-1": 6,  # SMS back off, as the run's snapshot shows
        "restore-messaging-2": 5,  # SMS back on
        "undo-removals": 4,  # --site-id given: where the operator says, not the snapshot's
    }
    assert any("already had that SMS setting" in n for n in summary["not_undone"])
    rollback = tmp_path / "undo" / "rollback.toml"
    refused = _cli(tmp_path, "plan", "undo/rollback.toml")  # the re-import's subscriber: unknown
    assert refused.returncode == 2 and "('undo-removals')" in refused.stderr
    text = rollback.read_text()
    rollback.write_text(
        text.replace('# body_form = "ExternalTnsOrder"', 'body_form = "ExternalTnsOrder"')
    )
    dry = _cli(tmp_path, "plan", "undo/rollback.toml")
    assert dry.returncode == 0, dry.stdout + dry.stderr

    undone = _run(tmp_path, tmp_path / "undo" / "rollback.toml", sandbox, "undo.db")
    assert undone["numbers"]["failed"] == 0
    assert _inventory(sandbox) == before


def test_rollback_refuses_open_orders_and_a_state_without_a_run(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    """Orders whose outcome is unknown block the rollback (unless --include-unknown); a missing
    state file is a clear error; an existing output is not overwritten."""
    sandbox = sandbox_factory(credentials=CREDS, order_delay_s=30.0)
    plan = tmp_path / "p.toml"
    plan.write_text(
        f'name = "slow"\naccount_id = "{ACCOUNT}"\n[rate]\npoll_interval_s = 0.05\n'
        f'[[steps]]\nkind = "import"\nsite_id = "743"\nnumbers = ["{IMPORTS[0]}"]\n'
        + IMPORT_DETAILS
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", str(plan), "--target",
         f"{sandbox.base_url}/api/v2", "--state", "slow.db", "--yes"],
        cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not sandbox.state.ledger_orders():  # until the run has placed its order
            assert child.poll() is None and time.monotonic() < deadline, "no order was placed"
            time.sleep(0.05)
        held = _cli(tmp_path, "rollback", "--state", "slow.db", "--out", "r.toml")
        assert held.returncode == 4
    finally:
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=30)
    open_orders = _cli(tmp_path, "rollback", "--state", "slow.db", "--out", "r.toml")
    assert open_orders.returncode == 2
    assert "outcome is not recorded" in open_orders.stderr
    anyway = _cli(tmp_path, "rollback", "--state", "slow.db", "--out", "r.toml",
                  "--include-unknown")  # fmt: skip
    assert anyway.returncode == 0, anyway.stderr
    assert (tmp_path / "r.undo-imports.txt").read_text().splitlines()[1:] == [IMPORTS[0]]
    again = _cli(tmp_path, "rollback", "--state", "slow.db", "--out", "r.toml",
                 "--include-unknown")  # fmt: skip
    assert again.returncode == 2 and "--force" in again.stderr
    missing = _cli(tmp_path, "rollback", "--state", "none.db", "--out", "x.toml")
    assert missing.returncode == 2 and "no state file" in missing.stderr
