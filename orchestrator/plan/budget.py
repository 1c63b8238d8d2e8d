"""A run's request budget: the account's limit, and the share of it the run may use.

The plan's `[rate]` may state the account's limit (`account_limit_per_s`) and what the run may
take of it: a `share` (a fraction, 0.8 by default) or a `reserve_per_s` left for the customer's
live traffic. The run's rate (`RateSpec.requests_per_s`) is then that share; 429s still pause
the run and cut its rate, and it recovers only up to its share (`orchestrator.api.pacing.Aimd`
never goes above the configured rate). Without `account_limit_per_s`, `requests_per_s` is the
run's rate as before (and the whole budget as far as bwmigrate knows).

Pure: imports only `orchestrator.errors` (through the table reader) and the plan model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.plan.model import Budget
from orchestrator.plan.table_reader import TableReader

__all__ = ["BUDGET_KEYS", "DEFAULT_SHARE", "read_budget"]

BUDGET_KEYS = ("account_limit_per_s", "share", "reserve_per_s")
DEFAULT_SHARE = 0.8  # of the account's limit, when the plan names the limit but no share


def read_budget(reader: TableReader, t: Mapping[str, Any]) -> Budget | None:
    """The budget `[rate]` states, or None when it names no account limit (one-line errors
    naming the key for a contradiction or a share outside (0, 1])."""
    if "account_limit_per_s" not in t:
        for key in ("share", "reserve_per_s"):
            if key in t:
                raise reader.fail(
                    f"rate.{key}", "needs rate.account_limit_per_s (the account's request limit)"
                )
        return None
    if "requests_per_s" in t:
        raise reader.fail(
            "rate.requests_per_s",
            "give either requests_per_s or account_limit_per_s with share/reserve_per_s "
            "(the run's rate is then the share)",
        )
    if "share" in t and "reserve_per_s" in t:
        raise reader.fail("rate.reserve_per_s", "give either share or reserve_per_s, not both")
    limit = reader.number(t, "account_limit_per_s", "rate.", 0, 0.01, 1000)
    if "reserve_per_s" in t:
        reserve = reader.number(t, "reserve_per_s", "rate.", 0, 0, limit)
        if reserve >= limit:
            raise reader.fail(
                "rate.reserve_per_s", f"must be less than account_limit_per_s ({limit:g})"
            )
        return Budget(account_limit_per_s=limit, share_per_s=limit - reserve)
    share = reader.number(t, "share", "rate.", DEFAULT_SHARE, 0, 1)
    if share <= 0:
        raise reader.fail("rate.share", "must be more than 0 (a fraction of the limit, e.g. 0.8)")
    return Budget(account_limit_per_s=limit, share_per_s=limit * share)
