"""Sandbox: `importTnChecker`, the synchronous pre-flight of an import."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

PATH = "importTnChecker"


def checker_body(*numbers: str, site: str | None = "486", peer: str | None = None) -> str:
    tns = "".join(f"<TelephoneNumber>{n}</TelephoneNumber>" for n in numbers)
    site_el = f"<SiteId>{site}</SiteId>" if site else ""
    peer_el = f"<SipPeerId>{peer}</SipPeerId>" if peer else ""
    return (
        f"<ImportTnCheckerPayload><TelephoneNumbers>{tns}</TelephoneNumbers>{site_el}"
        f"{peer_el}</ImportTnCheckerPayload>"
    )


def test_splits_importable_numbers_from_errors(sandbox, sandbox_client):
    """Importable numbers are listed; the others are grouped under ImportTnErrors by code."""
    sandbox.state.seed(
        {
            "numbers": [
                {"number": "+14109235436", "kind": "bandwidth"},
                {"number": "+14104685864", "kind": "bandwidth"},
            ],
            "failure_rules": [
                {"kind": "import", "numbers": ["+13032281002"], "code": 19001},
                {"kind": "import", "numbers": ["+13032281003"], "code": 7518, "checker": False},
            ],
        }
    )
    r = sandbox_client.post(
        PATH,
        content=checker_body(
            "+13032281000", "+14109235436", "+14104685864", "+13032281002", "+13032281003"
        ),
    )
    assert r.status_code == 200
    root = ET.fromstring(r.content)
    assert root.tag == "ImportTnCheckerResponse"
    payload = root.find("ImportTnCheckerPayload")
    assert [t.text for t in payload.findall("TelephoneNumbers/TelephoneNumber")] == [
        "+13032281000",
        "+13032281003",
    ]
    errors = {
        e.findtext("Code"): [t.text for t in e.iter("TelephoneNumber")]
        for e in payload.findall("ImportTnErrors/ImportTnError")
    }
    assert errors == {"19006": ["+14109235436", "+14104685864"], "19001": ["+13032281002"]}
    assert payload.findtext("ImportTnErrors/ImportTnError/Description") == (
        "Bandwidth numbers cannot be imported by this account at this time."
    )


def test_all_passing_omits_import_tn_errors(sandbox_client):
    """When every number passes there is no ImportTnErrors element."""
    root = ET.fromstring(sandbox_client.post(PATH, content=checker_body("+13032281000")).content)
    assert root.find("ImportTnCheckerPayload/ImportTnErrors") is None


@pytest.mark.parametrize(
    ("numbers", "codes"),
    [
        ((), ["7316"]),
        (("+13032281000", "+13032281000"), ["7360"]),
        (("61746052083", "1919999"), ["7201", "7201"]),  # not E.164: the schema's pattern
        (("+1919999",), ["7201"]),  # E.164-shaped, not a NANP number: the business rule
        (tuple(f"+1303228{i:04d}" for i in range(5001)), ["7314"]),
    ],
)
def test_bad_lists_answer_400_repeated_errors(sandbox_client, numbers, codes):
    """Empty, duplicate, invalid or oversize lists answer 400 with repeated Errors (no
    ProcessingStatus)."""
    r = sandbox_client.post(PATH, content=checker_body(*numbers))
    root = ET.fromstring(r.content)
    assert r.status_code == 400
    assert root.tag == "ImportTnCheckerResponse"
    assert root.find("ProcessingStatus") is None
    assert [e.findtext("Code") for e in root.findall("Errors")] == codes


def test_invalid_number_text_names_the_number(sandbox_client):
    """7201's description names the offending number, as in the documented example."""
    root = ET.fromstring(sandbox_client.post(PATH, content=checker_body("61746052083")).content)
    assert (
        root.findtext("Errors/Description") == "61746052083 is not a valid NANPA telephone number."
    )


def test_unknown_site_is_7309(sandbox_client):
    """An unknown SiteId answers 400 7309."""
    r = sandbox_client.post(PATH, content=checker_body("+13032281000", site="999"))
    assert r.status_code == 400
    assert [e.findtext("Code") for e in ET.fromstring(r.content).findall("Errors")] == ["7309"]
