"""Phone numbers as customers really have them, turned into E.164 (and back into LEGACY form).

This module is the one door to numbers: raw number strings stop here, past it only E.164 values
travel. It re-exports what the rest of bwmigrate uses from the modules that own each part:

- `country`: the ISO 3166 alpha-3 -> phonenumbers region table (`region_for_a3`).
- `rejection`: the reasons a number is rejected (`Rejection`, `InvalidNumber`,
  `NumberRejectedError`), the cleaning of raw text and the pre-checks for artefacts.
- `reference_path`: `normalize_number`, the reference: pre-checks for spreadsheet and v1
  artefacts, then `phonenumbers.parse` and `phonenumbers.is_valid_number`.
- `bulk_path`: `normalize_numbers` recognises the common North American shapes with one
  regular expression, builds the national number directly and validates it against
  phonenumbers' own metadata, compiled once per region. Whatever it does not recognise, or does
  not find valid, goes through the reference path, so every rejection is the reference's.
- `e164_number`: LEGACY rendering, the v2 area-code string, the country of a number, and API answers
  read back into E.164.

Pure: no I/O, no clock, no environment. It and those modules import only the standard library,
phonenumbers, `orchestrator.errors` and each other (tests/unit/test_numbers.py checks it); never
httpx, anyio, sqlmodel, rich or click, nor any other module of bwmigrate.
"""

from __future__ import annotations

from orchestrator.plan.bulk_path import normalize_numbers
from orchestrator.plan.country import DEFAULT_COUNTRY_A3, region_for_a3
from orchestrator.plan.e164_number import area_code_string, country_a3_of, e164_from_api, to_legacy
from orchestrator.plan.reference_path import normalize_number
from orchestrator.plan.rejection import InvalidNumber, NumberRejectedError, Rejection

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
