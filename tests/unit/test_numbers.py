"""Unit tests for orchestrator.plan.numbers: raw numbers in, E.164 or a specific rejection out."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from orchestrator.errors import InputError
from orchestrator.plan import bulk_path, country, e164_number, numbers, reference_path, rejection
from orchestrator.plan.numbers import (
    DEFAULT_COUNTRY_A3,
    InvalidNumber,
    NumberRejectedError,
    Rejection,
    area_code_string,
    country_a3_of,
    normalize_number,
    normalize_numbers,
    region_for_a3,
    to_legacy,
)

Normalizer = Callable[[str, str], "str | InvalidNumber"]


def _one(raw: str, country_a3: str) -> str | InvalidNumber:
    """The reference path, with its rejection turned back into data."""
    try:
        return normalize_number(raw, country_a3)
    except NumberRejectedError as exc:
        return exc.invalid


def _bulk(raw: str, country_a3: str) -> str | InvalidNumber:
    """The bulk path for a single number."""
    [result] = normalize_numbers([raw], country_a3)
    return result


@pytest.fixture(params=[_one, _bulk], ids=["normalize_number", "normalize_numbers"])
def normalize(request: pytest.FixtureRequest) -> Normalizer:
    """Run each table case through both the single and the bulk path."""
    return request.param  # type: ignore[no-any-return]


ACCEPTED = [
    # United States: the shapes of the issue.
    ("6672286710", "USA", "+16672286710"),
    ("16672286710", "USA", "+16672286710"),
    ("+1 (667) 228-6710", "USA", "+16672286710"),
    ("667.228.6710", "USA", "+16672286710"),
    ("1-667-228-6710", "USA", "+16672286710"),
    ("(919) 555-1234", "USA", "+19195551234"),
    ("+19199918388", "USA", "+19199918388"),
    ("1 800 356 9377", "USA", "+18003569377"),
    # Canada, and a Canadian number under the US default (same +1 plan).
    ("416-967-1111", "CAN", "+14169671111"),
    ("416-967-1111", "USA", "+14169671111"),
    ("6672286710", "CAN", "+16672286710"),
    # International numbers with +, whatever the default country.
    ("+441224003018", "USA", "+441224003018"),
    ("+61870933122", "USA", "+61870933122"),
    ("+44 20 7946 0958", "CAN", "+442079460958"),
    ("+1 667 228 6710", "GBR", "+16672286710"),
    # United Kingdom: national leading zero.
    ("01224 003018", "GBR", "+441224003018"),
    ("020 7946 0958", "GBR", "+442079460958"),
    ("07400 123456", "GBR", "+447400123456"),
    # Australia.
    ("08 7093 3122", "AUS", "+61870933122"),
    ("(02) 9374 4000", "AUS", "+61293744000"),
    ("0412 345 678", "AUS", "+61412345678"),
    # South Africa.
    ("021 555 1234", "ZAF", "+27215551234"),
    ("011 123 4567", "ZAF", "+27111234567"),
    ("082 123 4567", "ZAF", "+27821234567"),
    # Germany.
    ("030 123456", "DEU", "+4930123456"),
    ("089 12345678", "DEU", "+498912345678"),
    ("0151 12345678", "DEU", "+4915112345678"),
    # International dialling prefixes of the default country.
    ("011 44 1224 003018", "USA", "+441224003018"),
    ("00441224003018", "GBR", "+441224003018"),
    ("0011 61 8 7093 3122", "AUS", "+61870933122"),
    ("00 49 30 123456", "DEU", "+4930123456"),
    # Whitespace, byte-order marks, CSV and spreadsheet quoting.
    ("  6672286710  ", "USA", "+16672286710"),
    ("\t6672286710\r\n", "USA", "+16672286710"),
    ("\u00a06672286710\u00a0", "USA", "+16672286710"),
    ("667\u00a0228\u00a06710", "USA", "+16672286710"),
    ("\u202f+1\u2009667 228 6710", "USA", "+16672286710"),
    ("\ufeff6672286710", "USA", "+16672286710"),
    ("\ufeff+441224003018", "USA", "+441224003018"),
    ('"6672286710"', "USA", "+16672286710"),
    ("'6672286710", "USA", "+16672286710"),
    ('="6672286710"', "USA", "+16672286710"),
    ('" 01224 003018 "', "GBR", "+441224003018"),
    ("667\u2013228\u20136710", "USA", "+16672286710"),
]


@pytest.mark.parametrize(("raw", "country_a3", "expected"), ACCEPTED)
def test_accepts_real_world_formats(
    normalize: Normalizer, raw: str, country_a3: str, expected: str
) -> None:
    """Numbers as customers write them come out in E.164."""
    assert normalize(raw, country_a3) == expected


def test_default_country_is_usa() -> None:
    """Without a country, ten bare digits are read as a US number."""
    assert DEFAULT_COUNTRY_A3 == "USA"
    assert normalize_number("6672286710") == "+16672286710"
    assert normalize_numbers(["6672286710"]) == ["+16672286710"]


REJECTED = [
    ("", "USA", Rejection.EMPTY),
    ("   \t ", "USA", Rejection.EMPTY),
    ("\ufeff", "USA", Rejection.EMPTY),
    ('""', "USA", Rejection.EMPTY),
    ("---", "USA", Rejection.NO_DIGITS),
    ("( ) -", "USA", Rejection.NO_DIGITS),
    ("6.67229E+09", "USA", Rejection.SCIENTIFIC_NOTATION),
    ("1.99E+10", "USA", Rejection.SCIENTIFIC_NOTATION),
    ("6,67229E+09", "USA", Rejection.SCIENTIFIC_NOTATION),
    ("6672286710.0", "USA", Rejection.DECIMAL_SUFFIX),
    ("16672286710.00", "USA", Rejection.DECIMAL_SUFFIX),
    ("6672286710 x123", "USA", Rejection.EXTENSION),
    ("6672286710x123", "USA", Rejection.EXTENSION),
    ("667-228-6710 ext. 5", "USA", Rejection.EXTENSION),
    ("+16672286710;ext=5", "USA", Rejection.EXTENSION),
    ("6672286710 extension 12", "USA", Rejection.EXTENSION),
    ("6672286710 #12", "USA", Rejection.EXTENSION),
    ("6672286710,,12", "USA", Rejection.EXTENSION),
    ("1-800-FLOWERS", "USA", Rejection.LETTERS),
    ("1-800-356-WXYZ", "USA", Rejection.LETTERS),
    ("tel:+16672286710", "USA", Rejection.LETTERS),
    ("6672286710 (mobile)", "USA", Rejection.LETTERS),
    ("*6672286710", "USA", Rejection.UNEXPECTED_CHARACTER),
    ("6672286710#", "USA", Rejection.UNEXPECTED_CHARACTER),
    ("667+2286710", "USA", Rejection.UNEXPECTED_CHARACTER),
    ("++16672286710", "USA", Rejection.UNEXPECTED_CHARACTER),
    ("6672286710, 6672286711", "USA", Rejection.UNEXPECTED_CHARACTER),
    ("1", "USA", Rejection.TOO_SHORT),
    ("12", "USA", Rejection.TOO_SHORT),
    ("2286710", "USA", Rejection.TOO_SHORT),
    ("66722867", "USA", Rejection.TOO_SHORT),
    ("+1 667", "USA", Rejection.TOO_SHORT),
    ("667228671012", "USA", Rejection.TOO_LONG),
    ("+1 667 228 67101", "USA", Rejection.TOO_LONG),
    ("00441224003018", "USA", Rejection.TOO_LONG),
    ("+61 2 9374 400012", "USA", Rejection.WRONG_LENGTH),
    ("+999 1234567", "USA", Rejection.UNKNOWN_COUNTRY),
    ("011 999 1234567", "USA", Rejection.UNKNOWN_COUNTRY),
    ("+1 555 0100 000", "USA", Rejection.INVALID_FOR_COUNTRY),
    ("1234567890", "USA", Rejection.INVALID_FOR_COUNTRY),
    ("0234567890", "USA", Rejection.INVALID_FOR_COUNTRY),
    ("+1 (123) 456-7890", "GBR", Rejection.INVALID_FOR_COUNTRY),
    ("098 555 6666", "ZAF", Rejection.INVALID_FOR_COUNTRY),
    ("6672286710", "GBR", Rejection.INVALID_FOR_COUNTRY),
    ("+800 1234 5678", "USA", Rejection.NO_COUNTRY),
]


@pytest.mark.parametrize(("raw", "country_a3", "reason"), REJECTED)
def test_rejects_with_a_specific_reason(
    normalize: Normalizer, raw: str, country_a3: str, reason: Rejection
) -> None:
    """What is not a usable number is rejected with the reason that explains it."""
    result = normalize(raw, country_a3)
    assert isinstance(result, InvalidNumber)
    assert result.reason is reason
    assert result.raw == raw
    assert result.message
    assert "\n" not in result.message
    assert ":" in result.message  # "what is wrong: what to do"


def test_every_rejection_reason_is_tested() -> None:
    """The rejection table exercises every member of Rejection."""
    assert {reason for _, _, reason in REJECTED} == set(Rejection)


@pytest.mark.parametrize(
    ("raw", "country_a3", "fragment"),
    [
        ("6.67229E+09", "USA", "Excel scientific notation (6.67229E+09)"),
        ("6.67229E+09", "USA", "format the column as text and export again"),
        ("6672286710.0", "USA", "format the column as text"),
        ("1-800-FLOWERS", "USA", "'1-800-FLOWERS'"),
        ("+1 555 0100 000", "USA", "not a valid +1 (USA, ATG, AIA, …) number ('+1 555 0100 000')"),
        ("098 555 6666", "ZAF", "not a valid +27 (ZAF) number ('098 555 6666')"),
        ("667228671012", "USA", "write international numbers with +"),
        ("*6672286710", "USA", "'*'"),
        ("\x00667", "USA", "\\x00"),
        ("+999 1234567", "USA", "calling code after the + or international prefix"),
        ("667+2286710", "USA", "a + may only start the number"),
        ("12", "USA", "too short for a +1 (USA, ATG, AIA, …) number ('12')"),
    ],
)
def test_rejection_message_says_what_and_what_to_do(
    raw: str, country_a3: str, fragment: str
) -> None:
    """Each message names the problem, shows the offending text and the fix."""
    result = _one(raw, country_a3)
    assert isinstance(result, InvalidNumber)
    assert fragment in result.message


def test_rejected_number_raises_an_input_error_keeping_the_raw_text() -> None:
    """normalize_number raises NumberRejectedError, an InputError carrying the untouched raw."""
    raw = "\ufeff1-800-FLOWERS\u00a0"
    with pytest.raises(NumberRejectedError) as info:
        normalize_number(raw)
    assert isinstance(info.value, InputError)
    assert info.value.invalid == InvalidNumber(
        raw=raw,
        reason=Rejection.LETTERS,
        message=(
            "contains letters ('1-800-FLOWERS'): vanity and annotated numbers are not"
            " converted; write the number in digits"
        ),
    )
    assert "1-800-FLOWERS" in str(info.value)


def test_rejection_values_persist_lowercase() -> None:
    """Rejection values are the lowercase strings the state store keeps, and read back."""
    assert Rejection("scientific_notation") is Rejection.SCIENTIFIC_NOTATION
    assert str(Rejection.INVALID_FOR_COUNTRY) == "invalid_for_country"
    assert all(reason.value == reason.name.lower() for reason in Rejection)


def test_bulk_keeps_order_and_mixes_results() -> None:
    """normalize_numbers answers item by item, in input order, rejections included."""
    assert normalize_numbers(["+441224003018", "", "667.228.6710", "1-800-FLOWERS"], "USA") == [
        "+441224003018",
        InvalidNumber("", Rejection.EMPTY, "empty: fill in the number or remove the row"),
        "+16672286710",
        InvalidNumber(
            "1-800-FLOWERS",
            Rejection.LETTERS,
            "contains letters ('1-800-FLOWERS'): vanity and annotated numbers are not"
            " converted; write the number in digits",
        ),
    ]
    assert normalize_numbers([], "USA") == []


def test_bulk_accepts_any_sequence_of_strings() -> None:
    """A tuple works as well as a list."""
    first, second = normalize_numbers(("6672286710", "01224 003018"), "GBR")
    assert isinstance(first, InvalidNumber)
    assert first.reason is Rejection.INVALID_FOR_COUNTRY
    assert second == "+441224003018"


# --- countries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country_a3", "region"),
    [
        ("USA", "US"),
        ("CAN", "CA"),
        ("GBR", "GB"),
        ("AUS", "AU"),
        ("ZAF", "ZA"),
        ("DEU", "DE"),
        ("PRI", "PR"),
        ("CHE", "CH"),
        ("KOR", "KR"),
        ("GGY", "GG"),
        ("usa", "US"),
        (" gbr ", "GB"),
    ],
)
def test_region_for_a3(country_a3: str, region: str) -> None:
    """ISO alpha-3 codes map to phonenumbers' alpha-2 regions, case-insensitively."""
    assert region_for_a3(country_a3) == region


@pytest.mark.parametrize("country_a3", ["XXX", "US", "", "UK", "ATA"])
def test_region_for_a3_rejects_unknown_codes(country_a3: str) -> None:
    """An unknown or unsupported alpha-3 code is an InputError naming the code."""
    with pytest.raises(InputError, match="unknown country code") as info:
        region_for_a3(country_a3)
    assert repr(country_a3) in str(info.value)


def test_unknown_default_country_is_an_input_error_not_a_rejection() -> None:
    """A bad countryCodeA3 is a usage error for the whole batch, not per-number data."""
    with pytest.raises(InputError) as info:
        normalize_numbers(["6672286710"], "XYZ")
    assert not isinstance(info.value, NumberRejectedError)


def test_alpha3_table_covers_every_supported_region() -> None:
    """Every region phonenumbers supports has exactly one alpha-3 code."""
    regions = {region_for_a3(a3) for a3 in country.A3_TO_A2}
    assert regions == set(phonenumbers.SUPPORTED_REGIONS)
    assert len(country.A3_TO_A2) == len(phonenumbers.SUPPORTED_REGIONS)
    assert all(len(a3) == 3 and a3.isupper() for a3 in country.A3_TO_A2)


@pytest.mark.parametrize(
    ("e164", "country_a3"),
    [
        ("+441224003018", "GBR"),
        ("+61870933122", "AUS"),
        ("+16672286710", "USA"),
        ("+14169671111", "CAN"),
        ("+12423571234", "BHS"),
        ("+27215551234", "ZAF"),
        ("+4930123456", "DEU"),
    ],
)
def test_country_a3_of(e164: str, country_a3: str) -> None:
    """A valid E.164 number names its country in alpha-3."""
    assert country_a3_of(e164) == country_a3


@pytest.mark.parametrize("e164", ["+80012345678", "6672286710", "+15550100000"])
def test_country_a3_of_refuses_numbers_without_a_country(e164: str) -> None:
    """Global service numbers, non-E.164 text and invalid numbers have no country."""
    with pytest.raises(ValueError):
        country_a3_of(e164)


# --- rendering -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "legacy"),
    [
        ("+16672286710", "6672286710"),
        ("+14169671111", "4169671111"),
        ("+441224003018", "+441224003018"),
        ("+61870933122", "+61870933122"),
        ("+27215551234", "+27215551234"),
    ],
)
def test_to_legacy(e164: str, legacy: str) -> None:
    """LEGACY is ten digits for +1 numbers and E.164 for every other country."""
    assert to_legacy(e164) == legacy


@pytest.mark.parametrize(
    "text", ["6672286710", "+1 667 228 6710", "", "+0123", "+1234567890123456"]
)
def test_to_legacy_refuses_what_is_not_e164(text: str) -> None:
    """Only E.164 text can be rendered in LEGACY format."""
    with pytest.raises(ValueError):
        to_legacy(text)


@pytest.mark.parametrize(
    ("e164", "area"),
    [
        ("+19195551234", "+1919"),
        ("+16672286710", "+1667"),
        ("+14169671111", "+1416"),
        ("+12423571234", "+1242"),
        ("+27215551234", "+27021"),
        ("+27111234567", "+27011"),
        ("+441224003018", "+4401224"),
        ("+442079460958", "+44020"),
        ("+61870933122", "+6108"),
        ("+4930123456", "+49030"),
        ("+498912345678", "+49089"),
        ("+390612345678", "+3906"),
        ("+73011234567", "+7301"),
        ("+3612345678", "+361"),
        ("+18003569377", None),
        ("+447400123456", None),
        ("+61412345678", None),
        ("+27821234567", None),
    ],
)
def test_area_code_string(e164: str, area: str | None) -> None:
    """v2's area code is the country code plus the area code as dialled nationally."""
    assert area_code_string(e164) == area


def test_area_code_string_refuses_the_guides_made_up_example() -> None:
    """The guide's +270985556666 is not a valid number (098 is no South African area code)."""
    with pytest.raises(ValueError, match="not a valid phone number"):
        area_code_string("+270985556666")


# --- purity --------------------------------------------------------------------------------------


NUMBER_MODULES = [numbers, country, rejection, reference_path, bulk_path, e164_number]


@pytest.mark.parametrize("module", NUMBER_MODULES, ids=lambda m: m.__name__)
def test_module_imports_nothing_impure(module: ModuleType) -> None:
    """The number modules import only the standard library, phonenumbers, the error tree and
    each other."""
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {
        "__future__",
        "re",
        "collections.abc",
        "dataclasses",
        "enum",
        "functools",
        "phonenumbers",
        "orchestrator.errors",
        *(m.__name__ for m in NUMBER_MODULES),
    }


# --- the bulk path agrees with the reference ------------------------------------------------------

NANP_A3 = [country.A2_TO_A3[region] for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]]
OTHER_A3 = ["GBR", "AUS", "ZAF", "DEU", "FRA", "ITA", "MEX", "JPN", "RUS", "FIN", "CUW", "GGY"]
COUNTRIES = st.sampled_from(NANP_A3) | st.sampled_from(OTHER_A3)

_prefix = st.sampled_from(["", "1", "+1", "1-", "+1 ", "1.", "1 (", "+1(", "(", "+", "11", "0"])
_separator = st.sampled_from(["", " ", "-", ".", "  ", "/", ") "])
_wrap = st.sampled_from(["{}", " {} ", '"{}"', "\ufeff{}", "{}\u00a0", "{}.0", "{} x12", "{}9"])
_any_digits = st.text(alphabet="0123456789", max_size=5)


def _nanp_shaped(
    area: st.SearchStrategy[str], exchange: st.SearchStrategy[str], line: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    """Numbers in North American shapes, from the given parts."""
    return st.builds(
        lambda prefix, area, sep1, exchange, sep2, line, wrap: wrap.format(
            f"{prefix}{area}{sep1}{exchange}{sep2}{line}"
        ),
        _prefix,
        area,
        _separator,
        exchange,
        _separator,
        line,
        _wrap,
    )


# Mostly valid: real area codes (US, CA, Caribbean, toll-free), plausible exchanges.
plausible_nanp = _nanp_shaped(
    st.sampled_from(["212", "416", "667", "919", "242", "787", "876", "800", "604", "340"]),
    st.from_regex(r"[2-9][0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
)
# Near misses: any digits in each part.
messy_nanp = _nanp_shaped(_any_digits, _any_digits, _any_digits)
free_text = st.text(
    alphabet="0123456789" * 3 + "+-(). /\u00a0\t\ufeff\"',;#xXeE*abcFLOWERS",
    max_size=20,
)
# International and national shapes for the other countries, with and without a trunk zero.
international = st.builds(
    lambda lead, code, separator, body: f"{lead}{code}{separator}{body}",
    st.sampled_from(["+", "+", "00", "011 ", "+0", "+ "]),
    st.sampled_from(
        ["44", "61", "49", "27", "33", "39", "52", "7", "81", "358", "599", "800", "99"]
    ),
    st.sampled_from(["", " ", "-", " (0)", " 0"]),
    st.from_regex(r"[0-9]{1,4}( ?[0-9]{2,4}){0,3}", fullmatch=True),
)
national = st.from_regex(r"0[1-9][0-9]{1,3}[ -]?[0-9]{3,4}[ -]?[0-9]{0,4}", fullmatch=True)
raw_numbers = st.lists(
    st.sampled_from(
        [free_text, messy_nanp, plausible_nanp, plausible_nanp, international, national]
    ).flatmap(lambda s: s),
    max_size=20,
)


@settings(max_examples=400, deadline=None)
@given(raws=raw_numbers, country_a3=COUNTRIES)
def test_bulk_path_equals_reference_path(raws: list[str], country_a3: str) -> None:
    """normalize_numbers gives exactly what normalize_number gives, item by item."""
    assert normalize_numbers(raws, country_a3) == [_one(raw, country_a3) for raw in raws]


@pytest.mark.slow
@pytest.mark.parametrize("country_a3", [*NANP_A3, "GBR"])
def test_bulk_path_equals_reference_for_every_area_code(country_a3: str) -> None:
    """For every three-digit area code and each common shape, both paths agree exactly."""
    raws = [
        shape.format(npa=f"{npa:03d}", nxx=nxx)
        for npa in range(1000)
        for nxx, shape in [
            ("228", "{npa}{nxx}6710"),
            ("555", "1{npa}{nxx}0123"),
            ("200", "+1 ({npa}) {nxx}-9999"),
        ]
    ]
    assert normalize_numbers(raws, country_a3) == [_one(raw, country_a3) for raw in raws]


def _example_numbers() -> list[tuple[str, str, str]]:
    """phonenumbers' example number of every region and type: (E.164, region's alpha-3, region)."""
    examples = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
                examples.append((e164, country.A2_TO_A3[region], region))
    return examples


EXAMPLES = _example_numbers()


def test_every_example_number_of_every_region_is_accepted_in_three_formats() -> None:
    """Each region's example numbers come back as themselves from E.164, international, national."""
    for e164, country_a3, _ in EXAMPLES:
        example = phonenumbers.parse(e164)
        national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
        international = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
        raws = [e164, international, national]
        assert normalize_numbers(raws, country_a3) == [e164, e164, e164], (country_a3, raws)
        assert [normalize_number(raw, country_a3) for raw in raws] == [e164, e164, e164]


def test_every_example_number_belongs_to_a_country_of_its_calling_code() -> None:
    """country_a3_of names a country that shares the example's calling code.

    Not always the example's own: the toll-free +1 800 example of Antigua is also a US number.
    """
    for e164, _, region in EXAMPLES:
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[
            phonenumbers.country_code_for_region(region)
        ]
        assert region_for_a3(country_a3_of(e164)) in regions, e164


def test_global_service_numbers_are_rejected_as_having_no_country() -> None:
    """+800, +808, +870 ... numbers are valid E.164 but belong to no country v2 can hold."""
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is None:
            continue
        raw = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
        for result in (_one(raw, "USA"), _bulk(raw, "USA")):
            assert isinstance(result, InvalidNumber), raw
            assert result.reason is Rejection.NO_COUNTRY
