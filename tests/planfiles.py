"""Plan-file text shared by tests: the subscriber and LOA person that the published v2 schema's
`ImportTnOrder` body (bwmigrate's default import body) requires for +1 (NANP) numbers.

Plans in tests that import +1 numbers carry them, as a real plan must (`bwmigrate plan` refuses
such a step without them). Also the small fast plans several e2e tests run (an import with
messaging; a removal plus SMS off). Importable from every test module: pytest puts `tests/`
(the folder of the root conftest) on `sys.path`.
"""

from __future__ import annotations

from pathlib import Path

SUBSCRIBER_TOML = (
    'subscriber = { name = "ABC Inc.", house_number = "11235", street_name = "Back", '
    'city = "Denver", state_code = "CO", zip = "27541" }'
)

IMPORT_DETAILS = f'{SUBSCRIBER_TOML}\nloa_authorizing_person = "The Authguy"\n'
"""Keys for an import step (`[[steps]]` table)."""

IMPORT_DEFAULTS = f"[import_defaults]\n{IMPORT_DETAILS}"
"""The same as a table every import step inherits: place it before the first `[[steps]]`."""

QUICK_RUN = (
    "batch_size = 5\ncanary = 0\n"
    "[rate]\nrequests_per_s = 200\npoll_interval_s = 0.05\nexpected_order_s = 0.1\n"
)
"""Top-level keys of a small fast plan: orders of 5, no canary, a quick pace."""


def _quoted(numbers: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in numbers)


def write_import_plan(path: Path, name: str, account: str, numbers: list[str]) -> Path:
    """A plan importing `numbers` to site 743 / peer 303716 with messaging on, in a step
    named `move` (chained `move:sms-on`)."""
    path.write_text(
        f'name = "{name}"\naccount_id = "{account}"\n{QUICK_RUN}'
        '[[steps]]\nkind = "import"\nname = "move"\nsite_id = "743"\nsip_peer_id = "303716"\n'
        f"{IMPORT_DETAILS}enable_messaging = true\nnumbers = [{_quoted(numbers)}]\n"
    )
    return path


def write_cut_plan(path: Path, account: str, removed: list[str], sms_off: list[str]) -> Path:
    """A plan named `cut`: step `release` removes `removed`, step `quiet` turns SMS off for
    `sms_off`."""
    path.write_text(
        f'name = "cut"\naccount_id = "{account}"\n{QUICK_RUN}'
        f'[[steps]]\nkind = "remove"\nname = "release"\nnumbers = [{_quoted(removed)}]\n'
        '[[steps]]\nkind = "messaging"\nname = "quiet"\nsms = "off"\n'
        f"numbers = [{_quoted(sms_off)}]\n"
    )
    return path
