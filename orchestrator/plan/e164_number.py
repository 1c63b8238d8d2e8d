"""What is said about a valid E.164 number: its LEGACY form, its area-code string, its country;
and an API answer's number read back into E.164.

This module owns `to_legacy` (v2's LEGACY format), `area_code_string` (v2's area-code string,
with the leading 0 where a country dials one), `country_a3_of` and `e164_from_api` (the 10- and
11-digit NANP forms some endpoints still answer). Its inputs are numbers the normalisers
produced, or API answers; raw user text goes through `orchestrator.plan.numbers` first.

Pure: no I/O, no clock, no environment. It imports only the standard library, phonenumbers and
its sibling `orchestrator.plan.country`; never httpx, anyio, sqlmodel, rich or click.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from orchestrator.plan.country import A2_TO_A3

__all__ = ["area_code_string", "country_a3_of", "e164_from_api", "to_legacy"]

_E164 = re.compile(r"\+[1-9][0-9]{1,14}", re.ASCII)


def e164_from_api(number: str) -> str:
    """A number as an API answer spells it, in E.164: v2 answers E.164, but be ready for the
    10- and 11-digit NANP forms some endpoints still answer (reference §13). Anything else is
    returned stripped, unchanged (never raises: answers are data, not input)."""
    n = number.strip()
    if n.startswith("+"):
        return n
    if len(n) == 10 and n.isdigit():
        return "+1" + n
    if len(n) == 11 and n.startswith("1") and n.isdigit():
        return "+" + n
    return n


def to_legacy(e164: str) -> str:
    """Render an E.164 number in v2's LEGACY format: 10 digits for +1, E.164 for the rest."""
    if _E164.fullmatch(e164) is None:
        raise ValueError(f"{e164!r} is not an E.164 number")
    if e164.startswith("+1") and len(e164) == 12:
        return e164[2:]
    return e164


def area_code_string(e164: str) -> str | None:
    """Return v2's area-code string: the country code, then the area code with its leading 0.

    "+19195551234" -> "+1919"; "+27215551234" -> "+27021": where a country dials its area codes
    with a national prefix 0 (South Africa, the UK, Germany, Australia ...), v2 keeps the 0, as
    in the migration guide's "+27098". Other national prefixes (1 in NANP, 8 in Russia) are not
    part of the area code. None when the number has no geographic area code (toll-free numbers,
    mobiles outside NANP).
    """
    number = _parse_e164(e164)
    length = phonenumbers.length_of_geographical_area_code(number)
    nanp_mobile = number.country_code == 1 and (
        phonenumbers.number_type(number) == PhoneNumberType.MOBILE
    )
    if length == 0 and nanp_mobile:  # NANP has no mobile area codes: mobiles use geographic NPAs
        length = 3
    if length == 0:
        return None
    area = phonenumbers.national_significant_number(number)[:length]
    national = re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    zero = "0" if not area.startswith("0") and national.startswith("0" + area) else ""
    return f"+{number.country_code}{zero}{area}"


def country_a3_of(e164: str) -> str:
    """Return the ISO alpha-3 country of a valid E.164 number: "+441224003018" -> "GBR"."""
    number = _parse_e164(e164)
    region = phonenumbers.region_code_for_number(number)
    a3 = A2_TO_A3.get(region or "")
    if a3 is None:
        raise ValueError(f"{e164} belongs to no country (a global service number)")
    return a3


def _parse_e164(e164: str) -> PhoneNumber:
    """Parse a number the normalisers produced; anything else is a caller's bug."""
    if _E164.fullmatch(e164) is None:
        raise ValueError(f"{e164!r} is not an E.164 number")
    number = phonenumbers.parse(e164, None)
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{e164} is not a valid phone number (normalize it first)")
    return number
