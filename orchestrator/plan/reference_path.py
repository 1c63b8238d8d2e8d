"""The reference path: one raw number -> E.164, or the precise reason it is not one.

This module owns `normalize_number` and `normalize_text`: the pre-checks of
`orchestrator.plan.rejection`, then `phonenumbers.parse` and `phonenumbers.is_valid_number`,
with every phonenumbers failure turned into a `Rejection` and a message saying what to do.
Every rejection anywhere (the bulk path included) is this module's.

Pure: no I/O, no clock, no environment. It imports only the standard library, phonenumbers and
`orchestrator.errors` / its sibling number modules (`country`, `rejection`); never the bulk path
(which builds on this one), httpx, anyio, sqlmodel, rich or click.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from orchestrator.plan.country import A2_TO_A3, DEFAULT_COUNTRY_A3, country_label, region_for_a3
from orchestrator.plan.rejection import (
    InvalidNumber,
    NumberRejectedError,
    Rejection,
    clean_text,
    precheck_text,
    quote_text,
    reject,
)

__all__ = ["normalize_number", "normalize_text"]

_PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: Rejection.UNKNOWN_COUNTRY,
    NumberParseException.NOT_A_NUMBER: Rejection.TOO_SHORT,
    NumberParseException.TOO_SHORT_AFTER_IDD: Rejection.TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: Rejection.TOO_SHORT,
    NumberParseException.TOO_LONG: Rejection.TOO_LONG,
}
_LENGTH_ERRORS = {
    ValidationResult.TOO_SHORT: Rejection.TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: Rejection.TOO_SHORT,
    ValidationResult.TOO_LONG: Rejection.TOO_LONG,
    ValidationResult.INVALID_LENGTH: Rejection.WRONG_LENGTH,
}


def _length_message(reason: Rejection, text: str, where: str) -> str:
    """The message for a rejection phonenumbers found: unknown code or a length problem."""
    if reason is Rejection.UNKNOWN_COUNTRY:
        return (
            f"no country has the calling code after the + or international prefix ({text}):"
            " check the digits after it"
        )
    if reason is Rejection.TOO_SHORT:
        return f"too short for a {where} number ({text}): check for missing digits or area code"
    if reason is Rejection.TOO_LONG:
        return (
            f"too long for a {where} number ({text}): check for extra digits;"
            " write international numbers with + and their country code"
        )
    return f"no {where} number has this many digits ({text}): check for a missing or extra digit"


def normalize_text(raw: str, text: str, region: str) -> str | InvalidNumber:
    """The reference path: pre-checks, then phonenumbers' parse and validation."""
    rejected = precheck_text(raw, text)
    if rejected is not None:
        return rejected
    shown = quote_text(text)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        reason = _PARSE_ERRORS.get(exc.error_type, Rejection.INVALID_FOR_COUNTRY)
        return reject(raw, reason, _length_message(reason, shown, A2_TO_A3[region]))
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    where = country_label(number.country_code or 0)
    if phonenumbers.is_valid_number(number):
        if phonenumbers.region_code_for_number(number) in A2_TO_A3:
            return e164
        return reject(
            raw,
            Rejection.NO_COUNTRY,
            f"{e164} is a global service number with no country:"
            " v2 numbers belong to a country; remove it from the plan",
        )
    possible = phonenumbers.is_possible_number_with_reason(number)
    length_reason = _LENGTH_ERRORS.get(possible)
    if length_reason is not None:
        return reject(raw, length_reason, _length_message(length_reason, shown, where))
    return reject(
        raw,
        Rejection.INVALID_FOR_COUNTRY,
        f"not a valid {where} number ({shown}): check the digits"
        " (and the default country, if the number has no + and country code)",
    )


def normalize_number(raw: str, country_a3: str = DEFAULT_COUNTRY_A3) -> str:
    """Return the E.164 form of one raw number, or raise NumberRejectedError saying why not.

    `country_a3` is the country of numbers written without + and country code.
    """
    result = normalize_text(raw, clean_text(raw), region_for_a3(country_a3))
    if isinstance(result, InvalidNumber):
        raise NumberRejectedError(result)
    return result
