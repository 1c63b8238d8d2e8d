"""The hardened XML parser: untrusted bytes in, an lxml tree out, or an `XmlError`.

Every XML document bwmigrate reads from outside (the API's answers, v1 artefacts) goes through
`parse_xml`: DTDs, entities, network access and huge trees refused; HTML, JSON and other text
named as such before the parser sees them; sizes bounded. The typed readers of the API's
answers are `orchestrator.api.xml`; the v1 readers use `parse_xml` directly.

Pure: no I/O, no clock, no environment. Must not import httpx, anyio, sqlmodel, rich or click.
"""

from __future__ import annotations

from lxml import etree

from orchestrator.errors import XmlError, one_line

__all__ = ["MAX_BODY_BYTES", "MAX_TEXT_CHARS", "is_blank", "local_name", "parse_xml"]

MAX_BODY_BYTES = 64 * 1024 * 1024
"""Largest document `parse_xml` accepts by default (a 5000-number order is about 250 KB)."""

MAX_TEXT_CHARS = 1_000_000
"""Longest text node accepted; nothing in these APIs comes near it."""

_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")  # UTF-16 / UTF-32
_WHITESPACE = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"


def parse_xml(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> etree._Element:
    """Parse an untrusted document with DTDs, entities, network access and huge trees refused.

    For the typed readers of `orchestrator.api.xml` and the package's own v1 readers.
    """
    if len(body) > max_bytes:
        raise XmlError(f"document of {len(body)} bytes exceeds the {max_bytes}-byte limit")
    _check_prolog(body)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise XmlError(_describe_syntax_error(exc)) from exc
    except (etree.LxmlError, ValueError, LookupError) as exc:
        raise XmlError(f"unreadable XML: {one_line(str(exc))}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None:  # any DOCTYPE, even without an internal subset
        raise XmlError("document has a DOCTYPE: DTDs and entities are not accepted")
    if local_name(root).lower() == "html":
        raise XmlError("expected XML, got HTML (an error page?)")
    if len(body) > MAX_TEXT_CHARS:
        _check_text_sizes(root)
    return root


def local_name(el: etree._Element) -> str:
    """An element's name without its namespace."""
    return str(el.tag).rpartition("}")[2]


def is_blank(body: bytes) -> bool:
    """True when a body holds nothing but a UTF-8 byte order mark and XML whitespace."""
    return not body.removeprefix(_UTF8_BOM).strip(_WHITESPACE)


def _check_prolog(body: bytes) -> None:
    """Reject empty, HTML, JSON and DTD-bearing bodies before the parser sees them."""
    head = body.removeprefix(_UTF8_BOM).lstrip(_WHITESPACE)
    if not head:
        raise XmlError("empty body: expected an XML document")
    if body.startswith(_WIDE_BOMS) or b"\x00" in body[:4]:
        return  # UTF-16/32: left to the parser, checked again on the parsed tree
    while head.startswith((b"<?", b"<!--")):
        close = b"?>" if head.startswith(b"<?") else b"-->"
        end = head.find(close)
        if end < 0:
            break  # let the parser name the problem
        head = head[end + len(close) :].lstrip(_WHITESPACE)
    lowered = head[:32].lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        raise XmlError("expected XML, got HTML (an error page?)")
    if lowered.startswith((b"<!doctype", b"<!entity")):
        raise XmlError("document has a DOCTYPE: DTDs and entities are not accepted")
    if head.startswith((b"{", b"[")):
        raise XmlError("expected XML, got JSON")
    if head and not head.startswith(b"<"):
        raise XmlError(f"expected XML, got text starting {head[:20]!r}")


def _describe_syntax_error(exc: etree.XMLSyntaxError) -> str:
    message = one_line(str(exc.msg or exc))  # libxml2 ends some messages with "\n"
    if "Excessive depth" in message:
        return "malformed XML: nested deeper than the parser's limit of 256 levels"
    if "amplification" in message:
        return "malformed XML: entity expansion refused (DTDs and entities are not accepted)"
    return f"malformed or truncated XML: {message}"


def _check_text_sizes(root: etree._Element) -> None:
    for el in root.iter():
        for text in (el.text, el.tail):
            if text is not None and len(text) > MAX_TEXT_CHARS:
                raise XmlError(
                    f"text node in <{local_name(el)}> of {len(text)} characters exceeds the "
                    f"{MAX_TEXT_CHARS}-character limit"
                )
