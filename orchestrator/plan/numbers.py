"""Phone numbers as customers really have them, turned into E.164 (and back into LEGACY form).

This module owns: cleaning raw number text (CSV exports, v1 payloads, spreadsheets), the reasons
a number is rejected, the ISO 3166 alpha-3 -> phonenumbers region table, LEGACY rendering and the
v2 area-code string. Raw number strings stop here: past this module only E.164 values travel.

It is pure: no I/O, no clock, no environment. It must not import httpx, anyio, sqlmodel, rich
or click.

Two paths give the same answers:

- `normalize_number` is the reference: pre-checks for spreadsheet and v1 artefacts, then
  `phonenumbers.parse` and `phonenumbers.is_valid_number`.
- `normalize_numbers` (bulk) recognises the common North American shapes with one regular
  expression, builds the national number directly and validates it against phonenumbers' own
  metadata, compiled once per region. Whatever it does not recognise, or does not find valid,
  goes through the reference path, so every rejection is the reference's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import phonenumbers
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneMetadata,
    PhoneNumber,
    PhoneNumberFormat,
    PhoneNumberType,
    ValidationResult,
)

from orchestrator.errors import InputError

__all__ = [
    "DEFAULT_COUNTRY_A3",
    "InvalidNumber",
    "NumberRejectedError",
    "Rejection",
    "area_code_string",
    "country_a3_of",
    "e164_from_api",
    "normalize_number",
    "normalize_numbers",
    "region_for_a3",
    "to_legacy",
]

DEFAULT_COUNTRY_A3 = "USA"

# ISO 3166-1 alpha-3 -> alpha-2 for every region phonenumbers supports. Three are not ISO
# 3166-1 countries: AC (Ascension) and TA (Tristan da Cunha) use their exceptionally reserved
# alpha-3 codes, XK (Kosovo) the user-assigned XKX.
_A3_TO_A2_TABLE = """
ABW:AW AFG:AF AGO:AO AIA:AI ALA:AX ALB:AL AND:AD ARE:AE ARG:AR ARM:AM ASC:AC ASM:AS ATG:AG
AUS:AU AUT:AT AZE:AZ BDI:BI BEL:BE BEN:BJ BES:BQ BFA:BF BGD:BD BGR:BG BHR:BH BHS:BS BIH:BA
BLM:BL BLR:BY BLZ:BZ BMU:BM BOL:BO BRA:BR BRB:BB BRN:BN BTN:BT BWA:BW CAF:CF CAN:CA CCK:CC
CHE:CH CHL:CL CHN:CN CIV:CI CMR:CM COD:CD COG:CG COK:CK COL:CO COM:KM CPV:CV CRI:CR CUB:CU
CUW:CW CXR:CX CYM:KY CYP:CY CZE:CZ DEU:DE DJI:DJ DMA:DM DNK:DK DOM:DO DZA:DZ ECU:EC EGY:EG
ERI:ER ESH:EH ESP:ES EST:EE ETH:ET FIN:FI FJI:FJ FLK:FK FRA:FR FRO:FO FSM:FM GAB:GA GBR:GB
GEO:GE GGY:GG GHA:GH GIB:GI GIN:GN GLP:GP GMB:GM GNB:GW GNQ:GQ GRC:GR GRD:GD GRL:GL GTM:GT
GUF:GF GUM:GU GUY:GY HKG:HK HND:HN HRV:HR HTI:HT HUN:HU IDN:ID IMN:IM IND:IN IOT:IO IRL:IE
IRN:IR IRQ:IQ ISL:IS ISR:IL ITA:IT JAM:JM JEY:JE JOR:JO JPN:JP KAZ:KZ KEN:KE KGZ:KG KHM:KH
KIR:KI KNA:KN KOR:KR KWT:KW LAO:LA LBN:LB LBR:LR LBY:LY LCA:LC LIE:LI LKA:LK LSO:LS LTU:LT
LUX:LU LVA:LV MAC:MO MAF:MF MAR:MA MCO:MC MDA:MD MDG:MG MDV:MV MEX:MX MHL:MH MKD:MK MLI:ML
MLT:MT MMR:MM MNE:ME MNG:MN MNP:MP MOZ:MZ MRT:MR MSR:MS MTQ:MQ MUS:MU MWI:MW MYS:MY MYT:YT
NAM:NA NCL:NC NER:NE NFK:NF NGA:NG NIC:NI NIU:NU NLD:NL NOR:NO NPL:NP NRU:NR NZL:NZ OMN:OM
PAK:PK PAN:PA PER:PE PHL:PH PLW:PW PNG:PG POL:PL PRI:PR PRK:KP PRT:PT PRY:PY PSE:PS PYF:PF
QAT:QA REU:RE ROU:RO RUS:RU RWA:RW SAU:SA SDN:SD SEN:SN SGP:SG SHN:SH SJM:SJ SLB:SB SLE:SL
SLV:SV SMR:SM SOM:SO SPM:PM SRB:RS SSD:SS STP:ST SUR:SR SVK:SK SVN:SI SWE:SE SWZ:SZ SXM:SX
SYC:SC SYR:SY TAA:TA TCA:TC TCD:TD TGO:TG THA:TH TJK:TJ TKL:TK TKM:TM TLS:TL TON:TO TTO:TT
TUN:TN TUR:TR TUV:TV TWN:TW TZA:TZ UGA:UG UKR:UA URY:UY USA:US UZB:UZ VAT:VA VCT:VC VEN:VE
VGB:VG VIR:VI VNM:VN VUT:VU WLF:WF WSM:WS XKX:XK YEM:YE ZAF:ZA ZMB:ZM ZWE:ZW
"""
_A3_TO_A2: dict[str, str] = dict(
    (a3, a2) for a3, _, a2 in (pair.partition(":") for pair in _A3_TO_A2_TABLE.split())
)
_A2_TO_A3: dict[str, str] = {a2: a3 for a3, a2 in _A3_TO_A2.items()}


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
        super().__init__(f"phone number {_shown(invalid.raw)}: {invalid.message}")
        self.invalid = invalid


# --- countries ---------------------------------------------------------------------------------


def region_for_a3(country_a3: str) -> str:
    """Return the phonenumbers region (ISO alpha-2) for an ISO 3166 alpha-3 code: "USA" -> "US"."""
    region = _A3_TO_A2.get(country_a3.strip().upper())
    if region is None:
        raise InputError(
            f"unknown country code {country_a3!r}: give an ISO 3166 alpha-3 code"
            " (countryCodeA3) such as USA, CAN or GBR"
        )
    return region


def country_a3_of(e164: str) -> str:
    """Return the ISO alpha-3 country of a valid E.164 number: "+441224003018" -> "GBR"."""
    number = _parse_e164(e164)
    region = phonenumbers.region_code_for_number(number)
    a3 = _A2_TO_A3.get(region or "")
    if a3 is None:
        raise ValueError(f"{e164} belongs to no country (a global service number)")
    return a3


def _country_label(country_code: int) -> str:
    """Name a calling code for a message: "+44 (GBR, GGY, IMN, …)"."""
    a3s = [_A2_TO_A3.get(region, region) for region in COUNTRY_CODE_TO_REGION_CODE[country_code]]
    more = ", …" if len(a3s) > 3 else ""
    return f"+{country_code} ({', '.join(a3s[:3])}{more})"


# --- rendering -----------------------------------------------------------------------------------

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


def _metadata(region: str) -> PhoneMetadata:
    """phonenumbers' metadata for a region it supports."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        raise ValueError(f"phonenumbers has no metadata for region {region!r}")
    return metadata


def _parse_e164(e164: str) -> PhoneNumber:
    """Parse a number this module produced; anything else is a caller's bug."""
    if _E164.fullmatch(e164) is None:
        raise ValueError(f"{e164!r} is not an E.164 number")
    number = phonenumbers.parse(e164, None)
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{e164} is not a valid phone number (normalize it first)")
    return number


# --- cleaning and pre-checks ---------------------------------------------------------------------

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


def _clean(raw: str) -> str:
    """Drop spreadsheet and encoding debris around a number; keep everything that might matter."""
    text = raw.translate(_CLEAN).strip()
    if text.startswith('="'):  # Excel's way of forcing text: ="6672286710"
        text = text[1:]
    return text.strip(_QUOTES)


def _shown(text: str) -> str:
    """Quote text for a one-line message: printable, at most 40 characters."""
    shown = text if text.isprintable() else ascii(text)[1:-1]
    return f"'{shown[:40]}…'" if len(shown) > 40 else f"'{shown}'"


def _reject(raw: str, reason: Rejection, message: str) -> InvalidNumber:
    """A rejection of the untouched raw text."""
    return InvalidNumber(raw=raw, reason=reason, message=message)


def _precheck(raw: str, text: str) -> InvalidNumber | None:
    """Reject what phonenumbers would silently accept or misread: artefacts, not numbers."""
    if not text:
        return _reject(raw, Rejection.EMPTY, "empty: fill in the number or remove the row")
    shown = _shown(text)
    if _SCIENTIFIC.fullmatch(text):
        return _reject(
            raw,
            Rejection.SCIENTIFIC_NOTATION,
            f"looks like Excel scientific notation ({text}): the digits are lost;"
            " format the column as text and export again",
        )
    if _DECIMAL_SUFFIX.fullmatch(text):
        return _reject(
            raw,
            Rejection.DECIMAL_SUFFIX,
            f"looks like a number saved as a decimal ({text}):"
            " format the column as text and export again",
        )
    if _EXTENSION.search(text):
        return _reject(
            raw,
            Rejection.EXTENSION,
            f"has an extension ({shown}): v2 numbers carry none; give the number without it",
        )
    if _LETTER.search(text):
        return _reject(
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
        return _reject(
            raw,
            Rejection.UNEXPECTED_CHARACTER,
            f"contains {bad.group()!r}, which has no place in a phone number ({_shown(text)}):"
            " remove it",
        )
    if "+" in text[1:]:
        return _reject(
            raw,
            Rejection.UNEXPECTED_CHARACTER,
            f"has a plus sign inside ({_shown(text)}): a + may only start the number",
        )
    if not any(char.isdigit() for char in text):
        return _reject(
            raw, Rejection.NO_DIGITS, f"contains no digits ({_shown(text)}): fill in the number"
        )
    return None


# --- the reference path --------------------------------------------------------------------------

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


def _normalize_text(raw: str, text: str, region: str) -> str | InvalidNumber:
    """The reference path: pre-checks, then phonenumbers' parse and validation."""
    rejected = _precheck(raw, text)
    if rejected is not None:
        return rejected
    shown = _shown(text)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        reason = _PARSE_ERRORS.get(exc.error_type, Rejection.INVALID_FOR_COUNTRY)
        return _reject(raw, reason, _length_message(reason, shown, _A2_TO_A3[region]))
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    where = _country_label(number.country_code or 0)
    if phonenumbers.is_valid_number(number):
        if phonenumbers.region_code_for_number(number) in _A2_TO_A3:
            return e164
        return _reject(
            raw,
            Rejection.NO_COUNTRY,
            f"{e164} is a global service number with no country:"
            " v2 numbers belong to a country; remove it from the plan",
        )
    possible = phonenumbers.is_possible_number_with_reason(number)
    length_reason = _LENGTH_ERRORS.get(possible)
    if length_reason is not None:
        return _reject(raw, length_reason, _length_message(length_reason, shown, where))
    return _reject(
        raw,
        Rejection.INVALID_FOR_COUNTRY,
        f"not a valid {where} number ({shown}): check the digits"
        " (and the default country, if the number has no + and country code)",
    )


def normalize_number(raw: str, country_a3: str = DEFAULT_COUNTRY_A3) -> str:
    """Return the E.164 form of one raw number, or raise NumberRejectedError saying why not.

    `country_a3` is the country of numbers written without + and country code.
    """
    result = _normalize_text(raw, _clean(raw), region_for_a3(country_a3))
    if isinstance(result, InvalidNumber):
        raise NumberRejectedError(result)
    return result


# --- the bulk path -------------------------------------------------------------------------------

# The shapes North American numbers come in: 6672286710, 1-667-228-6710, +1 (667) 228-6710, ...
_NANP_SHAPE = re.compile(
    r"(\+?1[-. ]?)?\(?([2-9][0-9]{2})\)?[-. ]?([0-9]{3})[-. ]?([0-9]{4})", re.ASCII
)
# phonenumbers' national prefix for parsing in NANP regions: "1", optionally after a rule for
# seven-digit local numbers. Neither can match a ten-digit number starting with 2-9.
_NANP_NATIONAL_PREFIX = re.compile(r"(?:\((?:\[[0-9-]+\]|[0-9])\\d\{6\}\)\$\|)?1")


@dataclass(frozen=True, slots=True)
class _RegionRule:
    """One region's validity test, compiled from its metadata, as phonenumbers applies it."""

    region: str
    leading_digits: re.Pattern[str] | None
    valid_by_length: dict[int, re.Pattern[str]]

    def is_valid(self, nsn: str) -> bool:
        """phonenumbers' `_number_type_helper(nsn, metadata) != UNKNOWN`, in one match."""
        pattern = self.valid_by_length.get(len(nsn))
        return pattern is not None and pattern.fullmatch(nsn) is not None


def _compile_region_rule(region: str) -> _RegionRule:
    """Compile "matches the general pattern and at least one number type" for each length."""
    metadata = _metadata(region)
    general = metadata.general_desc
    assert general is not None  # every region has one
    candidates = [
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
    ]
    if not metadata.same_mobile_and_fixed_line_pattern:
        candidates.append(metadata.mobile)
    descs = [d for d in candidates if d is not None and d.national_number_pattern]
    valid_by_length: dict[int, re.Pattern[str]] = {}
    for length in range(1, 18):
        if general.possible_length and length not in general.possible_length:
            continue
        alternatives = [
            f"(?:{d.national_number_pattern})"
            for d in descs
            if not d.possible_length or length in d.possible_length
        ]
        if alternatives and general.national_number_pattern:
            valid_by_length[length] = re.compile(
                f"(?=(?:{general.national_number_pattern})\\Z)(?:{'|'.join(alternatives)})"
            )
    leading = metadata.leading_digits
    return _RegionRule(region, re.compile(leading) if leading else None, valid_by_length)


@cache
def _rules_for_code(country_code: int) -> tuple[_RegionRule, ...]:
    """The regions of a calling code in phonenumbers' order of preference, compiled once.

    Empty for unknown codes and for global service codes (+800 ...), which have no region.
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if not regions or regions[0] == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
        return ()
    return tuple(_compile_region_rule(region) for region in regions)


def _valid_region(country_code: int, nsn: str) -> str | None:
    """The region of a number if phonenumbers.is_valid_number would accept it, else None.

    The same decisions as region_code_for_number followed by is_valid_number_for_region.
    """
    rules = _rules_for_code(country_code)
    if len(rules) == 1:
        return rules[0].region if rules[0].is_valid(nsn) else None
    for rule in rules:
        if rule.leading_digits is not None:
            if rule.leading_digits.match(nsn):
                return rule.region if rule.is_valid(nsn) else None
        elif rule.is_valid(nsn):
            return rule.region
    return None


def _parses_nanp_plainly(region: str) -> bool:
    """Whether parse() in `region` reads "NXXNXXXXXX" and "1NXXNXXXXXX" as +1 NXXNXXXXXX."""
    metadata = _metadata(region)
    return (
        metadata.general_desc is not None
        and metadata.country_code == 1
        and metadata.international_prefix == "011"
        and _NANP_NATIONAL_PREFIX.fullmatch(metadata.national_prefix_for_parsing or "") is not None
        and max(metadata.general_desc.possible_length, default=0) == 10  # so 11 is too long
    )


@cache
def _nanp_fast_regions() -> frozenset[str]:
    """Default regions where ten or eleven bare digits may take the bulk path."""
    if not _parses_nanp_plainly("US"):  # "1NXXNXXXXXX" is read with the US rules
        return frozenset()
    return frozenset(r for r in COUNTRY_CODE_TO_REGION_CODE[1] if _parses_nanp_plainly(r))


def _normalize_text_bulk(raw: str, text: str, region: str) -> str | InvalidNumber:
    """The reference path with compiled validation; rejections come from the reference itself."""
    if _precheck(raw, text) is None:
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException:
            pass
        else:
            nsn = phonenumbers.national_significant_number(number)
            if _valid_region(number.country_code or 0, nsn) is not None:
                return f"+{number.country_code}{nsn}"
    return _normalize_text(raw, text, region)


def normalize_numbers(
    raws: Sequence[str], country_a3: str = DEFAULT_COUNTRY_A3
) -> list[str | InvalidNumber]:
    """Normalise many raw numbers: per item, what `normalize_number` returns or rejects.

    Same results as `normalize_number`, several times faster.
    """
    region = region_for_a3(country_a3)
    bare_digits_ok = region in _nanp_fast_regions()
    shape = _NANP_SHAPE.fullmatch
    clean = _clean
    results: list[str | InvalidNumber] = []
    append = results.append
    for raw in raws:
        text = clean(raw)
        match = shape(text)
        if match is not None:
            prefix, area, exchange, line = match.groups()
            if bare_digits_ok or (prefix is not None and prefix[0] == "+"):
                nsn = area + exchange + line
                if _valid_region(1, nsn) is not None:
                    append("+1" + nsn)
                else:  # parse() would read +1 and these digits too: let the reference say why
                    append(_normalize_text(raw, text, region))
                continue
        append(_normalize_text_bulk(raw, text, region))
    return results
