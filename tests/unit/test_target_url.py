"""Target URLs: refused when they carry a secret (user info, a query string) or do not name the
v2 API, and redacted wherever one is shown (`orchestrator.api.credentials`; nothing is sent)."""

from __future__ import annotations

import pytest

from orchestrator.api.credentials import checked_base_url, checked_v2_url, redact_url
from orchestrator.errors import InputError

SECRET = "s3cret-pw"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"https://user:{SECRET}@host.example/api/v2", "https://host.example/api/v2"),
        (f"https://host.example/api/v2?token={SECRET}", "https://host.example/api/v2"),
        (f"https://u:{SECRET}@h@host.example/x?a=1#{SECRET}", "https://host.example/x"),
        (f"not a url ://u:{SECRET}@?{SECRET}", "not a url ://"),
        ("https://host.example/api/v2", "https://host.example/api/v2"),
        ("https://host.example/a@b/api/v2", "https://host.example/a@b/api/v2"),
    ],
)
def test_redact_url_drops_user_info_and_query(raw: str, shown: str) -> None:
    """Whatever the URL looks like, what may be shown holds neither user info nor a query."""
    assert redact_url(raw) == shown


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (f"https://user:{SECRET}@host.example/api/v2", "user info"),
        (f"https://{SECRET}@host.example/api/v2", "user info"),
        (f"https://host.example/api/v2?token={SECRET}", "query string"),
        (f"https://host.example/api/v2#{SECRET}", "query string"),
        (f"http://user:{SECRET}@example.com/api/v2", "user info"),
        (f"ht!tp://user:{SECRET}@/api/v2", "user info"),
    ],
)
def test_secret_bearing_urls_are_refused_without_echoing_the_secret(raw: str, says: str) -> None:
    """A URL carrying a password or a token is an InputError that never repeats it."""
    with pytest.raises(InputError) as caught:
        checked_base_url(raw)
    assert says in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "raw",
    ["https://host.example/", "https://host.example/api/v1", "http://127.0.0.1:8/api"],
)
def test_a_run_target_must_name_the_v2_api(raw: str) -> None:
    """`run` and `plan --check` take only a base URL ending in /api/v2."""
    with pytest.raises(InputError, match="/api/v2"):
        checked_v2_url(raw)


def test_a_v2_url_keeps_its_spelling_without_a_trailing_slash() -> None:
    """The target id a state file records is the URL as given, minus a trailing slash."""
    assert checked_v2_url("https://Host.example/API/v2/") == "https://Host.example/API/v2"
    assert checked_v2_url("http://127.0.0.1:8080/api/v2") == "http://127.0.0.1:8080/api/v2"
