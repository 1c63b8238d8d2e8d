"""The README's fleet rehearsal, as written: its `bwmigrate` commands taken from the README's
block and run in order (a throwaway database for `bwm_demo`, the sandbox on a free port for
8090), then judged by the sandbox's ledger and inventory: every number of `plans/fleet/`
imported once into its plan's account with SMS on, and `status` saying so."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgfleet import fleet_database
from support import ENV, SandboxProcess, cli_args

ROOT = Path(__file__).resolve().parents[2]
MARKER = "**Rehearse a fleet on this machine**"


def readme_commands() -> list[list[str]]:
    """The `bwmigrate` commands of the README's fleet rehearsal block, continuation lines
    joined, comments and a trailing `&` dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index(MARKER) :].split("```sh\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "bwmigrate":
            commands.append([w for w in words[1:] if w != "&"])
    return commands


def _shell_glob(word: str) -> list[str]:
    """What the shell makes of a glob in the README's folder (sorted, as bash sorts)."""
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(word))


@pytest.fixture
def database() -> Iterator[str]:
    yield from fleet_database()


def test_the_readme_fleet_rehearsal_imports_every_number_once(
    database: str, tmp_path: Path
) -> None:
    """sandbox, fleet add, worker, status, report as the README writes them: exit 0 each, 180
    numbers imported once each into their accounts with SMS on, 3 plans finished."""
    commands = readme_commands()
    assert [c[0] for c in commands] == ["sandbox", "fleet", "worker", "status", "report"]
    demo = "postgresql://127.0.0.1/bwm_demo"
    sandbox_args = commands[0][1:]
    port = sandbox_args.index("--port")
    del sandbox_args[port : port + 2]
    sandbox = SandboxProcess(*sandbox_args, log=tmp_path / "sandbox.log")
    try:
        results = []
        for words in commands[1:]:
            args = [w.replace(demo, database).replace("http://127.0.0.1:8090/api/v2",
                                                      sandbox.v2_url) for w in words]  # fmt: skip
            args = [g for w in args for g in (_shell_glob(w) if "*" in w else [w])]
            done = subprocess.run(cli_args(*args), env=ENV, cwd=ROOT, capture_output=True,
                                  text=True, timeout=240)  # fmt: skip
            assert done.returncode == 0, (args, done.stderr[-2000:])
            results.append(done)
        ledger, inventory = sandbox.ledger(), sandbox.inventory()
    finally:
        sandbox.stop()
    planned = {}
    for plan in sorted((ROOT / "plans" / "fleet").glob("reseller-*.toml")):
        account = plan.read_text().split('account_id = "', 1)[1].split('"', 1)[0]
        numbers = (plan.parent / f"{plan.stem[-1]}.txt").read_text().split()
        planned.update(dict.fromkeys(numbers, account))
    assert len(planned) == 180
    imports = [n for o in ledger["orders"] if o["kind"] == "import" for n in o["numbers"]]
    assert sorted(imports) == sorted(planned), "each number imported exactly once"
    assert {n: inventory[n]["account_id"] for n in planned} == planned
    assert all(inventory[n]["sms_enabled"] for n in planned)
    status = results[2].stdout.splitlines()[0]
    assert status.startswith(f"Fleet in {database}: 3 plans, 3 finished"), status
    assert "360 numbers: 360 succeeded" in status, status
    report = results[3].stdout.splitlines()
    assert report[0].startswith("step,kind,number,")
    assert len(report) == 1 + 120  # reseller-a: 60 imports and 60 SMS-on rows
