"""`bwmigrate scan` as a subprocess: exit codes, formats, --fix, and what the walk skips."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema

SCAN = Path(__file__).parents[1] / "fixtures" / "scan"
V1_URL = "BASE = 'https://dashboard.bandwidth.com/api/v1/accounts'\n"


def bwmigrate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True, text=True, timeout=60, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )  # fmt: skip


def test_v1_tree_exits_1_with_findings_and_v2_tree_exits_0():
    """Findings exit 1 with a grouped text report; the v2 samples exit 0."""
    found = bwmigrate("scan", str(SCAN / "v1"))
    assert found.returncode == 1, found.stderr
    assert "BW005 external-tns" in found.stdout
    assert "findings in 15 files (scanned 15 files" in found.stdout
    clean = bwmigrate("scan", str(SCAN / "v2"))
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.startswith("0 findings")


def test_json_and_sarif_outputs(tmp_path):
    """--json is one object with every finding; --sarif validates against SARIF 2.1.0."""
    as_json = bwmigrate("scan", "v1", "--json", cwd=SCAN)
    doc = json.loads(as_json.stdout)
    assert doc["summary"]["files_scanned"] == 15
    first = doc["findings"][0]
    assert {"file", "line", "column", "rule", "message", "replacement"} <= set(first)
    as_sarif = bwmigrate("scan", "v1", "--sarif", cwd=SCAN)
    log = json.loads(as_sarif.stdout)
    schema = json.loads((SCAN / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uriBaseId"] == "SRCROOT" and uri["uri"].startswith("v1/")
    assert len(log["runs"][0]["results"]) == len(doc["findings"])


def test_fix_rewrites_paths_and_bases_prints_a_diff_and_rescans_clean(tmp_path):
    """--fix on a copy: a unified diff on stdout; a re-scan finds no fixable rule."""
    tree = tmp_path / "repo"
    shutil.copytree(SCAN / "v1", tree)
    script = tree / "curl" / "hosted_messaging.sh"
    mode = script.stat().st_mode
    fixed = bwmigrate("scan", "repo", "--fix", cwd=tmp_path)
    assert fixed.returncode == 1  # other findings remain (reported, not guessed)
    assert "--- a/repo/curl/hosted_messaging.sh" in fixed.stdout
    assert "+BASE=https://api.bandwidth.com/api/v2" in fixed.stdout
    assert "fixed " in fixed.stdout
    assert script.stat().st_mode == mode
    again = json.loads(bwmigrate("scan", "repo", "--json", cwd=tmp_path).stdout)
    rules = {f["rule"] for f in again["findings"]}
    assert not rules & {"BW001", "BW002", "BW003", "BW004"}
    assert "BW005" in rules and "BW008" in rules


def test_fix_with_json_keeps_stdout_machine_readable(tmp_path):
    """With --json, the diff goes to stderr and stdout stays one JSON object."""
    (tmp_path / "a.sh").write_text(V1_URL)
    done = bwmigrate("scan", str(tmp_path), "--fix", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["summary"]["fixed"] == 1
    assert "+BASE = 'https://api.bandwidth.com/api/v2/accounts'" in done.stderr


def test_walk_skips_vcs_venv_node_modules_binaries_and_symlinks(tmp_path):
    """Only the real source file is scanned; skips are counted; no symlink is followed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(V1_URL)
    tree = tmp_path / "tree"
    for folder in (".git", "node_modules/lib", "env", "src"):
        (tree / folder).mkdir(parents=True)
    (tree / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    for folder in (".git", "node_modules/lib", "env"):
        (tree / folder / "client.py").write_text(V1_URL)
    (tree / "src" / "client.py").write_text(V1_URL)
    (tree / "src" / "blob.dat").write_bytes(b"\x00\x01" + V1_URL.encode())
    (tree / "src" / "data.bin2").write_bytes(b"\x00" + V1_URL.encode())
    (tree / "src" / "link.py").symlink_to(outside / "secret.py")
    (tree / "linked").symlink_to(outside)
    done = json.loads(bwmigrate("scan", str(tree), "--json").stdout)
    assert {f["file"] for f in done["findings"]} == {str(tree / "src" / "client.py")}
    assert done["summary"]["skipped"] == {"binary": 2, "excluded folders": 3, "symlinks": 2}


def test_symlinks_named_on_the_command_line_are_skipped_not_followed(tmp_path):
    """A symlink given as PATH (to a file or a folder) is skipped like any other: nothing
    outside the tree is read, and the summary counts it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(V1_URL)
    (tmp_path / "link.py").symlink_to(outside / "secret.py")
    (tmp_path / "linked").symlink_to(outside)
    named = bwmigrate("scan", str(tmp_path / "link.py"), str(tmp_path / "linked"), "--json")
    assert named.returncode == 0, named.stdout
    doc = json.loads(named.stdout)
    assert doc["findings"] == []
    assert doc["summary"]["files_scanned"] == 0
    assert doc["summary"]["skipped"] == {"symlinks": 2}


def test_fifos_and_devices_are_counted_as_skipped_special_files(tmp_path):
    """A FIFO or a device named as PATH is never opened (a FIFO would block) and is counted as
    a skipped special file instead of vanishing ("0 files, skipped: none")."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    inside = tmp_path / "tree"
    inside.mkdir()
    os.mkfifo(inside / "pipe2")
    done = bwmigrate("scan", str(fifo), os.devnull, str(inside))
    assert done.returncode == 0, done.stdout
    assert "skipped: 3 special files" in done.stdout


def test_verbose_names_every_skipped_path_and_why(tmp_path):
    """--verbose lists each skipped path with its reason (text: before the summary; --json:
    `summary.skipped_files`); without it, only the counts are shown."""
    tree = tmp_path / "tree"
    (tree / "node_modules").mkdir(parents=True)
    (tree / "blob.png").write_bytes(b"\x89PNG")
    (tree / "data.txt").write_bytes(b"\x00" + V1_URL.encode())
    (tree / "link.py").symlink_to(tmp_path)
    os.mkfifo(tree / "pipe")
    (tree / "client.py").write_text(V1_URL)
    text = bwmigrate("scan", str(tree), "--verbose")
    assert text.returncode == 1, text.stderr
    out = text.stdout
    assert f"skipped {tree / 'node_modules'}: excluded folder (node_modules)" in out
    assert f"skipped {tree / 'blob.png'}: binary (.png file)" in out
    assert f"skipped {tree / 'data.txt'}: binary (NUL byte in the first 8 KiB)" in out
    assert f"skipped {tree / 'link.py'}: symlink (not followed; scan its target: {tmp_path})" in out
    assert f"skipped {tree / 'pipe'}: special file (FIFO)" in out
    assert out.index("skipped ") < out.index("finding in 1 file")
    quiet = bwmigrate("scan", str(tree))
    assert "skipped /" not in quiet.stdout
    doc = json.loads(bwmigrate("scan", str(tree), "--json", "--verbose").stdout)
    assert {"path": str(tree / "pipe"), "reason": "special file (FIFO)"} in doc["summary"][
        "skipped_files"
    ]
    assert len(doc["summary"]["skipped_files"]) == 5
    plain = json.loads(bwmigrate("scan", str(tree), "--json").stdout)
    assert "skipped_files" not in plain["summary"]
    sarif = json.loads(bwmigrate("scan", str(tree), "--sarif", "--verbose").stdout)
    schema = json.loads((SCAN / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {n["message"]["text"] for n in notes} >= {"skipped: special file (FIFO)"}
    assert len(notes) == 5


def test_a_2_mb_one_line_text_node_is_scanned_to_the_end():
    """The hostile fixture (one 2 MB text node, Bandwidth XML) is scanned and exits 0."""
    done = bwmigrate("scan", str(SCAN.parent / "hostile" / "huge_text_node.xml"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("0 findings in 0 files (scanned 1 file, 2.0 MB;")


def test_usage_errors_exit_2(tmp_path):
    """Both output flags, or a missing path, are usage errors (exit 2)."""
    assert bwmigrate("scan", str(tmp_path), "--json", "--sarif").returncode == 2
    assert bwmigrate("scan", str(tmp_path / "missing")).returncode == 2
    assert bwmigrate("scan").returncode == 2
