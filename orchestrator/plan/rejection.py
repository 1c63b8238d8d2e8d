"""Why a raw number is refused: the reasons, the rejection record, and the pre-checks.

This module owns `Rejection` (the reasons the state store keeps), `InvalidNumber` and
`NumberRejectedError`, the cleaning of spreadsheet and encoding debris around a number
(`clean_text`), and the pre-checks that refuse what phonenumbers would silently accept or misread:
Excel artefacts, extensions, letters, stray characters (`precheck_text`).

Pure: no I/O, no clock, no environment. It imports only the standard library and
`orchestrator.errors`; never phonenumbers (parsing is the reference path's), httpx, anyio,
sqlmodel, rich or click.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from orchestrator.errors import InputError

__all__ = [
    "InvalidNumber",
    "NumberRejectedError",
    "Rejection",
    "clean_text",
    "precheck_text",
    "quote_text",
    "reject",
]


class Rejection(StrEnum):
    """Why a raw number was not turned into E.164; the value is what the state store keeps."""

    EMPTY = "empty"  # nothing but whitespace, quotes or a byte-order mark
    NO_DIGITS = "no_digits"  # only punctuation: "---", "( )"
    SCIENTIFIC_NOTATION = "scientific_notation"  # a spreadsheet's 6.67229E+09: digits lost
    DECIMAL_SUFFIX = "decimal_suffix"  # went through a float: 6672286710.0
    EXTENSION = "extension"  # x123, ext. 5, ;ext=5, #12, ,,3
    LETTERS = "letters"  # vanity (1-800-FLOWERS) or annotated ("(mobile)") numbers
    UNEXPECTED_CHARACTER = "unexpected_character"  # *, a plus sign inside, a comma ...
    TOO_SHORT = "too_short"  # fewer digits than any number of the country has
    TOO_LONG = "too_long"  # more digits than any number of the country has
    WRONG_LENGTH = "wrong_length"  # a digit count between the country's lengths
    UNKNOWN_COUNTRY = "unknown_country"  # no country has the calling code after + or 011/00
    INVALID_FOR_COUNTRY = "invalid_for_country"  # right length, but no such number (+1 555 ...)
    NO_COUNTRY = "no_country"  # a global service number (+800 ...): v2 needs a country


@dataclass(frozen=True, slots=True)
class InvalidNumber:
    """A raw number that was rejected: the original text, why, and what to do about it."""

    raw: str
    reason: Rejection
    message: str


class NumberRejectedError(InputError):
    """A single number given by the user cannot be turned into E.164."""

    def __init__(self, invalid: InvalidNumber) -> None:
        super().__init__(f"phone number {quote_text(invalid.raw)}: {invalid.message}")
        self.invalid = invalid


# Every Unicode space becomes a plain space; byte-order marks and zero-width characters vanish.
_CLEAN = str.maketrans(
    dict.fromkeys("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u202f\u205f\u3000\u2028\u2029", " ")
    | dict.fromkeys([chr(c) for c in range(0x2000, 0x200B)], " ")
    | dict.fromkeys("\ufeff\u200b\u200c\u200d\u2060\u00ad", None)
)
_QUOTES = "\"'“”‘’ "

_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
# A number that went through a float: "6672286710.0". At most two zeros, so that no string of
# the bulk path's shapes (which end in four digits) is ever mistaken for one.
_DECIMAL_SUFFIX = re.compile(r"\+?[0-9]+[.,]0{1,2}")
# An extension or post-dial digits at the end: "x123", "ext. 5", ";ext=5", "#12", ",,3".
_EXTENSION = re.compile(
    r"(?:;\s*ext\s*=|(?<![^\W\d_])(?:ext(?:ension|n)?|x)\.?|#|,+)\s*:?\s*[0-9]{1,7}\s*#?$",
    re.IGNORECASE,
)
_LETTER = re.compile(r"[^\W\d_]")
# Digits, spaces, one leading plus and the punctuation people put between digit groups.
_UNEXPECTED = re.compile(r"[^\d +()\[\]./\-‐‑‒–—―−]")


def clean_text(raw: str) -> str:
    """Drop spreadsheet and encoding debris around a number; keep everything that might matter."""
    text = raw.translate(_CLEAN).strip()
    if text.startswith('="'):  # Excel's way of forcing text: ="6672286710"
        text = text[1:]
    return text.strip(_QUOTES)


def quote_text(text: str) -> str:
    """Quote text for a one-line message: printable, at most 40 characters."""
    shown = text if text.isprintable() else ascii(text)[1:-1]
    return f"'{shown[:40]}…'" if len(shown) > 40 else f"'{shown}'"


def reject(raw: str, reason: Rejection, message: str) -> InvalidNumber:
    """A rejection of the untouched raw text."""
    return InvalidNumber(raw=raw, reason=reason, message=message)


def precheck_text(raw: str, text: str) -> InvalidNumber | None:
    """Reject what phonenumbers would silently accept or misread: artefacts, not numbers."""
    if not text:
        return reject(raw, Rejection.EMPTY, "empty: fill in the number or remove the row")
    shown = quote_text(text)
    if _SCIENTIFIC.fullmatch(text):
        return reject(
            raw,
            Rejection.SCIENTIFIC_NOTATION,
            f"looks like Excel scientific notation ({text}): the digits are lost;"
            " format the column as text and export again",
        )
    if _DECIMAL_SUFFIX.fullmatch(text):
        return reject(
            raw,
            Rejection.DECIMAL_SUFFIX,
            f"looks like a number saved as a decimal ({text}):"
            " format the column as text and export again",
        )
    if _EXTENSION.search(text):
        return reject(
            raw,
            Rejection.EXTENSION,
            f"has an extension ({shown}): v2 numbers carry none; give the number without it",
        )
    if _LETTER.search(text):
        return reject(
            raw,
            Rejection.LETTERS,
            f"contains letters ({shown}): vanity and annotated numbers are not converted;"
            " write the number in digits",
        )
    return _check_characters(raw, text)


def _check_characters(raw: str, text: str) -> InvalidNumber | None:
    """Only digits, spaces, digit-group punctuation and one leading plus may remain."""
    bad = _UNEXPECTED.search(text)
    if bad is not None:
        return reject(
            raw,
            Rejection.UNEXPECTED_CHARACTER,
            f"contains {bad.group()!r}, which has no place in a phone number ({quote_text(text)}):"
            " remove it",
        )
    if "+" in text[1:]:
        return reject(
            raw,
            Rejection.UNEXPECTED_CHARACTER,
            f"has a plus sign inside ({quote_text(text)}): a + may only start the number",
        )
    if not any(char.isdigit() for char in text):
        return reject(
            raw, Rejection.NO_DIGITS, f"contains no digits ({quote_text(text)}): fill in the number"
        )
    return None
