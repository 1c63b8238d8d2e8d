"""The rule table of the migration linter: one rule per breaking change of the v2 guide.

This module owns `Rule` (id, name, severity, the guide's change, the v2 replacement, whether the
fix is mechanical and safe), `Severity` (SARIF's levels), `RULES` in id order, `RULES_BY_ID`,
`FIXABLE`, and the two URLs findings cite. How a rule finds its hits is its family's module
(`endpoint`, `number_format`, `callback`).

Pure data. Imports only the standard library; never another module of this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["FIXABLE", "GUIDE_URL", "RULES", "RULES_BY_ID", "V2_BASE", "Rule", "Severity"]

V2_BASE = "https://api.bandwidth.com/api/v2"
GUIDE_URL = "https://dev.bandwidth.com/docs/universal-platform/breaking-changes"


class Severity(StrEnum):
    """How bad a finding is (SARIF `level`)."""

    ERROR = "error"  # breaks on v2
    WARNING = "warning"  # behaves differently on v2
    NOTE = "note"  # recommended change


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the table."""

    id: str
    name: str
    severity: Severity
    change: str  # the guide's breaking change, in a sentence
    replacement: str  # the v2 replacement, in general
    fixable: bool = False


RULES: tuple[Rule, ...] = (
    Rule("BW001", "v1-base-url", Severity.ERROR,
         "New base URL: the v1 bases (dashboard.bandwidth.com /api/v1/, /api/, /v1.0/) are "
         "replaced", f"{V2_BASE}/", fixable=True),
    Rule("BW002", "e911-addresses", Severity.ERROR,
         "GET /accounts/{accountId}/addresses is now /e911Addresses (the old path is a new "
         "resource)", "/accounts/{accountId}/e911Addresses (no type=e911)", fixable=True),
    Rule("BW003", "import-tn-orders", Severity.ERROR,
         "/accounts/{accountId}/importTnOrders moved to /importTnOrders/messaging",
         "/importTnOrders/messaging", fixable=True),
    Rule("BW004", "remove-imported-tn-orders", Severity.ERROR,
         "removeImportedTnOrders moved to /removeImportedTnOrders/messaging",
         "/removeImportedTnOrders/messaging", fixable=True),
    Rule("BW005", "external-tns", Severity.ERROR,
         "/externalTns is deprecated (all deprecated v1 endpoints are gone on v2)",
         "IMPORT: POST /importTnOrders/messaging (ExternalTnsOrder without Action); REMOVE: "
         "POST /removeImportedTnOrders/messaging (RemoveImportedTnOrder)"),
    Rule("BW006", "area-code-without-country", Severity.ERROR,
         "?areaCode= now requires countryCodeA3= (area codes are not unique across countries)",
         "add countryCodeA3=USA (or the number's ISO alpha-3 country)"),
    Rule("BW007", "sippeer-messaging", Severity.ERROR,
         "Messaging can no longer be turned on/off through /sippeers/{id}/tns (v2 answers 400)",
         "POST /accounts/{accountId}/tnoptions with a TnOptionGroup <Sms>on|off</Sms>"),
    Rule("BW008", "ten-digit-number", Severity.ERROR,
         "All phone numbers in requests are E.164 (+1 for North American numbers)",
         "the E.164 form, e.g. +19195551234"),
    Rule("BW009", "ten-digit-parsing", Severity.WARNING,
         "Responses carry E.164 numbers (+1...): code expecting 10 digits breaks",
         "accept E.164 (^\\+[1-9]\\d{1,14}$) or convert explicitly"),
    Rule("BW010", "subscription-number-format", Severity.WARNING,
         "Subscriptions made on v2 send callbacks with E.164 numbers unless NumberFormat is "
         "LEGACY", "expect E.164 in callbacks, or add <NumberFormat>LEGACY</NumberFormat>"),
    Rule("BW011", "report-number-format", Severity.WARNING,
         "Report instances list numbers in E.164 unless NumberFormat is LEGACY",
         "expect E.164 in reports, or add <NumberFormat>LEGACY</NumberFormat> to the Instance"),
    Rule("BW012", "basic-auth", Severity.NOTE,
         "Bearer authentication (OAuth2 client credentials) is recommended over Basic API users",
         "Authorization: Bearer <token> from POST https://api.bandwidth.com/api/v1/oauth2/token"),
    Rule("BW013", "area-code-integer", Severity.WARNING,
         "Area codes are strings including the country (+27098 keeps its leading zero)",
         "keep area codes as strings, e.g. \"+1919\", \"+27098\""),
    Rule("BW014", "callback-numbers", Severity.WARNING,
         "Callbacks (CompletedTelephoneNumbers, ImpactedTelephoneNumbers) carry E.164 numbers",
         "parse E.164 in the callback handler, or subscribe with NumberFormat LEGACY"),
    Rule("BW015", "report-numbers", Severity.WARNING,
         "The Iris phone number inventory report lists +1 numbers in E.164",
         "parse E.164 report rows, or request the report with NumberFormat LEGACY"),
    Rule("BW016", "area-code-from-number", Severity.WARNING,
         "Numbers are E.164 and area codes strings: cutting a number by position (tn[0:3], "
         "substring(0, 3)) and parsing the cut as an integer gives the wrong digits (+19...)",
         "take the area code from the parsed E.164 number as a string, e.g. \"+1919\" "
         "(libphonenumber), never as an integer cut by position"),
)  # fmt: skip
RULES_BY_ID = {rule.id: rule for rule in RULES}
FIXABLE = frozenset(rule.id for rule in RULES if rule.fixable)
