"""Finding v1 documents in a file: the root names read, and documents embedded in other text.

This module owns the root element names the readers know (`ROOT_NAMES`, `ORDERS`), the quick
test `has_v1_xml`, the decoding of bytes of unknown encoding, the location of each top-level
document embedded in curl scripts and request logs (`fragments`) and the parsing of one such
document with the hardened parser (`orchestrator.api.xml`), JSON-escaped bodies unescaped.

Pure. Imports only the standard library, the hardened XML parser and `orchestrator.errors`;
never another reader of this package.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from lxml import etree

from orchestrator.api.xml import parse_xml
from orchestrator.errors import InputError, XmlError

__all__ = ["ORDERS", "ROOT_NAMES", "decode", "fragments", "has_v1_xml", "parse_fragment"]

ROOT_NAMES = (
    "ExternalTnsOrders",
    "ExternalTnsOrderResponse",
    "ExternalTnsOrder",
    "ImportTnOrdersResponse",
    "ImportTnOrderResponse",
    "ImportTnOrders",
    "ImportTnOrder",
    "RemoveImportedTnOrdersResponse",
    "RemoveImportedTnOrderResponse",
    "RemoveImportedTnOrders",
    "RemoveImportedTnOrder",
    "SipPeerTelephoneNumbersResponse",
    "SipPeerTelephoneNumberResponse",
    "SipPeerTelephoneNumbers",
    "SipPeerTelephoneNumber",
)
ORDERS = ("ExternalTnsOrder", "ImportTnOrder", "RemoveImportedTnOrder")
_FRAGMENT = re.compile(r"<(" + "|".join(ROOT_NAMES) + r")(?=[\s/>])")


def has_v1_xml(text: str) -> bool:
    """True when `text` holds at least one v1 document the readers of this package read."""
    return _FRAGMENT.search(text) is not None


def decode(data: bytes) -> str:
    """Text of unknown encoding: UTF-16 with a byte-order mark, UTF-8, else cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def fragments(text: str, source: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, root name) of each top-level v1 document embedded in `text`."""
    pos = 0
    while (match := _FRAGMENT.search(text, pos)) is not None:
        name = match.group(1)
        start = match.start()
        tag_end = text.find(">", match.end())
        if tag_end < 0:
            break
        if text[tag_end - 1] == "/":  # <X/>: an empty document
            yield start, tag_end + 1, name
            pos = tag_end + 1
            continue
        close = re.compile(rf"</{name}\s*>").search(text, tag_end)
        if close is None:
            line = text.count("\n", 0, start) + 1
            raise InputError(f"{source}:{line}: <{name}> is never closed (truncated?)")
        yield start, close.end(), name
        pos = close.end()


def parse_fragment(fragment: str, source: str, line: int, name: str) -> etree._Element:
    """Parse one embedded document; JSON-escaped bodies (log lines) are unescaped first."""
    try:
        return parse_xml(fragment.encode("utf-8"))
    except XmlError as exc:
        if "\\n" in fragment or '\\"' in fragment:
            try:
                return parse_xml(json.loads(f'"{fragment}"').encode("utf-8"))
            except (ValueError, XmlError):
                pass
        raise InputError(f"{source}:{line}: <{name}>: {exc}") from exc
