"""The migration linter's rules: one per breaking change of the v2 guide, and the safe fixes.

`RULES` is the table (id, name, severity, the guide's change, the v2 replacement, fixable);
`scan_text(path, text)` returns the findings in one file's text; `apply_fixes(text, findings)`
rewrites only what is mechanical and safe (base URLs and paths: BW001-BW004). Everything else is
reported with its replacement, never guessed.

Rules work on any language (curl, Python, JS/TS, Java, C#, Ruby, PHP, Go, XML/JSON/YAML), on
text. Rules about ordinary identifiers (area codes, Basic auth, 10-digit checks) fire only in
files that talk to Bandwidth (they mention bandwidth, TelephoneNumber, sippeers, ...). No rule
fires on v2 usage: v2 paths, E.164 numbers, `countryCodeA3`, `NumberFormat`, Bearer tokens.

Cheap substring checks on the lower-cased text gate every regex, so files without v1 usage cost
one `lower()` and a few `in` tests.

Modules: `table` (the rule table), `scanned_file` (one file's text and the facts rules share),
the rule families `endpoint` (BW001-BW005, BW007, BW012), `number_format` (BW006, BW008,
BW009, BW013, BW016) and `callback` (BW010, BW011, BW014, BW015), and `finding` (`scan_text`,
`apply_fixes`). A new rule is a row of `table` and a search in its family's `MATCHERS`.

Pure: text in, findings out; imports only the standard library. Its modules import each other
by module path, never this package. This file re-exports what `scan` and `scan_report` use.
"""

from orchestrator.v1.scan_rules.finding import Edit, Finding, apply_fixes, scan_text
from orchestrator.v1.scan_rules.table import (
    FIXABLE,
    GUIDE_URL,
    RULES,
    RULES_BY_ID,
    V2_BASE,
    Rule,
    Severity,
)

__all__ = [
    "FIXABLE",
    "GUIDE_URL",
    "RULES",
    "RULES_BY_ID",
    "V2_BASE",
    "Edit",
    "Finding",
    "Rule",
    "Severity",
    "apply_fixes",
    "scan_text",
]
