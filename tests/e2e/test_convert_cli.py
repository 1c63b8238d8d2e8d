"""`bwmigrate convert` as a subprocess: writes a plan `bwmigrate plan` accepts, or nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

V1 = Path(__file__).parents[1] / "fixtures" / "v1"


def bwmigrate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


TEMPLATE_SUBSCRIBER = (
    '# subscriber = { name = "", house_number = "", street_name = "", city = "", '
    'state_code = "", zip = "" }'
)


def fill_in(plan: Path) -> None:
    """Do what convert asks of the user: fill in and uncomment the subscriber and LOA person."""
    text = plan.read_text()
    assert TEMPLATE_SUBSCRIBER in text
    plan.write_text(
        text.replace(
            TEMPLATE_SUBSCRIBER,
            'subscriber = { name = "Acme", house_number = "1", street_name = "Main", '
            'city = "Cary", state_code = "NC", zip = "27511" }',
        ).replace('# loa_authorizing_person = ""', 'loa_authorizing_person = "Jo Smith"')
    )


def test_every_input_kind_converts_and_round_trips_through_plan(tmp_path):
    """All sample kinds at once: the plan is written with the subscriber and LOA person to fill
    in (`plan` refuses it, naming the step, until then), and `bwmigrate plan --json` accepts it
    once they are."""
    out = tmp_path / "plans" / "acme.toml"
    done = bwmigrate(
        "convert",
        str(V1 / "external_tns_orders_listing.xml"),
        str(V1 / "external_tns_import.xml"),
        str(V1 / "external_tns_bodies_many.xml"),
        str(V1 / "curl_external_tns.sh"),
        str(V1 / "import_tn_order.xml"),
        str(V1 / "remove_imported_tn_order.xml"),
        str(V1 / "captures"),
        str(V1 / "sippeer_tn_full_number.xml"),
        str(V1 / "sippeer_requests.log"),
        str(V1 / "inventory_report_columns.csv"),
        str(V1 / "numbers.txt"),
        "--list-step", "import", "--list-step", "remove",
        "--out", str(out), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["rejected"] == 0 and facts["failed_on_v1"] == 2
    assert "wrote" in done.stderr and "report:" in done.stderr
    needing = facts["import_details_needed"]
    assert needing and all(name.startswith("import-") for name in needing)
    assert "to fill in: subscriber and loa_authorizing_person under [import_defaults]" in (
        done.stderr
    )
    refused = bwmigrate("plan", str(out))
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert f"('{needing[0]}')" in line and "subscriber, loa_authorizing_person" in line
    report = (out.parent / "acme.report.md").read_text()
    assert "## To fill in before `bwmigrate plan`: subscriber and LOA person" in report
    fill_in(out)
    planned = bwmigrate("plan", str(out), "--json")
    assert planned.returncode == 0, planned.stderr
    dry = json.loads(planned.stdout)
    assert dry["numbers"]["valid"] == sum(s["numbers"] for s in facts["steps"])
    assert {s["step"] for s in dry["steps"]} == {s["name"] for s in facts["steps"]}
    assert (out.parent / "acme.report.md").read_text().startswith("# Conversion report: acme")
    remove_csv = (out.parent / "acme.numbers" / "remove.csv").read_text()
    assert f"+12122177954,{V1 / 'numbers.txt'},4," in remove_csv


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    """One bad file among good ones: exit 2, one line naming file and element, no plan."""
    out = tmp_path / "acme.toml"
    done = bwmigrate(
        "convert", str(V1 / "external_tns_import.xml"), str(V1 / "bad" / "bad_action.xml"),
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "bad_action.xml:3: <Action>" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_keep_going_skips_bad_inputs_and_reports_them(tmp_path):
    """With --keep-going the plan is written from the good inputs; exit 1; skips reported."""
    out = tmp_path / "acme.toml"
    done = bwmigrate(
        "convert", str(V1 / "external_tns_import.xml"), str(V1 / "bad" / "bad_action.xml"),
        str(V1 / "bad" / "truncated.xml"), str(V1 / "bad" / "export.xlsx"),
        str(tmp_path / "missing.xml"), "--out", str(out), "--keep-going", "--account", "1",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = (tmp_path / "acme.report.md").read_text()
    assert "## Inputs skipped (--keep-going): 4" in report
    for name in ("bad_action.xml", "truncated.xml", "export.xlsx", "missing.xml"):
        assert name in report
    fill_in(out)
    assert bwmigrate("plan", str(out)).returncode == 0


def test_rejected_numbers_exit_1_and_are_listed(tmp_path):
    """A list with an unusable number: the plan has the rest, the report says why (exit 1)."""
    out = tmp_path / "p.toml"
    done = bwmigrate(
        "convert", str(V1 / "bad" / "invalid_numbers.txt"), "--list-step", "sms-off",
        "--account", "9900012", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = (tmp_path / "p.report.md").read_text()
    assert "## Rejected numbers: 2" in report
    assert "`919-FAX-LINE`" in report and "scientific_notation" in report


def test_existing_plan_is_not_replaced_without_force(tmp_path):
    """A second conversion to the same plan needs --force; with it, the plan is replaced."""
    out = tmp_path / "acme.toml"
    args = ("convert", str(V1 / "external_tns_import.xml"), "--account", "1", "--out", str(out))
    assert bwmigrate(*args).returncode == 0
    again = bwmigrate(*args)
    assert again.returncode == 2 and "--force" in again.stderr
    assert bwmigrate(*args, "--force").returncode == 0


def test_list_without_step_is_a_usage_error(tmp_path):
    """A number list says nothing about its numbers: --list-step is required."""
    done = bwmigrate(
        "convert", str(V1 / "numbers.txt"), "--account", "1", "--out", str(tmp_path / "p.toml")
    )
    assert done.returncode == 2
    assert "--list-step" in done.stderr


def test_from_api_reads_the_live_listing(tmp_path, sandbox):
    """--from-api against the sandbox's v1 listing, credentials from the environment only."""
    creds = sandbox.config.credentials
    body = (
        "<ExternalTnsOrder><SiteId>743</SiteId><Action>IMPORT</Action><TelephoneNumbers>"
        "<TelephoneNumber>9198064286</TelephoneNumber></TelephoneNumbers></ExternalTnsOrder>"
    )
    r = httpx.post(
        f"{sandbox.base_url}/api/v1/accounts/9900012/externalTns",
        content=body,
        auth=(creds.username, creds.password),
    )
    assert r.status_code == 201
    out = tmp_path / "live.toml"
    env = {"BWMIGRATE_USERNAME": creds.username, "BWMIGRATE_PASSWORD": creds.password}
    done = bwmigrate(
        "convert", "--from-api", f"{sandbox.base_url}/api/v1", "--account", "9900012",
        "--out", str(out), "--json", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert 'site_id = "743"' in text
    assert creds.password not in text and creds.password not in done.stdout
    assert json.loads(done.stdout)["sources"][0]["kind"] == "v1 externalTns listing (live)"


def test_import_tn_order_inputs_keep_their_subscriber_and_need_nothing_filled_in(tmp_path):
    """v1 ImportTnOrder bodies carry the subscriber and LOA person: the plan sends them, and
    `bwmigrate plan` accepts it as written (its first body is an ImportTnOrder with them)."""
    out = tmp_path / "acme.toml"
    done = bwmigrate(
        "convert", str(V1 / "import_tn_order.xml"), "--account", "1", "--out", str(out), "--json"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["import_details_needed"] == []
    assert "import_defaults" not in out.read_text() and "to fill in" not in done.stderr
    planned = bwmigrate("plan", str(out), "--show-xml")
    assert planned.returncode == 0, planned.stderr
    assert "<ImportTnOrder>" in planned.stdout
    assert "<LoaAuthorizingPerson>The Authguy</LoaAuthorizingPerson>" in planned.stdout
