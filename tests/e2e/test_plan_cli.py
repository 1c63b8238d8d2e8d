"""`bwmigrate plan` as a subprocess: the dry run's outputs and its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.spec import validate_import_body, validate_request

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "plans" / "example.toml"


def _plan(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "plan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_example_dry_run_lists_steps_invalid_numbers_and_exits_1() -> None:
    """The example plan compiles, lists its six invalid entries with file:line, and exits 1."""
    out = _plan(str(EXAMPLE))
    assert out.returncode == 1, out.stderr
    assert "Invalid numbers (6)" in out.stdout
    assert "example/hosted.csv:42" in out.stdout and "scientific notation" in out.stdout
    assert "Dry run: nothing was sent." in out.stdout


def test_json_has_the_documented_keys_and_consistent_counts() -> None:
    """--json carries plan name/hash, number counts, steps, estimates and the invalid list."""
    out = _plan(str(EXAMPLE), "--json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["plan"]["name"] == "example-cutover" and len(doc["plan"]["hash"]) == 64
    n = doc["numbers"]
    assert n["total"] == n["valid"] + n["invalid"] + n["duplicates"] == 348
    assert sum(s["numbers"] for s in doc["steps"]) == n["valid"] == 340
    assert {s["step"] for s in doc["steps"]} >= {"hosted-us", "release-old-campaign"}
    assert doc["api_calls_estimate"] > doc["orders"] > 0 and doc["eta_s"] > 0
    assert {"input", "source", "reason"} <= set(doc["invalid"][0])
    assert len(doc["invalid"]) == 6


def test_out_writes_every_number_with_its_origin(tmp_path: Path) -> None:
    """--out writes a header line and one line per valid number (E.164, input, source, order)."""
    target = tmp_path / "compiled.jsonl"
    out = _plan(str(EXAMPLE), "--out", str(target))
    assert out.returncode == 1
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    header, rows = lines[0], lines[1:]
    assert header["type"] == "plan" and header["plan"]["name"] == "example-cutover"
    assert len(rows) == 340
    first = rows[0]
    assert first["e164"].startswith("+1") and first["source"] == "example/hosted.csv:2"
    assert first["customer_order_id"].endswith("-I01-00000")


def _bodies(stdout: str) -> dict[str, str]:
    """`--show-xml` output: title line -> the XML printed under it."""
    parts = stdout.split("\n--- ")[1:]
    return {p.split("\n", 1)[0]: p.split("\n", 1)[1] for p in parts}


def test_show_xml_prints_the_first_order_of_each_step() -> None:
    """--show-xml prints v2 bodies: the schema's ImportTnOrder with the subscriber and LOA
    person the example gives, removal, and the TN option orders (SMS on, then A2P alone)."""
    out = _plan(str(EXAMPLE), "--show-xml")
    bodies = _bodies(out.stdout)
    imported = bodies["hosted-us: POST importTnOrders/messaging"]
    assert imported.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<ImportTnOrder>\n')
    assert (
        "<Name>Example Widgets Inc.</Name>" in imported and "<StateCode>CO</StateCode>" in imported
    )
    assert "<LoaAuthorizingPerson>Pat Example</LoaAuthorizingPerson>" in imported
    assert imported.count("<TelephoneNumber>+1") == 5  # the canary order
    assert "<ExternalTnsOrder>" not in out.stdout and "<Action>IMPORT" not in out.stdout
    sms = bodies["hosted-us:sms-on: POST tnoptions (chained, for the numbers imported)"]
    assert "<Sms>on</Sms>" in sms and "A2pSettings" not in sms
    assert "hosted-us:sms-on:a2p" not in out.stdout  # hosted numbers take SMS only (5128)
    assert "<RemoveImportedTnOrder>" in out.stdout and "<Sms>off</Sms>" in out.stdout
    support = bodies["support-sms-on: POST tnoptions"]
    assert "<Sms>on</Sms>" in support and "A2pSettings" not in support
    a2p = bodies["support-sms-on:a2p: POST tnoptions (chained, for the numbers SMS is on)"]
    assert "<CampaignId>CB7SUPP</CampaignId>" in a2p and "<Sms>" not in a2p
    assert "-M05-00000-A</CustomerOrderId>" in a2p
    # the published schema's referee accepts what is printed
    assert validate_import_body(imported.encode(), "ImportTnOrder") == []
    for title, body in bodies.items():
        operation = "CreateRemoveImportedTnOrder" if "removeImported" in title else None
        if "tnoptions" in title:
            operation = "CreateTnOptionOrder"
        if operation:
            assert validate_request(operation, body.encode()) == [], title


def test_dry_run_shows_body_form_and_canary_per_import_step() -> None:
    """The dry run says, per import step, which body is sent and how big its canary order is."""
    out = _plan(str(EXAMPLE))
    assert (
        "hosted-us: ImportTnOrder body (the published v2 schema's form); canary order of 5 "
        "numbers, then 3 more" in out.stdout
    )
    doc = json.loads(_plan(str(EXAMPLE), "--json").stdout)
    step = next(s for s in doc["steps"] if s["step"] == "hosted-us")
    assert (step["canary"], step["orders"], step["a2p_orders"]) == (5, 4, 0)
    assert (step["settings"]["body_form"], step["settings"]["canary"]) == ("ImportTnOrder", 5)
    support = next(s for s in doc["steps"] if s["step"] == "support-sms-on")
    assert support["a2p_orders"] == 1
    assert doc["orders"] == sum(s["orders"] for s in doc["steps"]) + 4 + 1


def test_guide_form_plan_prints_an_external_tns_order(tmp_path: Path) -> None:
    """body_form = "ExternalTnsOrder": +1 numbers need no subscriber, the guide's body is sent."""
    plan = tmp_path / "p.toml"
    plan.write_text(
        'name = "guide"\naccount_id = "1"\n[import_defaults]\nbody_form = "ExternalTnsOrder"\n'
        '[[steps]]\nkind = "import"\nsite_id = "743"\nnumbers = ["9199918388"]\n'
    )
    out = _plan(str(plan), "--show-xml")
    assert out.returncode == 0, out.stderr
    assert "<ExternalTnsOrder>" in out.stdout and "<Subscriber>" not in out.stdout


def test_nanp_import_without_subscriber_exits_2_naming_step_and_fields(tmp_path: Path) -> None:
    """A +1 import in the default form without its subscriber and LOA person: `plan` and `run`
    exit 2 with one line naming the plan file, the step, the missing fields, the TOML to add
    and the other form."""
    plan = tmp_path / "p.toml"
    plan.write_text(
        'name = "x"\naccount_id = "1"\n[[steps]]\nkind = "import"\nname = "hosted"\n'
        'site_id = "743"\nsubscriber = { name = "ABC Inc.", city = "Denver" }\n'
        'numbers = ["9199918388", "+441224003018"]\n'
    )
    out = _plan(str(plan))
    assert out.returncode == 2 and out.stdout == ""
    (line,) = out.stderr.strip().splitlines()
    assert line == (
        f"bwmigrate: error: {plan}: steps[0] ('hosted'): 1 number is +1 (NANP), for which the "
        "ImportTnOrder body (the published v2 schema's form, sent by default) requires what "
        "this step lacks: subscriber.house_number, subscriber.street_name, "
        "subscriber.state_code, subscriber.zip, loa_authorizing_person; add to the step or to "
        '[import_defaults]: subscriber = { name = "ABC Inc.", house_number = "...", street_name '
        '= "...", city = "Denver", state_code = "...", zip = "..." } and loa_authorizing_person '
        '= "..."; or send the migration guide\'s ExternalTnsOrder form, which has neither: '
        'body_form = "ExternalTnsOrder"'
    )
    run = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", str(plan), "--sandbox", "--state",
         str(tmp_path / "r.db")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 2 and run.stderr.strip() == line  # refused before anything runs
    assert not (tmp_path / "r.db").exists()


def test_all_valid_plan_exits_0(tmp_path: Path) -> None:
    """A plan whose numbers are all valid exits 0."""
    plan = tmp_path / "p.toml"
    plan.write_text(
        'name = "ok"\naccount_id = "1"\n[[steps]]\nkind = "remove"\n'
        'numbers = ["9199918388", "+14158714245"]\n'
    )
    assert _plan(str(plan)).returncode == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "plan file not found"),
        (
            'name = "x"\naccount_id = "1"\n[[steps]]\nkind = "remove"\nfiles = ["gone.csv"]\n',
            "number file 'gone.csv' not found",
        ),
        ("name = [\n", "invalid TOML"),
        (
            'name = "x"\naccount_id = "1"\n[[steps]]\nkind = "import"\nsite_id = "1"\n'
            'numbers = ["9199918388"]\n[[steps]]\nkind = "remove"\nnumbers = ["+19199918388"]\n',
            "cannot be imported and removed",
        ),
        (b"\xff\xfe\x00binary", "not UTF-8"),
    ],
)
def test_unusable_plans_exit_2_with_one_line(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    """Missing files, bad TOML, contradictions, binary junk: exit 2, one line, no traceback."""
    plan = tmp_path / "p.toml"
    if isinstance(content, bytes):
        plan.write_bytes(content)
    elif content is not None:
        plan.write_text(content)
    out = _plan(str(plan))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bwmigrate: error: "), out.stderr
    assert message in lines[0]
    assert out.stdout == ""


def test_python_dash_m_and_console_script_agree() -> None:
    """`python -m orchestrator` and the `bwmigrate` script are the same program."""
    via_module = subprocess.run(
        [sys.executable, "-m", "orchestrator", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script = Path(sys.executable).with_name("bwmigrate")
    via_script = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert via_module == via_script and "bwmigrate" in via_module


@pytest.mark.parametrize(
    ("content", "files", "words"),
    [
        (b"", '["n.txt"]', "n.txt: the file is empty (0 bytes)"),
        (b"Phone Number\r\n", '[{ path = "n.csv", column = "Phone Number" }]', "n.csv: the file"),
        (b"".join(b"x,+1919555%04d\n" % i for i in range(5000)),
         '[{ path = "n.csv", column = 3 }]', "n.csv:1: column 3 is beyond the row"),
    ],
    ids=["zero-bytes", "header-only", "column-beyond-the-row"],
)  # fmt: skip
def test_an_empty_number_file_or_a_missing_column_is_one_error(
    tmp_path: Path, content: bytes, files: str, words: str
) -> None:
    """A 0-byte or header-only number file, or a column beyond the rows, is one line and exit 2
    for `plan` and `run` (no state file made), not a 0-number step or an error per row."""
    name = "n.txt" if "n.txt" in files else "n.csv"
    (tmp_path / name).write_bytes(content)
    (tmp_path / "p.toml").write_text(
        f'name = "p"\naccount_id = "9900012"\n[[steps]]\nkind = "remove"\nfiles = {files}\n'
    )
    for args in (("plan", "p.toml"), ("run", "p.toml", "--sandbox")):
        out = subprocess.run(
            [sys.executable, "-m", "orchestrator", *args],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert out.returncode == 2, (args, out.stdout[-500:], out.stderr[-500:])
        assert out.stderr.count("\n") == 1 and words in out.stderr, out.stderr
        assert "remove the file from the plan" in out.stderr or "set `column`" in out.stderr
    assert not (tmp_path / "state").exists()
