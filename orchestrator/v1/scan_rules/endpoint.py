"""Rules about where and how requests go: base URLs, moved, deprecated and refused endpoints,
Basic credentials (BW001-BW005, BW007, BW012).

This module owns their searches, keyed by rule id in `MATCHERS`: v1 base URLs (fixable), the
E911 `/addresses` path and the import/remove paths that moved under `/messaging` (fixable),
`externalTns` paths, bodies and subscription OrderTypes, messaging settings sent to a SIP peer's
TN, and HTTP Basic API users.

Pure: a `ScannedFile` in, `Hit`s out. Imports only the standard library and its siblings
`scanned_file` and `table`; never `finding` (which builds on this module).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from orchestrator.v1.scan_rules.scanned_file import V1_BASE, Hit, Matcher, ScannedFile
from orchestrator.v1.scan_rules.table import RULES_BY_ID

__all__ = ["MATCHERS"]

# --- BW001-BW004: base URLs and paths (fixable) --------------------------------------------------


def _bw001(doc: ScannedFile) -> Iterator[Hit]:
    if "bandwidth.com" not in doc.lower:
        return
    for m in V1_BASE.finditer(doc.text):
        scheme = "https://" if m.group("scheme") else ""
        new = f"{scheme}{'test.' if m.group('test') else ''}api.bandwidth.com/api/v2"
        yield Hit(m.start(), m.end(), f"v1 base URL {m.group(0)}", new, new)


_ADDRESSES = re.compile(
    r"(?:(?<![\w.-])accounts/[^/\s'\"`?#]+|/api/v1|/v1\.0|bandwidth\.com/api)/(?P<seg>addresses)"
    r"(?![\w-])",
    re.IGNORECASE,
)


_QUERY_CHAR = re.compile(r"[\w&=%]")


def _bw002(doc: ScannedFile) -> Iterator[Hit]:
    if "addresses" not in doc.lower:
        return
    v2_addresses: dict[tuple[int, int], bool] = {}  # token span -> a v2 /addresses URL
    for m in _ADDRESSES.finditer(doc.text):
        span = doc.token_span(m.start(), m.end())
        if span not in v2_addresses:
            token = doc.lower[span[0] : span[1]]
            v2_addresses[span] = ("api/v2" in token or doc.v2_only) and "type=e911" not in token
        if v2_addresses[span]:
            continue  # v2's /addresses is a new (reusable addresses) resource
        end, query = m.end("seg"), ""
        rest = doc.text[end : end + 11]
        if rest.lower().startswith("?type=e911&"):
            end, query = end + 11, "?"  # v2's e911Addresses takes no type
        elif rest.lower().startswith("?type=e911") and not _QUERY_CHAR.match(rest[10:]):
            end += 10
        yield Hit(m.start("seg"), end, "v1 E911 path /addresses",
                  "/e911Addresses (without type=e911)", "e911Addresses" + query)  # fmt: skip


def _path_rule(segment: str, keyword: str) -> Matcher:
    pattern = re.compile(
        rf"(?:(?<=/)(?i:{segment})|(?<=['\"`]){segment})(?!\w)(?!/(?i:messaging|voice)\b)"
    )

    def rule(doc: ScannedFile) -> Iterator[Hit]:
        if keyword not in doc.lower:
            return
        for m in pattern.finditer(doc.text):
            before = doc.lower[max(0, m.start() - 40) : m.start()]
            if "ordertype" in before or "order_type" in before:
                continue  # a subscription's OrderType value, not a path
            yield Hit(m.start(), m.end(), f"v1 path /{m.group(0)}",
                      f"/{m.group(0)}/messaging", f"{m.group(0)}/messaging")  # fmt: skip

    return rule


_bw003 = _path_rule("importTnOrders", "importtnorders")
_bw004 = _path_rule("removeImportedTnOrders", "removeimportedtnorders")


# --- BW005: externalTns ----------------------------------------------------------------------

_EXTERNAL_PATH = re.compile(r"(?<=[/'\"`>])(?i:externalTns)(?!\w)")
_EXTERNAL_BODY = re.compile(r"<ExternalTnsOrder(?=[\s>])")
_ACTION = re.compile(r"<Action>\s*(\w+)\s*</Action>")


def _bw005(doc: ScannedFile) -> Iterator[Hit]:
    if "externaltns" not in doc.lower:
        return
    rule = RULES_BY_ID["BW005"]
    for m in _EXTERNAL_PATH.finditer(doc.text):
        if doc.text[m.start() - 1] == ">":
            yield Hit(m.start(), m.end(), "subscription OrderType externalTns does not exist "
                      "on v2", "OrderType importtnorders / removeImportedTnOrders")  # fmt: skip
        else:
            yield Hit(m.start(), m.end(), "deprecated v1 endpoint /externalTns", rule.replacement)
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
        yield Hit(m.start(), m.end(), f"v1 externalTns {action.group(1)} body", new)


# --- BW007: messaging through sippeers/tns ---------------------------------------------------

_MESSAGING_XML = re.compile(r"<MessagingSettings(?=[\s>])")
_MESSAGING_CODE = re.compile(
    r"(?<![<\w/])(?:messaging_settings|messagingSettings|MessagingSettings|sms_enabled|smsEnabled)\b"
)
_SIPPEER_CODE = re.compile(r"sippeers?/|sip_?peer|sippeer", re.IGNORECASE)


def _bw007(doc: ScannedFile) -> Iterator[Hit]:
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
        yield Hit(m.start(), m.end(), "messaging turned on/off through sippeers/{id}/tns",
                  RULES_BY_ID["BW007"].replacement)  # fmt: skip
    near_sippeer: dict[tuple[int, int], bool] = {}  # window span -> names a SIP peer
    for m in _MESSAGING_CODE.finditer(doc.text):
        line = doc.position(m.start())[0]
        if line in lines:
            continue
        span = doc.window_span(m.start(), 4)
        if span not in near_sippeer:
            near_sippeer[span] = _SIPPEER_CODE.search(doc.lower, *span) is not None
        if not near_sippeer[span]:
            continue
        lines.add(line)
        yield Hit(m.start(), m.end(), "messaging settings sent to a SIP peer's TN",
                  RULES_BY_ID["BW007"].replacement)  # fmt: skip


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


def _bw012(doc: ScannedFile) -> Iterator[Hit]:
    if not doc.bw:
        return
    lines: set[int] = set()
    token_context: dict[tuple[int, int], bool] = {}  # window span -> fetches an OAuth2 token
    for m in _BASIC.finditer(doc.text):
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        span = doc.window_span(start, 6)
        if span not in token_context:
            window = doc.lower[span[0] : span[1]]
            token_context[span] = any(t in window for t in _TOKEN_CONTEXT)
        if token_context[span]:
            continue  # Basic with client id/secret is how the OAuth2 token is fetched
        line = doc.position(start)[0]
        if line in lines:
            continue
        lines.add(line)
        yield Hit(start, m.end(), "HTTP Basic credentials (API user)",
                  RULES_BY_ID["BW012"].replacement)  # fmt: skip


MATCHERS: dict[str, Matcher] = {
    "BW001": _bw001,
    "BW002": _bw002,
    "BW003": _bw003,
    "BW004": _bw004,
    "BW005": _bw005,
    "BW007": _bw007,
    "BW012": _bw012,
}
