"""The scan rule table: each rule fires on v1 usage and never on the v2 equivalent."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from orchestrator.v1.scan_report import ScanStats, render_json, render_sarif, render_text
from orchestrator.v1.scan_rules import FIXABLE, RULES, apply_fixes, scan_text

SCAN = Path(__file__).parents[1] / "fixtures" / "scan"
BW = "# talks to bandwidth\n"  # marks a file as Bandwidth code (rules on plain identifiers)

# (rule, v1 text that must fire, v2 text that must not fire)
CASES = [
    ("BW001", "BASE = 'https://dashboard.bandwidth.com/api/v1/accounts'",
     "BASE = 'https://api.bandwidth.com/api/v2/accounts'"),
    ("BW001", "url: https://dashboard.bandwidth.com/api/accounts/1/tns",
     "token: https://api.bandwidth.com/api/v1/oauth2/token"),
    ("BW001", 'new Uri("https://dashboard.bandwidth.com/v1.0/")',
     'new Uri("https://dashboard.bandwidth.com/api/v2/")'),
    ("BW002", "GET https://dashboard.bandwidth.com/api/v1/accounts/1/addresses?type=e911",
     "GET https://api.bandwidth.com/api/v2/accounts/1/e911Addresses"),
    ("BW002", BW + 'get(f"/accounts/{a}/addresses?type=e911")',
     BW + "get('https://api.bandwidth.com/api/v2/accounts/1/addresses')"),
    ("BW003", "POST /accounts/1/importTnOrders", "POST /accounts/1/importTnOrders/messaging"),
    ("BW003", 'IMPORT = "importTnOrders";', 'VOICE = "importTnOrders/voice";'),
    ("BW004", "POST /accounts/1/removeImportedTnOrders",
     "POST /accounts/1/removeImportedTnOrders/messaging"),
    ("BW004", "GET /accounts/1/removeImportedTnOrders/{id}",
     '{"orderType": "removeImportedTnOrders"}'),
    ("BW005", "POST /accounts/1/externalTns",
     "POST /accounts/1/importTnOrders/messaging"),
    ("BW005", "<ExternalTnsOrder><Action>REMOVE</Action></ExternalTnsOrder>",
     "<ExternalTnsOrder><SiteId>743</SiteId></ExternalTnsOrder>"),
    ("BW006", BW + "GET /inserviceNumbers?areaCode=919",
     BW + "GET /inserviceNumbers?countryCodeA3=USA&areaCode=919"),
    ("BW006", BW + 'params = {"areaCode": "919"}',
     BW + 'params = {"countryCodeA3": "USA", "areaCode": "919"}'),
    ("BW007", "<SipPeerTelephoneNumber><MessagingSettings><SmsEnabled>true</SmsEnabled>"
     "</MessagingSettings></SipPeerTelephoneNumber>",
     "<TelephoneNumberDetails><MessagingSettings><SmsEnabled>true</SmsEnabled>"
     "</MessagingSettings></TelephoneNumberDetails>"),
    ("BW007", "sip_peer.update_tn(tn, messaging_settings: { sms_enabled: true })",
     "tnoptions.create(sms: 'on') # bandwidth; details.messaging_settings"),
    ("BW008", "<TelephoneNumber>9199918388</TelephoneNumber>",
     "<TelephoneNumber>+19199918388</TelephoneNumber>"),
    ("BW008", BW + 'payload = {"tn": "9195551234"}', BW + 'payload = {"tn": "+19195551234"}'),
    ("BW008", BW + "GET /tns/9195551234/tndetails", BW + "GET /tns/%2B19195551234/tndetails"),
    ("BW009", BW + "if len(tn) == 10:", BW + "if E164.match(tn):"),
    ("BW009", BW + r"TN = re.compile(r'^\d{10}$')", BW + r"TN = re.compile(r'^\+1\d{10}$')"),
    ("BW009", BW + "if len(n) == 10:\n    return n", BW + "if len(n) == 10:\n    return '+1' + n"),
    ("BW010", "<Subscription><OrderType>orders</OrderType><CallbackSubscription><URL>u</URL>"
     "</CallbackSubscription></Subscription>",
     "<Subscription><OrderType>orders</OrderType><CallbackSubscription><URL>u</URL>"
     "<NumberFormat>LEGACY</NumberFormat></CallbackSubscription></Subscription>"),
    ("BW011", "<Instance><OutputFormat>pdf</OutputFormat></Instance>",
     "<Instance><OutputFormat>pdf</OutputFormat><NumberFormat>LEGACY</NumberFormat></Instance>"),
    ("BW012", BW + "curl -u '{userName}:{password}' https://x",
     BW + "curl -H 'Authorization: Bearer $TOKEN' https://x"),
    ("BW012", BW + "requests.get(url, auth=HTTPBasicAuth(u, p))",
     BW + "requests.post(TOKEN, auth=HTTPBasicAuth(cid, secret),\n"
     "              data={'grant_type': 'client_credentials'})"),
    ("BW013", BW + "npa = int(area_code)", BW + "npa: str = area_code"),
    ("BW013", BW + '{"areaCode": 919}', BW + '{"areaCode": "+1919"}'),
    ("BW013", BW + "npa = Integer(area_code)", BW + "npa = String(area_code)"),
    ("BW013", BW + "npa, err := strconv.ParseInt(areaCode, 10, 32)", BW + "npa := areaCode"),
    ("BW013", BW + "long npa = Long.parseLong(areaCode);", BW + "String npa = areaCode;"),
    ("BW013", BW + "val npa = areaCode.toInt()", BW + "val npa = areaCode"),
    ("BW013", BW + "npa = int(npa)", BW + "npa = str(npa)"),
    ("BW013", BW + "const npa = parseInt(row.npa, 10);", BW + "const npa = row.npa;"),
    ("BW016", BW + "npa = int(tn[0:3])", BW + "npa = phonenumbers.parse(tn).national_number"),
    ("BW016", BW + "area = int(number[:3])", BW + "area = number[:5]"),
    ("BW016", BW + "npa = int(str(order.tn)[1:4])", BW + "npa = str(order.tn)[1:4]"),
    ("BW016", BW + "const npa = parseInt(tn.substring(0, 3), 10);",
     BW + "const npa = tn.substring(0, 5);"),
    ("BW016", BW + "const npa = Number(phoneNumber.slice(2, 5));",
     BW + "const npa = phoneNumber.slice(2, 5);"),
    ("BW016", BW + "int npa = Integer.parseInt(tn.substring(0, 3));",
     BW + "String npa = tn.substring(0, 3);"),
    ("BW016", BW + "var npa = int.Parse(tn.Substring(0, 3));",
     BW + "var npa = tn.Substring(0, 3);"),
    ("BW016", BW + "var npa = Convert.ToInt32(telephoneNumber.Substring(2, 3));",
     BW + "var npa = telephoneNumber.Substring(2, 3);"),
    ("BW016", BW + "npa = tn[0, 3].to_i", BW + "npa = tn[0, 3]"),
    ("BW016", BW + "npa = tn[0..2].to_i", BW + "npa = tn[0..2]"),
    ("BW016", BW + "npa = Integer(did[0...3])", BW + "npa = did[0...3]"),
    ("BW016", BW + "npa, _ := strconv.Atoi(tn[:3])", BW + "npa := tn[:3]"),
    ("BW016", BW + "$npa = intval(substr($tn, 0, 3));", BW + "$npa = substr($tn, 0, 3);"),
    ("BW016", BW + "$npa = (int) substr($phone, 1, 3);", BW + "$npa = substr($phone, 1, 3);"),
    ("BW016", BW + "npa = int(tn[-10:-7])", BW + "npa = tn[-10:-7]"),
    ("BW014", "for tn in doc.findall('CompletedTelephoneNumbers/TelephoneNumber'):",
     "e164 = [phonenumbers.parse(t) for t in doc.findall('CompletedTelephoneNumbers/x')]"),
    ("BW015", "rows = report[1:]  # skip 'Iris Phone Number Inventory Report'",
     "rows = report[1:]  # Phone Number Inventory Report rows are E.164"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "v1", "v2"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_rule_fires_on_v1_and_not_on_v2(rule, v1, v2):
    """Each rule finds its v1 usage, and the v2 form of the same code is clean of it."""
    assert rule in {f.rule.id for f in scan_text("x", v1)}
    assert rule not in {f.rule.id for f in scan_text("x", v2)}


# Ordinary integers in Bandwidth code: neither area-code rule may fire on any of them.
NOT_AREA_CODES = [
    "page = int(request.args.get('page', 1))",
    "port = int(os.environ['PORT'])",
    "count = int(row[3])",
    "prefix = int(version[0:3])",
    "year = int(date[:4])",
    "batch = int(args.batch_size)",
    "total = int(response.headers['X-Total-Count'])",
    "retry = int(resp.headers.get('Retry-After', '1'))",
    "const page = parseInt(params.page, 10);",
    "const n = Number(body.count);",
    "const code = parseInt(status.slice(0, 3), 10);",
    "int limit = Integer.parseInt(args[0]);",
    "int code = Integer.parseInt(line.substring(9, 12));",
    "var n = int.Parse(Console.ReadLine());",
    'var size = Convert.ToInt32(config["BatchSize"]);',
    "count = params[:count].to_i",
    "page = params[:page].to_i",
    "major = version[0, 1].to_i",
    'n, err := strconv.Atoi(os.Getenv("BATCH"))',
    "code, _ := strconv.Atoi(status[:3])",
    "$page = intval($_GET['page']);",
    "$limit = (int) $argv[1];",
    "tn_count = int(len(tns))",
    "orders = int(total_tns / batch)",
    "num = int(numbers_per_order)",
    "npa_count = int(stats['npa_count'])",
    "n = int(phone_count[0:3])",
]


@pytest.mark.parametrize("code", NOT_AREA_CODES)
def test_area_code_rules_ignore_ordinary_integers(code):
    """int(), parseInt, to_i, Atoi ... of counts, pages, ports, versions and status codes in
    Bandwidth code are not area codes: no BW013 or BW016."""
    found = {f.rule.id for f in scan_text("x", BW + code + "\n")}
    assert not found & {"BW013", "BW016"}, (code, found)


def test_every_rule_has_a_case_and_fires_in_the_v1_samples():
    """The rule table is covered: every rule has a case here and fires in the v1 sample tree."""
    assert {c[0] for c in CASES} == {r.id for r in RULES}
    fired = set()
    for path in (SCAN / "v1").rglob("*"):
        if path.is_file():
            fired |= {f.rule.id for f in scan_text(str(path), path.read_text())}
    assert fired == {r.id for r in RULES}


def test_v2_samples_have_no_findings():
    """The v2 sample tree (every language) gives no finding at all."""
    found = [
        (str(path), f.rule.id, f.line)
        for path in (SCAN / "v2").rglob("*")
        if path.is_file()
        for f in scan_text(str(path), path.read_text())
    ]
    assert found == []


def test_finding_position_and_replacement():
    """Findings give 1-based line and column, the snippet, and the v2 replacement."""
    text = "x = 1\n  url = 'https://dashboard.bandwidth.com/api/v1/accounts/1/importTnOrders'\n"
    found = scan_text("a.py", text)
    assert [(f.rule.id, f.line, f.column) for f in found] == [("BW001", 2, 10), ("BW003", 2, 60)]
    assert found[0].replacement == "https://api.bandwidth.com/api/v2"
    assert found[0].snippet.startswith("url = ")
    assert found[1].end_column == 74


def test_fixes_rewrite_only_safe_rules_and_rescan_clean():
    """Base URL and path fixes apply together; the result re-scans clean for fixable rules."""
    text = (
        "curl https://dashboard.bandwidth.com/api/accounts/1/addresses?type=e911&page=1\n"
        "curl https://dashboard.bandwidth.com/v1.0/accounts/1/importTnOrders/abc/loas\n"
        "curl https://dashboard.bandwidth.com/api/v1/accounts/1/externalTns\n"
    )
    new, applied = apply_fixes(text, scan_text("s.sh", text))
    assert applied == 5
    assert new.splitlines() == [
        "curl https://api.bandwidth.com/api/v2/accounts/1/e911Addresses?page=1",
        "curl https://api.bandwidth.com/api/v2/accounts/1/importTnOrders/messaging/abc/loas",
        "curl https://api.bandwidth.com/api/v2/accounts/1/externalTns",
    ]
    after = scan_text("s.sh", new)
    assert not [f for f in after if f.rule.id in FIXABLE]
    assert [f.rule.id for f in after] == ["BW005"]  # not mechanical: reported, not guessed
    assert apply_fixes(new, after) == (new, 0)


def test_sarif_output_validates_against_the_official_schema():
    """The SARIF log of the v1 samples validates against the OASIS SARIF 2.1.0 schema."""
    schema = json.loads((SCAN / "sarif-schema-2.1.0.json").read_text())
    findings = []
    for path in sorted((SCAN / "v1").rglob("*")):
        if path.is_file():
            findings += scan_text(str(path.relative_to(SCAN)), path.read_text())
    log = json.loads(render_sarif(findings, ScanStats(files=15, bytes=1), "file:///repo/"))
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    assert len(run["results"]) == len(findings)
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.id for r in RULES]
    fixable = [r for r in run["results"] if "fixes" in r]
    assert fixable and all(r["ruleId"] in FIXABLE for r in fixable)


def test_sarif_schema_rejects_a_broken_log():
    """The vendored schema is strict enough to catch a result without a message."""
    schema = json.loads((SCAN / "sarif-schema-2.1.0.json").read_text())
    log = json.loads(render_sarif(scan_text("a", "<TelephoneNumber>9199918388</TelephoneNumber>"),
                                  ScanStats(), "file:///r/"))  # fmt: skip
    del log["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)


def test_text_and_json_outputs_summarise_by_rule():
    """Text groups by file and ends with per-rule counts; JSON carries the same counts."""
    findings = scan_text(
        "a.sh", "curl https://dashboard.bandwidth.com/api/v1/accounts/1/externalTns\n"
    )
    text = render_text(findings, ScanStats(files=1, bytes=70))
    assert text.startswith("a.sh\n  1:6  error")
    assert "2 findings in 1 file (scanned 1 file" in text
    assert "  BW001 v1-base-url" in text and "fixable with --fix" in text
    doc = json.loads(render_json(findings, ScanStats(files=1, bytes=70)))
    assert doc["summary"]["by_rule"] == {"BW001": 1, "BW005": 1}
    assert doc["findings"][0]["replacement"] == "https://api.bandwidth.com/api/v2"


def test_area_code_rules_ignore_prose_about_numbers_and_npas():
    """A comment such as "an E.164 number (NANP: NPA not 0/1)" or a rule's own help text is
    not code: "number (" is no call."""
    prose = (
        BW + '"""True when `text` is an E.164 number (NANP numbers: +1 and ten digits, NPA not '
        '0/1)."""\n# Integer (NPA) of a number, as the v1 docs describe it\n'
    )
    assert not {f.rule.id for f in scan_text("x", prose)} & {"BW013", "BW016"}
