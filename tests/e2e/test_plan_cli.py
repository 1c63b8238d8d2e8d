"""`bwmigrate plan` as a subprocess: the dry run's outputs and its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_show_xml_prints_the_first_order_of_each_step() -> None:
    """--show-xml prints v2 bodies: the seed's import form, removal, and TN option orders."""
    out = _plan(str(EXAMPLE), "--show-xml")
    assert "<ExternalTnsOrder>" in out.stdout and "<Action>IMPORT</Action>" not in out.stdout
    assert "<RemoveImportedTnOrder>" in out.stdout
    assert "<Sms>off</Sms>" in out.stdout and "<CampaignId>CA3XKE1</CampaignId>" in out.stdout
    assert "<TelephoneNumber>+1" in out.stdout


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
