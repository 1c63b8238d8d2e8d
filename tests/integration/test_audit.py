"""The audit log against the sandbox: one line per exchange the sandbox's ledger counted, the
numbers and codes of each, no secret, size rotation, and reading it back."""

from __future__ import annotations

import base64
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from planfiles import IMPORT_DETAILS

from orchestrator.api.client import ClientCredentials, Exchange
from orchestrator.api.pacing import Backoff
from orchestrator.cutover.cutover import Cutover, LiveTarget, Tuning
from orchestrator.cutover.engine import EngineSettings
from orchestrator.errors import InputError
from orchestrator.plan import FailureThreshold, compile_plan, parse_plan
from orchestrator.sandbox import RunningSandbox
from orchestrator.sandbox.config import Credentials, FaultConfig
from orchestrator.state.audit import REDACTED, AuditLog, audit_segments, read_audit

ACCOUNT = "9900012"
SECRET = "s3cr3t-9f2b71c4e0"
CREDS = Credentials(
    username="audit-user",
    password="pw-5d1e88a0c2",
    client_id="audit-client",
    client_secret=SECRET,
)


def _plan(imports: list[str], removes: list[str]) -> str:
    def quoted(ns: list[str]) -> str:
        return ", ".join(f'"{n}"' for n in ns)

    return (
        f'name = "audit"\naccount_id = "{ACCOUNT}"\nbatch_size = 5\n'
        '[[steps]]\nkind = "import"\nsite_id = "743"\nenable_messaging = true\n'
        f"{IMPORT_DETAILS}numbers = [{quoted(imports)}]\n"
        + (f'[[steps]]\nkind = "remove"\nnumbers = [{quoted(removes)}]\n' if removes else "")
    )


async def _run(sandbox: RunningSandbox, tmp_path: Path, text: str) -> Path:
    """Run a plan as `bwmigrate run` does (`Cutover`): its audit log beside the state file."""
    plan = compile_plan(parse_plan(text, "plan.toml"), lambda name: b"")
    credentials = ClientCredentials(CREDS.client_id, CREDS.client_secret)
    target = LiveTarget(
        f"{sandbox.base_url}/api/v2", token_url=f"{sandbox.base_url}/api/v1/oauth2/token"
    )
    tuning = Tuning(
        settings=EngineSettings(
            max_orders_in_flight=3,
            poll_interval_s=0.01,
            poll_cap_s=0.05,
            failure_threshold=FailureThreshold(100.0, 0),
            seed=3,
        ),
        rate_per_s=500.0,
        backoff=Backoff(base_s=0.01, cap_s=0.05, max_attempts=8, sleeps=False),
    )
    with Cutover.open(plan, tmp_path / "state.db", target, plan_text=text) as cutover:
        result = await cutover.run(credentials, tuning=tuning)
    assert result.outcome == "done", result.message
    assert result.audit.error is None
    assert result.audit.path == tmp_path / "state.db.audit.jsonl"
    return result.audit.path


def _exchanges(path: Path) -> list[dict[str, Any]]:
    return [line for line in read_audit(path) if line["type"] == "exchange"]


async def test_audit_lines_match_the_ledger_one_for_one_even_with_faults(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    """Every request the sandbox counted has one line with its outcome; every order it accepted
    appears in the POST line that carried its numbers, with its CustomerOrderId."""
    faults = FaultConfig(error_rate=0.1, drop_after_commit_rate=0.2)
    sandbox = sandbox_factory(credentials=CREDS, faults=faults, seed=11)
    imports = [f"+1919991{i:04d}" for i in range(23)]
    removes = [f"+1415871{i:04d}" for i in range(6)]
    sandbox.state.seed(
        {"numbers": [{"number": n, "kind": "imported", "account": ACCOUNT} for n in removes]}
    )
    sandbox.state.seed({"failure_rules": [{"numbers": imports[:2], "code": 19006}]})
    lines = _exchanges(await _run(sandbox, tmp_path, _plan(imports, removes)))
    ledger = sandbox.state.ledger_orders()
    counts = sandbox.app.ledger.to_json()["requests"]

    assert len(lines) == counts["total"]
    by_status = Counter(str(x["status"]) for x in lines if x["status"] is not None)
    lost = sum(1 for x in lines if x["status"] is None)
    assert lost > 0, "the faults should have lost some answers; raise the rates"
    answered = {k: v for k, v in counts["by_status"].items() if k not in ("reset", "dropped")}
    assert by_status == answered
    assert lost == counts["by_status"].get("reset", 0) + counts["by_status"].get("dropped", 0)
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))

    posts = [x for x in lines if x["method"] == "POST" and x["customer_order_id"]]
    for order in ledger:
        carried = [x for x in posts if x["customer_order_id"] == order["customer_order_id"]]
        assert carried, f"no audit line for order {order['customer_order_id']}"
        assert all(x["numbers"] == order["numbers"] for x in carried)
        confirmed = {x["order_id"] for x in carried if x["status"] == 201}
        found = {i for x in lines if x["customer_order_id"] == order["customer_order_id"]
                 for i in x.get("found", ())}  # fmt: skip
        assert order["order_id"] in confirmed | found
    failed = [e for x in lines for e in x.get("errors", ()) if e["code"] == "19006"]
    assert sorted(n for e in failed for n in e["numbers"]) == sorted(imports[:2])


async def test_the_audit_log_holds_no_secret(sandbox_factory: Any, tmp_path: Path) -> None:
    """Neither the client secret, its Basic encoding, nor any token the sandbox issued appear."""
    sandbox = sandbox_factory(credentials=CREDS)
    path = await _run(sandbox, tmp_path, _plan([f"+1919991{i:04d}" for i in range(7)], []))
    text = path.read_text()
    tokens = list(sandbox.app.auth._tokens)  # the sandbox's own record of what it issued
    assert tokens, "an OAuth2 run should have fetched a token"
    basic = base64.b64encode(f"{CREDS.client_id}:{SECRET}".encode()).decode()
    for secret in (SECRET, basic, *tokens):
        assert secret not in text
    assert any(x["path"] == "/api/v1/oauth2/token" for x in _exchanges(path))


def _exchange(path: str = "/api/v2/accounts/1/tnoptions", **kw: Any) -> Exchange:
    return Exchange(method="GET", path=path, status=200, error=None, elapsed_s=0.001, **kw)


def test_a_secret_that_reaches_a_line_is_redacted(tmp_path: Path) -> None:
    """Even if a credential value turned up in a field, the written line carries [REDACTED]."""
    log = AuditLog(tmp_path / "a.jsonl", secrets=[SECRET, "abc"])
    log.record(_exchange(f"/api/v2/accounts/{SECRET}/tnoptions", customer_order_id=SECRET))
    log.close()
    text = (tmp_path / "a.jsonl").read_text()
    assert SECRET not in text and REDACTED in text
    assert "/api/v2/accounts/" in text


def test_segments_rotate_by_size_and_read_back_in_order(tmp_path: Path) -> None:
    """A small size limit gives several segments, none deleted; reading returns every line."""
    path = tmp_path / "s.db.audit.jsonl"
    for session in range(2):  # a second session continues after the first one's segments
        log = AuditLog(path, context={"run": session}, max_bytes=2048)
        for _ in range(60):
            log.record(_exchange())
        summary = log.close()
        assert summary.error is None and summary.lines == 62
    segments = audit_segments(path)
    assert len(segments) > 3
    assert segments[-1] == path
    assert [p.name for p in segments[:-1]] == [f"{path.name}.{n}" for n in range(1, len(segments))]
    lines = list(read_audit(path))
    assert len(lines) == 124
    assert [(x["run"], x["seq"]) for x in lines if x["type"] == "exchange"] == [
        (r, s) for r in range(2) for s in range(1, 61)
    ]
    assert all(p.stat().st_size < 2048 + 1024 for p in segments)


def test_a_torn_last_line_is_skipped_and_a_damaged_one_is_an_error(tmp_path: Path) -> None:
    """A run killed mid-write leaves a torn tail (skipped); an edited line is refused."""
    path = tmp_path / "a.jsonl"
    log = AuditLog(path)
    log.record(_exchange())
    log.close()
    with path.open("a") as fh:
        fh.write('{"type": "exchange", "seq"')
    assert [x["type"] for x in read_audit(path)] == ["session", "exchange", "session"]
    path.write_text(path.read_text().replace('"type":"exchange"', "oops", 1) + "\n")
    with pytest.raises(InputError, match=r"a\.jsonl:2: not an audit line"):
        list(read_audit(path))


def test_reading_a_missing_log_says_where_it_comes_from(tmp_path: Path) -> None:
    """No audit log: one clear error naming the path."""
    with pytest.raises(InputError, match="written by `bwmigrate run`"):
        list(read_audit(tmp_path / "none.jsonl"))


def test_lines_are_json_with_the_documented_fields(tmp_path: Path) -> None:
    """An exchange line carries method, path, status, timing, ids, numbers and errors."""
    body = (
        b"<ImportTnCheckerResponse><ImportTnCheckerPayload><TelephoneNumbers>"
        b"<TelephoneNumber>+19195550100</TelephoneNumber></TelephoneNumbers><ImportTnErrors>"
        b"<ImportTnError><Code>19006</Code><Description>Bandwidth numbers.</Description>"
        b"<TelephoneNumbers><TelephoneNumber>+19195550101</TelephoneNumber></TelephoneNumbers>"
        b"</ImportTnError></ImportTnErrors></ImportTnCheckerPayload></ImportTnCheckerResponse>"
    )
    sent = (
        b"<ImportTnCheckerPayload><TelephoneNumbers><TelephoneNumber>+19195550100"
        b"</TelephoneNumber><TelephoneNumber>+19195550101</TelephoneNumber></TelephoneNumbers>"
        b"</ImportTnCheckerPayload>"
    )
    log = AuditLog(tmp_path / "a.jsonl", context={"command": "plan --check"})
    log.record(
        Exchange(
            method="POST",
            path="/api/v2/accounts/1/importTnChecker",
            status=200,
            error=None,
            elapsed_s=0.0123,
            request_body=sent,
            response_body=body,
        )
    )
    log.close()
    line = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[1])
    assert line["command"] == "plan --check"
    assert (line["method"], line["status"], line["elapsed_ms"]) == ("POST", 200, 12.3)
    assert line["at"].endswith("Z")
    assert line["numbers"] == ["+19195550100", "+19195550101"]
    assert line["errors"] == [
        {"code": "19006", "description": "Bandwidth numbers.", "numbers": ["+19195550101"]}
    ]
