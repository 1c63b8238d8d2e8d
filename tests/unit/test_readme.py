"""The README documents every command and every option the command line accepts."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from orchestrator.cli import _COMMANDS, main
from orchestrator.plan import parse_plan

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _section(name: str) -> str:
    """The README section of `bwmigrate <name>` (its heading to the next heading)."""
    match = re.search(rf"^### `bwmigrate {name}\b.*?(?=^##)", README, flags=re.M | re.S)
    assert match, f"README has no '### `bwmigrate {name} ...`' section"
    return match.group(0)


def _commands() -> list[str]:
    """Every command, and every subcommand of a group as "group sub"."""
    names = []
    for name in sorted(_COMMANDS):
        command = main.get_command(click.Context(main), name)
        if isinstance(command, click.Group):
            names += [f"{name} {sub}" for sub in sorted(command.commands)]
        else:
            names.append(name)
    return names


@pytest.mark.parametrize("name", _commands())
def test_every_option_of_every_command_is_in_its_readme_section(name: str) -> None:
    """Each command (each subcommand of a group) has a README section naming each of its
    long options."""
    group, _, sub = name.partition(" ")
    command = main.get_command(click.Context(main), group)
    if sub:
        assert isinstance(command, click.Group)
        command = command.commands.get(sub)
    assert command is not None
    section = _section(name)
    missing = [
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--") and opt not in ("--help",) and opt not in section
    ]
    assert not missing, f"bwmigrate {name}: README section lacks {missing}"


def test_quick_start_runs_the_example_rehearsal_and_the_test_command() -> None:
    """The quick start is an install plus the example rehearsal, then the CI test command."""
    quick = README[README.index("## Quick start") : README.index("## A migration")]
    assert "pip install -e '.[dev]' && bwmigrate run plans/example.toml --sandbox" in quick
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "\npytest\n" in quick and ci.rstrip().endswith("\npytest")


def test_the_plan_format_sample_is_a_valid_plan() -> None:
    """The README's annotated plan parses as a plan, with the keys it documents."""
    section = README[README.index("## The plan format") : README.index("## Commands")]
    sample = section[
        section.index("```toml\n") + 8 : section.index("```\n", section.index("```toml"))
    ]
    spec = parse_plan(sample, "README.md")
    imported = spec.steps[0]
    assert (spec.canary, spec.rate.visibility_window_s) == (5, 30)
    assert (imported.body_form, imported.loa_authorizing_person) == ("ImportTnOrder", "The Authguy")
    assert imported.subscriber is not None and imported.subscriber.county == "Canyon"
