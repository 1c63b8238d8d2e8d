"""`report --audit` as CSV: an API's words never become a spreadsheet formula or an escape code
(issue 12 item 6)."""

from __future__ import annotations

import csv
import io

from orchestrator.state.audit import write_audit_csv


def test_an_api_description_is_written_inert() -> None:
    """Error descriptions and order statuses from the API starting with = or carrying ANSI
    escapes are neutralised; the numbers stay E.164 exactly."""
    line = {
        "type": "exchange",
        "method": "POST",
        "path": "/api/v2/accounts/1/importTnOrders/messaging",
        "status": 400,
        "order_status": "@SUM(1+1)",
        "numbers": ["+19195550100"],
        "errors": [{"code": "=1+2", "description": "\x1b[31mbad\x1b[0m", "numbers": []}],
    }
    out = io.StringIO()
    assert write_audit_csv([line], out) == 1
    assert "\x1b" not in out.getvalue()
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["order_status"] == "'@SUM(1+1)"
    assert row["errors"] == "'=1+2 \\x1b[31mbad\\x1b[0m"
    assert row["numbers"] == "+19195550100"
