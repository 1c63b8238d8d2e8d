"""lxml element access for the v1 XML readers: names, lines, texts, children, errors.

This module owns the few ways the readers look at an lxml element (its local name, its line,
the first non-empty text of a child, a child), the key that matches a number however v1 wrote
it (`digits_key`) and the one-line `InputError` naming file, line and element.

Pure. Elements come in from the readers of this package and nothing of lxml goes back out of
it. Imports only lxml's types and `orchestrator.errors`.
"""

from __future__ import annotations

from lxml import etree

from orchestrator.errors import InputError

__all__ = ["child_text", "digits_key", "element_error", "first_child", "line_of", "local_name"]


def local_name(el: etree._Element) -> str:
    """The element's tag without its namespace."""
    return str(el.tag).rpartition("}")[2]


def line_of(el: etree._Element) -> int:
    """The element's 1-based line in the parsed text (lxml-stubs type it loosely)."""
    line = getattr(el, "sourceline", None)
    return line if isinstance(line, int) else 1


def child_text(el: etree._Element, *names: str) -> str | None:
    """The stripped text of the first child named one of `names` that has any."""
    for child in el.iterchildren(*names):
        text = (child.text or "").strip()
        if text:
            return text
    return None


def first_child(el: etree._Element, *names: str) -> etree._Element | None:
    """The first child named one of `names`, if any."""
    return next(el.iterchildren(*names), None)


def digits_key(raw: str) -> str:
    """A number's digits, a NANP number's last ten: how v1's lists and errors are matched."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    return digits[-10:] if len(digits) == 11 and digits.startswith("1") else digits


def element_error(source: str, el: etree._Element, base_line: int, message: str) -> InputError:
    """The error for `el` of the document starting after line `base_line` of `source`."""
    line = line_of(el) + base_line
    return InputError(f"{source}:{line}: <{local_name(el)}>: {message}")
