"""The audit log through the command line: `run` writes one line per request the sandbox saw,
`report --audit` reads it back, and no file any command wrote holds a credential."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from planfiles import IMPORT_DETAILS

from orchestrator.sandbox import RunningSandbox
from orchestrator.sandbox.config import Credentials

ACCOUNT = "9900012"
CREDS = Credentials(
    username="audit-user",
    password="pw-4e1b0d9a77",
    client_id="audit-client",
    client_secret="cs-8c2f5a1e93",
)
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")}
OAUTH_ENV = BASE_ENV | {
    "BWMIGRATE_CLIENT_ID": CREDS.client_id,
    "BWMIGRATE_CLIENT_SECRET": CREDS.client_secret,
}
IMPORTS = [f"+1919991{i:04d}" for i in range(14)]


def _cli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _plan(folder: Path) -> Path:
    quoted = ", ".join(f'"{n}"' for n in IMPORTS)
    plan = folder / "p.toml"
    plan.write_text(
        f'name = "audited"\naccount_id = "{ACCOUNT}"\nbatch_size = 5\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\nenable_messaging = true\n'
        f"{IMPORT_DETAILS}numbers = [{quoted}]\n"
    )
    return plan


def _token(sandbox: RunningSandbox) -> str:
    r = httpx.post(
        f"{sandbox.base_url}/api/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(CREDS.client_id, CREDS.client_secret),
        timeout=10,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def test_every_file_the_commands_write_is_free_of_credentials(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    """run (OAuth2), plan --check (a Bearer token), doctor (Basic), report, report --audit and
    rollback write state, audit logs, reports and plans; no credential value is in any of them,
    and the run's audit log has one line per request the sandbox counted."""
    sandbox = sandbox_factory(credentials=CREDS)
    sandbox.state.seed({"failure_rules": [{"numbers": [IMPORTS[3]], "code": 19006}]})
    url = f"{sandbox.base_url}/api/v2"
    plan = _plan(tmp_path)

    oauth_env = OAUTH_ENV | {"BWMIGRATE_TOKEN_URL": f"{sandbox.base_url}/api/v1/oauth2/token"}
    ran = _cli(tmp_path, oauth_env, "run", str(plan), "--target", url, "--yes", "--json")
    assert ran.returncode == 1, ran.stderr
    ledger = sandbox.app.ledger.to_json()["requests"]
    audit = tmp_path / "state" / "audited.db.audit.jsonl"
    lines = [json.loads(x) for x in audit.read_text().splitlines()]
    exchanges = [x for x in lines if x["type"] == "exchange"]
    assert len(exchanges) == ledger["total"]
    assert {str(x["status"]) for x in exchanges} == set(ledger["by_status"])
    assert [x["event"] for x in lines if x["type"] == "session"] == ["start", "end"]
    assert json.loads(ran.stdout)["audit_log"] == "state/audited.db.audit.jsonl"

    token = _token(sandbox)
    check_env = BASE_ENV | {"BWMIGRATE_TOKEN": token}
    check = _cli(tmp_path, check_env, "plan", str(plan), "--check", "--target", url,
                 "--out", "checked.jsonl")  # fmt: skip
    assert check.returncode == 1, check.stderr
    basic_env = BASE_ENV | {"BWMIGRATE_USERNAME": CREDS.username,
                            "BWMIGRATE_PASSWORD": CREDS.password}  # fmt: skip
    doctor = _cli(tmp_path, basic_env, "doctor", "--target", url, "--account", ACCOUNT,
                  "--audit", "doctor.audit.jsonl")  # fmt: skip
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    state = ["--state", "state/audited.db"]
    for args in (
        ["report", *state, "--out", "report.csv"],
        ["report", *state, "--format", "json", "--out", "report.json"],
        ["report", *state, "--audit", "--out", "audit.csv"],
        ["rollback", *state, "--out", "undo/rollback.toml"],
    ):
        out = _cli(tmp_path, BASE_ENV, *args)
        assert out.returncode == 0, (args, out.stderr)

    issued = list(sandbox.app.auth._tokens)  # every token the sandbox handed out
    pairs = [f"{CREDS.username}:{CREDS.password}", f"{CREDS.client_id}:{CREDS.client_secret}"]
    secrets = [CREDS.password, CREDS.client_secret, token, *issued]
    secrets += [base64.b64encode(p.encode()).decode() for p in pairs]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "p.toml"]
    names = {p.name for p in written}
    assert {"audited.db", "audited.db.audit.jsonl", "audited.check.audit.jsonl",
            "doctor.audit.jsonl", "checked.jsonl", "report.csv", "report.json", "audit.csv",
            "rollback.toml"} <= names  # fmt: skip
    for path in written:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:6]}... found in {path}"


def test_report_audit_filters_by_number_and_order(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """`report --audit --number` lists the exchanges that carried a number (in LEGACY form if
    asked); `--order` the ones about one order."""
    env = BASE_ENV | {"BWMIGRATE_USERNAME": "sandbox", "BWMIGRATE_PASSWORD": "sandbox"}
    plan = _plan(tmp_path)
    ran = _cli(tmp_path, env, "run", str(plan), "--target", f"{sandbox.base_url}/api/v2",
               "--state", "s.db", "--yes")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    number = IMPORTS[7]
    out = _cli(tmp_path, env, "report", "--state", "s.db", "--audit", "--number", number[2:],
               "--number-format", "legacy")  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in rows] == [
        ("POST", "messaging"),
        ("POST", "tnoptions"),
    ]
    assert all(number[2:] in r["numbers"].split() and number not in r["numbers"] for r in rows)
    order = rows[0]["customer_order_id"]
    about = _cli(tmp_path, env, "report", "--state", "s.db", "--audit", "--order", order,
                 "--format", "json")  # fmt: skip
    found = json.loads(about.stdout)
    assert found[0]["method"] == "POST" and found[0]["customer_order_id"] == order
    polls = found[1:]
    assert polls and all(x["method"] == "GET" for x in polls)
    # reads by id name the order; a shared read of the order list (batched status reads) names
    # no one order, and is listed because its answer carried this order's CustomerOrderId
    assert {x["order_id"] for x in found} - {None} == {rows[0]["order_id"]}
    assert polls[-1]["path"].endswith("importTnOrders/messaging")  # the list read that saw it end
    bad = _cli(tmp_path, env, "report", "--state", "s.db", "--number", number)
    assert bad.returncode == 2 and "go with --audit" in bad.stderr
