"""Plan-file text shared by tests: the subscriber and LOA person that the published v2 schema's
`ImportTnOrder` body (bwmigrate's default import body) requires for +1 (NANP) numbers.

Plans in tests that import +1 numbers carry them, as a real plan must (`bwmigrate plan` refuses
such a step without them). Importable from every test module: pytest puts `tests/` (the folder
of the root conftest) on `sys.path`.
"""

from __future__ import annotations

SUBSCRIBER_TOML = (
    'subscriber = { name = "ABC Inc.", house_number = "11235", street_name = "Back", '
    'city = "Denver", state_code = "CO", zip = "27541" }'
)

IMPORT_DETAILS = f'{SUBSCRIBER_TOML}\nloa_authorizing_person = "The Authguy"\n'
"""Keys for an import step (`[[steps]]` table)."""

IMPORT_DEFAULTS = f"[import_defaults]\n{IMPORT_DETAILS}"
"""The same as a table every import step inherits: place it before the first `[[steps]]`."""
