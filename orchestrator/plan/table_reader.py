"""Reading typed values out of a TOML document, with the file and key of every problem.

This module owns `TableReader`: the one-line `PlanError` naming file and key, the refusal of
unknown keys (with the closest known one suggested) and of anything that looks like a
credential, and the readers of strings, bounded numbers and tables. What a plan's keys mean is
the business of `orchestrator.plan.step_table` and `orchestrator.plan.planfile`.

Pure: values in, values or `PlanError` out. No I/O, no clock, no environment; imports only the
standard library and `orchestrator.errors`.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.errors import PlanError

__all__ = ["TableReader"]

_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TableReader:
    """Reads the values of one plan file's tables, with precise error locations."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> PlanError:
        """Build the one-line error for key `where` (TOML keys may hold newlines: escaped)."""
        loc = f"{self.path}: {where}" if where else self.path
        return PlanError(_CONTROL.sub(lambda m: repr(m.group())[1:-1], f"{loc}: {message}"))

    def check_keys(self, table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
        """Refuse secrets and unknown keys, suggesting the closest known key."""
        for key in table:
            if _SECRET_KEYS.search(key):
                raise self.fail(
                    f"{where}{key}",
                    "credentials never go in a plan; remove it and set BWMIGRATE_* environment "
                    "variables instead (see README)",
                )
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {near[0]!r}?" if near else f"known keys: {', '.join(allowed)}"
                raise self.fail(f"{where}{key}", f"unknown key; {hint}")

    def text(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        *,
        required: bool = False,
        digits: bool = False,
    ) -> str | None:
        """Read a string (or integer id) value."""
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}{key}", "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(f"{where}{key}", f"must be a string, not {type(value).__name__}")
        out = str(value).strip()
        if not out:
            raise self.fail(f"{where}{key}", "must not be empty")
        if digits and not out.isdigit():
            raise self.fail(f"{where}{key}", f"must be digits, got {out!r}")
        return out

    def number(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        default: float,
        lo: float,
        hi: float,
        *,
        integer: bool = False,
    ) -> float:
        """Read a bounded number."""
        value = table.get(key, default)
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            kind = "an integer" if integer else "a number"
            raise self.fail(f"{where}{key}", f"must be {kind}, not {value!r}")
        if not lo <= value <= hi or math.isnan(value):
            raise self.fail(f"{where}{key}", f"must be between {lo:g} and {hi:g}, got {value!r}")
        return float(value)

    def table(self, value: Any, where: str) -> Mapping[str, Any]:
        """Require a TOML table."""
        if not isinstance(value, dict):
            raise self.fail(where, "must be a table")
        return value
