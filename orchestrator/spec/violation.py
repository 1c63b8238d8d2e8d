"""`Violation`: one way a body breaks the schema, and the names of the rules it can break.

Shared by the structural walk (`validator`) and the prose rules (`prose`). Pure; imports
nothing from the rest of `orchestrator`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "Violation", "quote", "where"]

RULES = (
    "xml",  # not well-formed, empty, or carrying a DTD / entities
    "root",  # the root element is not the one the operation takes
    "unknown-element",  # an element the schema does not allow at that place
    "required",  # a required child is missing (`element` = the missing child)
    "repeated",  # a single-valued element occurs more than once
    "min-items",  # an array has fewer items than it must (`element` = the item's name)
    "max-items",  # an array has more items than it may
    "duplicate",  # an array that must hold distinct values repeats one
    "type",  # not an integer/number/boolean; or text where elements belong, or the reverse
    "enum",  # a value outside the schema's list
    "min-length",
    "max-length",
    "pattern",  # a value not matching its pattern (E.164, CustomerOrderId, UUID)
    "nanp-required",  # CreateImportMessagingTnOrder: missing for +1 numbers (prose rule)
    "nanp-only",  # CreateTnOptionOrder: a NANPA-only option on a non-+1 number (prose rule)
    "forbidden",  # CreateTnOptionOrder: A2P class/campaign with an Action that forbids them
)
"""Every `Violation.rule` value, with what it means."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a body breaks the schema.

    `path` is XPath-like from the root, items of arrays numbered from 1
    ("/ImportTnOrder/TelephoneNumbers/TelephoneNumber[3]"); for "required" it is where the
    missing element belongs. `element` is the element's local name, the missing child's for
    "required", the item's for "min-items"; "" for "xml".
    """

    path: str
    rule: str
    message: str
    element: str


def where(path: str) -> str:
    """A path as messages name it: without the root ("Subscriber/Name"), or the root alone."""
    parts = path.split("/", 2)
    return parts[2] if len(parts) == 3 else path.lstrip("/")


def quote(text: str, limit: int = 40) -> str:
    """A value for a message: repr'd, cut to `limit` characters."""
    if len(text) > limit:
        return repr(text[:limit]) + "…"
    return repr(text)
