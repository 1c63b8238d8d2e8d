"""The migration linter's rules: one per breaking change of the v2 guide, and the safe fixes.

`RULES` is the table (id, name, severity, the guide's change, the v2 replacement, fixable);
`scan_text(path, text)` returns the findings in one file's text; `apply_fixes(text, findings)`
rewrites only what is mechanical and safe (base URLs and paths: BW001-BW004). Everything else is
reported with its replacement, never guessed.

Rules work on any language (curl, Python, JS/TS, Java, C#, Ruby, PHP, Go, XML/JSON/YAML), on
text. Rules about ordinary identifiers (area codes, Basic auth, 10-digit checks) fire only in
files that talk to Bandwidth (they mention bandwidth, TelephoneNumber, sippeers, ...). No rule
fires on v2 usage: v2 paths, E.164 numbers, `countryCodeA3`, `NumberFormat`, Bearer tokens.

Pure: text in, findings out. Cheap substring checks on the lower-cased text gate every regex,
so files without v1 usage cost one `lower()` and a few `in` tests.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

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
)  # fmt: skip
RULES_BY_ID = {rule.id: rule for rule in RULES}
FIXABLE = frozenset(rule.id for rule in RULES if rule.fixable)


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace text[start:end] with `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: where, which rule, what it says, and (for safe rules) its fix."""

    path: str
    line: int
    column: int  # 1-based, in code points
    end_line: int
    end_column: int  # exclusive
    rule: Rule
    message: str
    replacement: str
    snippet: str
    fix: Edit | None = None


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    message: str
    replacement: str
    fix: str | None = None  # the text replacing [start:end]


class _Doc:
    """One file's text with the lazily computed facts rules share."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.lower = text.lower()
        low = self.lower
        self.bw = any(m in low for m in _BANDWIDTH_MARKERS)
        self.v1 = "bandwidth.com" in low and _V1_BASE.search(text) is not None
        self.v2_only = "api/v2" in low and not self.v1
        self._starts: list[int] | None = None
        self._e164: bool | None = None

    @property
    def e164_aware(self) -> bool:
        """The file already handles E.164 (or asks for LEGACY numbers)."""
        if self._e164 is None:
            low = self.lower
            self._e164 = any(m in low for m in _E164_MARKERS) or bool(_PLUS_ONE.search(self.text))
        return self._e164

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 1-based column) of a character offset."""
        if self._starts is None:
            self._starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def line_text(self, line: int) -> str:
        assert self._starts is not None
        start = self._starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)]

    def window(self, offset: int, lines: int) -> str:
        """The lower-cased text `lines` lines around `offset`."""
        start = offset
        for _ in range(lines + 1):
            start = self.lower.rfind("\n", 0, start)
            if start < 0:
                start = 0
                break
        end = offset
        for _ in range(lines + 1):
            end = self.lower.find("\n", end + 1)
            if end < 0:
                end = len(self.lower)
                break
        return self.lower[start:end]

    def token(self, start: int, end: int) -> str:
        """The lower-cased URL-ish token holding [start, end) (up to a quote or whitespace)."""
        left = start
        while left > 0 and self.lower[left - 1] not in _TOKEN_STOPS:
            left -= 1
        right = end
        while right < len(self.lower) and self.lower[right] not in _TOKEN_STOPS:
            right += 1
        return self.lower[left:right]


_TOKEN_STOPS = frozenset(" \t\r\n'\"`<>()")
_BANDWIDTH_MARKERS = (
    "bandwidth", "telephonenumber", "sippeer", "sip_peer", "inservicenumber", "importtnorder",
    "externaltns", "tnoption",
)  # fmt: skip
_E164_MARKERS = (
    "e164", "e.164", "libphonenumber", "import phonenumbers", "phonenumbers.", "phonelib",
    "numberformat>legacy",
)  # fmt: skip
_PLUS_ONE = re.compile(r"[\"'`]\\?\+1|\\\+1")

# --- BW001-BW004: base URLs and paths (fixable) --------------------------------------------------

_V1_BASE = re.compile(
    r"(?P<scheme>https?://)?(?P<test>test\.)?(?:dashboard|api)\.bandwidth\.com"
    r"(?P<path>/api/v1(?![\w.])(?!/(?:oauth2|credentials)\b)|/v1\.0(?![\w.])|/api(?![\w.])(?!/v\d))",
    re.IGNORECASE,
)


def _bw001(doc: _Doc) -> Iterator[_Hit]:
    if "bandwidth.com" not in doc.lower:
        return
    for m in _V1_BASE.finditer(doc.text):
        scheme = "https://" if m.group("scheme") else ""
        new = f"{scheme}{'test.' if m.group('test') else ''}api.bandwidth.com/api/v2"
        yield _Hit(m.start(), m.end(), f"v1 base URL {m.group(0)}", new, new)


_ADDRESSES = re.compile(
    r"(?:(?<![\w.-])accounts/[^/\s'\"`?#]+|/api/v1|/v1\.0|bandwidth\.com/api)/(?P<seg>addresses)"
    r"(?![\w-])",
    re.IGNORECASE,
)


_QUERY_CHAR = re.compile(r"[\w&=%]")


def _bw002(doc: _Doc) -> Iterator[_Hit]:
    if "addresses" not in doc.lower:
        return
    for m in _ADDRESSES.finditer(doc.text):
        token = doc.token(m.start(), m.end())
        if ("api/v2" in token or doc.v2_only) and "type=e911" not in token:
            continue  # v2's /addresses is a new (reusable addresses) resource
        end, query = m.end("seg"), ""
        rest = doc.text[end : end + 11]
        if rest.lower().startswith("?type=e911&"):
            end, query = end + 11, "?"  # v2's e911Addresses takes no type
        elif rest.lower().startswith("?type=e911") and not _QUERY_CHAR.match(rest[10:]):
            end += 10
        yield _Hit(m.start("seg"), end, "v1 E911 path /addresses",
                   "/e911Addresses (without type=e911)", "e911Addresses" + query)  # fmt: skip


def _path_rule(segment: str, keyword: str) -> Callable[[_Doc], Iterator[_Hit]]:
    pattern = re.compile(
        rf"(?:(?<=/)(?i:{segment})|(?<=['\"`]){segment})(?!\w)(?!/(?i:messaging|voice)\b)"
    )

    def rule(doc: _Doc) -> Iterator[_Hit]:
        if keyword not in doc.lower:
            return
        for m in pattern.finditer(doc.text):
            before = doc.lower[max(0, m.start() - 40) : m.start()]
            if "ordertype" in before or "order_type" in before:
                continue  # a subscription's OrderType value, not a path
            yield _Hit(m.start(), m.end(), f"v1 path /{m.group(0)}",
                       f"/{m.group(0)}/messaging", f"{m.group(0)}/messaging")  # fmt: skip

    return rule


_bw003 = _path_rule("importTnOrders", "importtnorders")
_bw004 = _path_rule("removeImportedTnOrders", "removeimportedtnorders")

# --- BW005: externalTns ----------------------------------------------------------------------

_EXTERNAL_PATH = re.compile(r"(?<=[/'\"`>])(?i:externalTns)(?!\w)")
_EXTERNAL_BODY = re.compile(r"<ExternalTnsOrder(?=[\s>])")
_ACTION = re.compile(r"<Action>\s*(\w+)\s*</Action>")


def _bw005(doc: _Doc) -> Iterator[_Hit]:
    if "externaltns" not in doc.lower:
        return
    rule = RULES_BY_ID["BW005"]
    for m in _EXTERNAL_PATH.finditer(doc.text):
        if doc.text[m.start() - 1] == ">":
            yield _Hit(m.start(), m.end(), "subscription OrderType externalTns does not exist "
                       "on v2", "OrderType importtnorders / removeImportedTnOrders")  # fmt: skip
        else:
            yield _Hit(m.start(), m.end(), "deprecated v1 endpoint /externalTns", rule.replacement)
    for m in _EXTERNAL_BODY.finditer(doc.text):
        close = doc.text.find("</ExternalTnsOrder>", m.end())
        body = doc.text[m.end() : close if close >= 0 else m.end() + 5000]
        action = _ACTION.search(body)
        if action is None:
            continue  # the guide's v2 import body: ExternalTnsOrder without Action
        if action.group(1).upper() == "REMOVE":
            new = "<RemoveImportedTnOrder> to POST /removeImportedTnOrders/messaging"
        else:
            new = "<ExternalTnsOrder> without <Action> to POST /importTnOrders/messaging"
        yield _Hit(m.start(), m.end(), f"v1 externalTns {action.group(1)} body", new)


# --- BW006, BW013: area codes ----------------------------------------------------------------

_AREA_CODE = re.compile(
    r"[?&](?i:area_?code)="
    r"|[\"'](?i:area_?code)[\"']\s*(?:=>|[:,=])"
    r"|:(?i:area_?code)\s*=>"
    r"|\b(?i:area_?code)\s*:\s*[\"'\d]"
)


def _bw006(doc: _Doc) -> Iterator[_Hit]:
    if not doc.bw or ("areacode" not in doc.lower and "area_code" not in doc.lower):
        return
    for m in _AREA_CODE.finditer(doc.text):
        if "countrycodea3" in doc.window(m.start(), 5):
            continue
        yield _Hit(m.start(), m.end(), "areaCode filter without countryCodeA3",
                   RULES_BY_ID["BW006"].replacement)  # fmt: skip


_AREA_INT = re.compile(
    r"\b(?:int|parseInt|Number|intval|Atoi|ToInt32|ToInt64)\s*\(\s*[^()\n]{0,40}?area_?code"
    r"|\bInteger\.(?:parseInt|valueOf)\(\s*[^()\n]{0,40}?area_?code"
    r"|\bint\.(?:Parse|TryParse)\(\s*[^()\n]{0,40}?area_?code"
    r"|\barea_?code[\w.\[\]'\":]{0,30}\.to_i\b"
    r"|\(int\)\s*\$\w*area_?code"
    r"|\b(?:int|long|Integer|Long|short)\s+area_?code\b"
    r"|\barea_?code\s*:\s*(?:int|number|Int|Integer|i32|i64)\b"
    r"|\barea_?code\s+(?:int|int32|int64)\b"
    r"|[\"']area_?code[\"']\s*:\s*\d",
    re.IGNORECASE,
)


def _bw013(doc: _Doc) -> Iterator[_Hit]:
    if not doc.bw or ("areacode" not in doc.lower and "area_code" not in doc.lower):
        return
    for m in _AREA_INT.finditer(doc.text):
        yield _Hit(m.start(), m.end(), "area code handled as an integer",
                   RULES_BY_ID["BW013"].replacement)  # fmt: skip


# --- BW007: messaging through sippeers/tns ---------------------------------------------------

_MESSAGING_XML = re.compile(r"<MessagingSettings(?=[\s>])")
_MESSAGING_CODE = re.compile(
    r"(?<![<\w/])(?:messaging_settings|messagingSettings|MessagingSettings|sms_enabled|smsEnabled)\b"
)
_SIPPEER_CODE = re.compile(r"sippeers?/|sip_?peer|sippeer", re.IGNORECASE)


def _bw007(doc: _Doc) -> Iterator[_Hit]:
    low = doc.lower
    if (
        "messagingsettings" not in low
        and "messaging_settings" not in low
        and "sms_enabled" not in low
    ):
        return
    lines: set[int] = set()
    for m in _MESSAGING_XML.finditer(doc.text):
        before = doc.text[max(0, m.start() - 3000) : m.start()]
        opened = before.rfind("<SipPeerTelephoneNumber")
        if opened < 0 or "</SipPeerTelephoneNumber>" in before[opened:]:
            continue  # e.g. a tndetails answer: reading messaging state is fine
        lines.add(doc.position(m.start())[0])
        yield _Hit(m.start(), m.end(), "messaging turned on/off through sippeers/{id}/tns",
                   RULES_BY_ID["BW007"].replacement)  # fmt: skip
    for m in _MESSAGING_CODE.finditer(doc.text):
        line = doc.position(m.start())[0]
        if line in lines or not _SIPPEER_CODE.search(doc.window(m.start(), 4)):
            continue
        lines.add(line)
        yield _Hit(m.start(), m.end(), "messaging settings sent to a SIP peer's TN",
                   RULES_BY_ID["BW007"].replacement)  # fmt: skip


# --- BW008, BW009: 10-digit numbers ------------------------------------------------------------

_NANP = r"1?[2-9]\d{2}[2-9]\d{6}"
_TN_ELEMENT = re.compile(rf"<(?P<tag>TelephoneNumber|FullNumber)>\s*(?P<num>{_NANP})\s*</(?P=tag)>")
_TN_LITERAL = re.compile(
    r"[\"']?\b(?:telephone_?numbers?|phone_?numbers?|full_?number|tns?)\b[\"']?\s*(?:=>|[:=])"
    rf"\s*\[?\s*[\"']?(?P<num>{_NANP})(?!\d)",
    re.IGNORECASE,
)
_TN_PATH = re.compile(rf"/tns/(?P<num>{_NANP})(?!\d)|[?&]tn=(?P<num2>{_NANP})(?!\d)")


def _e164(number: str) -> str:
    return "+1" + number[-10:]


def _bw008(doc: _Doc) -> Iterator[_Hit]:
    low = doc.lower
    if "telephonenumber" in low or "fullnumber" in low:
        for m in _TN_ELEMENT.finditer(doc.text):
            n = m.group("num")
            yield _Hit(m.start("num"), m.end("num"), f"10-digit number {n} in <{m.group('tag')}>",
                       _e164(n))  # fmt: skip
    if not doc.bw:
        return
    for m in _TN_LITERAL.finditer(doc.text):
        n = m.group("num")
        yield _Hit(m.start("num"), m.end("num"), f"10-digit number {n} in a payload", _e164(n))
    if "/tns/" in low or "tn=" in low:
        for m in _TN_PATH.finditer(doc.text):
            group = "num" if m.group("num") else "num2"
            n = m.group(group)
            yield _Hit(m.start(group), m.end(group), f"10-digit number {n} in a request path",
                       _e164(n).replace("+", "%2B"))  # fmt: skip


_TEN_DIGITS = re.compile(
    r"\\d\{10\}|\[0-9\]\{10\}"
    r"|\blen\([^()\n]{1,60}\)\s*[!=]=\s*10\b"
    r"|\.length(?:\(\))?\s*[!=]==?\s*10\b"
    r"|\bstrlen\([^()\n]{1,60}\)\s*[!=]==?\s*10\b"
    r"|\.(?:Length|size\(\)|count\(\)|Count)\s*[!=]=\s*10\b"
    r"|\[\s*-10\s*:\s*\]|\.slice\(\s*-10\s*\)|\.substr(?:ing)?\(\s*-10\s*\)"
)


def _bw009(doc: _Doc) -> Iterator[_Hit]:
    if not doc.bw or "10" not in doc.text:
        return
    for m in _TEN_DIGITS.finditer(doc.text):
        if "+" in doc.text[max(0, m.start() - 5) : m.start()]:
            continue  # an E.164 pattern such as ^\+1\d{10}$
        near = doc.window(m.start(), 2)
        if "e164" in near or "e.164" in near or _PLUS_ONE.search(near):
            continue  # code turning 10 digits into E.164 is v2-ready
        yield _Hit(m.start(), m.end(), "code expects 10-digit numbers",
                   RULES_BY_ID["BW009"].replacement)  # fmt: skip


# --- BW010, BW011: NumberFormat ----------------------------------------------------------------


def _block_rule(
    rule_id: str, tag: str, needs: tuple[str, ...], message: str
) -> Callable[[_Doc], Iterator[_Hit]]:
    start_re = re.compile(rf"<{tag}(?=[\s>])")

    def rule(doc: _Doc) -> Iterator[_Hit]:
        if f"<{tag.lower()}" not in doc.lower or doc.v2_only:
            return
        for m in start_re.finditer(doc.text):
            close = doc.text.find(f"</{tag}>", m.end())
            block = doc.text[m.end() : close if close >= 0 else m.end() + 20000]
            if any(n in block for n in needs) and "<NumberFormat" not in block:
                yield _Hit(m.start(), m.end(), message, RULES_BY_ID[rule_id].replacement)

    return rule


_bw010 = _block_rule(
    "BW010", "Subscription", ("<CallbackSubscription", "<EmailSubscription"),
    "subscription without NumberFormat: v2 callbacks carry E.164 numbers",
)  # fmt: skip
_bw011 = _block_rule(
    "BW011", "Instance", ("<OutputFormat",),
    "report instance without NumberFormat: v2 reports list E.164 numbers",
)  # fmt: skip

# --- BW012: Basic auth -------------------------------------------------------------------------

_BASIC = re.compile(
    r"(?:^|\s)(?:-u|--user)\s+[\"']?[^\s\"']*:"
    r"|Authorization[\"']?\s*[:=,]\s*[\"']?Basic\b"
    r"|[\"']Basic [\"']?\s*\+"
    r"|\bHTTPBasicAuth\(|\bBasicAuth\(|\bauth\s*=\s*\(\s*[\w\"']"
    r"|\.setBasicAuth\(|\bSetBasicAuth\(|\bbasic_auth\b|\bbasicAuth\b"
    r"|CURLOPT_USERPWD|CURLAUTH_BASIC"
    r"|AuthenticationHeaderValue\(\s*\"Basic\"|\bnew\s+NetworkCredential\("
    r"|\bauth:\s*\{\s*username",
    re.MULTILINE,
)
_TOKEN_CONTEXT = ("oauth2/token", "client_credentials", "grant_type")


def _bw012(doc: _Doc) -> Iterator[_Hit]:
    if not doc.bw:
        return
    lines: set[int] = set()
    for m in _BASIC.finditer(doc.text):
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        window = doc.window(start, 6)
        if any(t in window for t in _TOKEN_CONTEXT):
            continue  # Basic with client id/secret is how the OAuth2 token is fetched
        line = doc.position(start)[0]
        if line in lines:
            continue
        lines.add(line)
        yield _Hit(start, m.end(), "HTTP Basic credentials (API user)",
                   RULES_BY_ID["BW012"].replacement)  # fmt: skip


# --- BW014, BW015: callbacks and reports -------------------------------------------------------

_CALLBACK = re.compile(r"(?<![<\w])(?<!</)(?:CompletedTelephoneNumbers|ImpactedTelephoneNumbers)\b")
_REPORT = re.compile(r"phone number inventory|inventory report", re.IGNORECASE)


def _bw014(doc: _Doc) -> Iterator[_Hit]:
    low = doc.lower
    if "completedtelephonenumbers" not in low and "impactedtelephonenumbers" not in low:
        return
    if doc.e164_aware:
        return
    for m in _CALLBACK.finditer(doc.text):
        yield _Hit(m.start(), m.end(), f"callback handler reads {m.group(0)}",
                   RULES_BY_ID["BW014"].replacement)  # fmt: skip


def _bw015(doc: _Doc) -> Iterator[_Hit]:
    if "inventory" not in doc.lower or doc.e164_aware:
        return
    for m in _REPORT.finditer(doc.text):
        yield _Hit(m.start(), m.end(), "code reads the phone number inventory report",
                   RULES_BY_ID["BW015"].replacement)  # fmt: skip


_MATCHERS: tuple[tuple[str, Callable[[_Doc], Iterator[_Hit]]], ...] = (
    ("BW001", _bw001), ("BW002", _bw002), ("BW003", _bw003), ("BW004", _bw004),
    ("BW005", _bw005), ("BW006", _bw006), ("BW007", _bw007), ("BW008", _bw008),
    ("BW009", _bw009), ("BW010", _bw010), ("BW011", _bw011), ("BW012", _bw012),
    ("BW013", _bw013), ("BW014", _bw014), ("BW015", _bw015),
)  # fmt: skip

_SNIPPET_CHARS = 200


def scan_text(path: str, text: str) -> list[Finding]:
    """Every finding in one file's text, sorted by position."""
    doc = _Doc(path, text)
    findings: list[Finding] = []
    for rule_id, matcher in _MATCHERS:
        rule = RULES_BY_ID[rule_id]
        for hit in matcher(doc):
            line, column = doc.position(hit.start)
            end_line, end_column = doc.position(hit.end)
            snippet = doc.line_text(line).strip()[:_SNIPPET_CHARS]
            fix = Edit(hit.start, hit.end, hit.fix) if hit.fix is not None else None
            findings.append(
                Finding(
                    path,
                    line,
                    column,
                    end_line,
                    end_column,
                    rule,
                    hit.message,
                    hit.replacement,
                    snippet,
                    fix,
                )
            )
    findings.sort(key=lambda f: (f.line, f.column, f.rule.id))
    return findings


def apply_fixes(text: str, findings: list[Finding]) -> tuple[str, int]:
    """Apply the fixes of `findings` (non-overlapping, left to right): (new text, fixes applied)."""
    edits = sorted({f.fix for f in findings if f.fix is not None}, key=lambda e: (e.start, e.end))
    parts: list[str] = []
    pos = applied = 0
    for edit in edits:
        if edit.start < pos:
            continue  # overlaps an earlier edit: leave it for the re-scan to report
        parts += [text[pos : edit.start], edit.text]
        pos = edit.end
        applied += 1
    parts.append(text[pos:])
    return "".join(parts), applied
