"""`--state postgresql://...` at the command line: a password in the URL is refused in one
line that does not repeat it; a plan not in the database is a one-line error naming it."""

from __future__ import annotations

import subprocess

import pytest
from pgstate import PG_URL, unique_location
from support import ENV, cli_args


@pytest.mark.parametrize("command", ["status", "report", "verify", "rollback"])
def test_a_password_in_the_state_url_is_refused_without_repeating_it(command: str) -> None:
    """Exit 2, one line on stderr, and the password nowhere in the output."""
    url = "postgresql://postgres:hunter2secret@127.0.0.1:5432/test#acme"
    done = subprocess.run(
        cli_args(command, "--state", url), env=ENV, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "hunter2secret" not in done.stdout + done.stderr
    assert "password in the PostgreSQL URL is refused" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_status_of_a_plan_not_in_the_database_says_what_to_do() -> None:
    """A plan the database does not hold: exit 2, one line naming the plan; nothing created."""
    loc = unique_location()
    done = subprocess.run(
        cli_args("status", "--state", str(loc)), env=ENV, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"no state for plan {loc.plan!r}" in done.stderr
    assert f"--state {PG_URL}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
