"""v1 artefacts: what `bwmigrate convert` reads and what `bwmigrate scan` looks for.

- `intent`: the v1 intents read from any input (import, remove, SMS on/off), where they came
  from, and what v1 said about them.
- `orders` (a package: one module per document kind): v1 XML documents (request bodies, order
  GETs, listings, SIP-peer TN bodies), whole or embedded in logs and scripts; the only place
  here that touches lxml.
- `tabular`: the Iris phone-number inventory report and plain number lists.
- `conversion`: per number, the last intent wins; group the outcome into plan steps.
- `planfile`: render the plan TOML, its number CSVs and the conversion report.
- `listing_api`: the read-only v1 `externalTns` listing over HTTP (`--from-api`).
- `scan_rules` (a package: the rule table, the rule families, findings and fixes), `scan_report`:
  the migration linter's rules and its output formats.

Everything but `listing_api` is pure: the CLI opens files and passes bytes in.
"""
