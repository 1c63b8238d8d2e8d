"""OAuth2 client credentials through the command line: every command that talks to a live target
refuses a non-Bandwidth host without BWMIGRATE_TOKEN_URL (exit 2, one line, nothing sent or
written), and with it the token request goes there and nowhere else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from planfiles import IMPORT_DETAILS

from orchestrator.sandbox import RunningSandbox, SandboxConfig, run_sandbox

ACCOUNT = "9900012"
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")}
OAUTH_ENV = BASE_ENV | {
    "BWMIGRATE_CLIENT_ID": "sandbox-client",
    "BWMIGRATE_CLIENT_SECRET": "sandbox-secret",
}
TOKEN_PATH = "/api/v1/oauth2/token"


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
    plan = folder / "p.toml"
    plan.write_text(
        f'name = "pinned"\naccount_id = "{ACCOUNT}"\nbatch_size = 5\n'
        "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\n"
        '[[steps]]\nkind = "import"\nsite_id = "743"\n'
        + IMPORT_DETAILS
        + 'numbers = ["+19199920001", "+19199920002", "+19199920003"]\n'
    )
    return plan


def _commands(plan: Path, url: str) -> dict[str, list[str]]:
    """Every command that sends BWMIGRATE_* credentials to a target."""
    return {
        "run": ["run", str(plan), "--target", f"{url}/api/v2", "--state", "s.db", "--yes"],
        "plan --check": ["plan", str(plan), "--check", "--target", f"{url}/api/v2"],
        "doctor": ["doctor", "--target", f"{url}/api/v2", "--account", ACCOUNT],
        "convert --from-api": ["convert", "--from-api", f"{url}/api/v1", "--account", ACCOUNT,
                               "--out", "c.toml"],
    }  # fmt: skip


@pytest.mark.parametrize("command", ["run", "plan --check", "doctor", "convert --from-api"])
def test_client_credentials_for_a_non_bandwidth_target_exit_2_in_one_line(
    sandbox: RunningSandbox, tmp_path: Path, command: str
) -> None:
    """No BWMIGRATE_TOKEN_URL and a loopback target: one line saying where client credentials
    go and how to name a token endpoint; no request reaches the target, no file is written."""
    plan = _plan(tmp_path)
    out = _cli(tmp_path, OAUTH_ENV, *_commands(plan, sandbox.base_url)[command])
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "sent only to Bandwidth's token endpoint" in lines[0]
    assert "BWMIGRATE_TOKEN_URL" in lines[0] and "sandbox-secret" not in out.stderr + out.stdout
    assert sandbox.app.ledger.to_json()["requests"]["total"] == 0
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["p.toml"]


@pytest.fixture
def token_issuer(sandbox: RunningSandbox) -> Iterator[RunningSandbox]:
    """A second sandbox on another port that issues tokens the first one accepts."""
    with run_sandbox(SandboxConfig(order_delay_s=0.0)) as issuer:
        issuer.app.auth = sandbox.app.auth
        yield issuer


def test_with_bwmigrate_token_url_tokens_come_only_from_there(
    sandbox: RunningSandbox, token_issuer: RunningSandbox, tmp_path: Path
) -> None:
    """A live run with the override: the token host sees exactly the token requests the audit
    log records, the target every other request and no token request."""
    plan = _plan(tmp_path)
    env = OAUTH_ENV | {"BWMIGRATE_TOKEN_URL": f"{token_issuer.base_url}{TOKEN_PATH}"}
    args = _commands(plan, sandbox.base_url)["run"]
    ran = _cli(tmp_path, env, *args, "--json")
    assert ran.returncode == 0, ran.stderr
    lines = (tmp_path / "s.db.audit.jsonl").read_text().splitlines()
    exchanges = [json.loads(x) for x in lines if json.loads(x)["type"] == "exchange"]
    tokens = [x for x in exchanges if x["path"] == TOKEN_PATH]
    assert [x["status"] for x in tokens] == [200]
    assert token_issuer.app.ledger.to_json()["requests"]["total"] == len(tokens)
    assert sandbox.app.ledger.to_json()["requests"]["total"] == len(exchanges) - len(tokens) > 0
    assert "sandbox-secret" not in ran.stdout + ran.stderr + "".join(lines)


def test_an_unsafe_bwmigrate_token_url_is_refused(sandbox: RunningSandbox, tmp_path: Path) -> None:
    """Plain HTTP to a non-loopback token host is a one-line usage error; nothing is sent."""
    plan = _plan(tmp_path)
    env = OAUTH_ENV | {"BWMIGRATE_TOKEN_URL": "http://idp.corp.example/oauth2/token"}
    out = _cli(tmp_path, env, *_commands(plan, sandbox.base_url)["run"])
    assert out.returncode == 2
    assert len(out.stderr.splitlines()) == 1 and "plain HTTP" in out.stderr
    assert sandbox.app.ledger.to_json()["requests"]["total"] == 0
