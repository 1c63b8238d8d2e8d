"""`bwmigrate convert`: v1 usage (saved bodies, logs, listings, reports, lists) -> a v2 plan.

The CLI side: opens the inputs, recognises each by content, reads the live listing with
`--from-api`, and writes the plan, its number CSVs and the conversion report atomically (into a
staging folder first, the plan last), so a failed conversion never leaves a partial plan.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orchestrator.cli.options import (
    force_option,
    json_option,
    loa_type_option,
    out_option,
    verbosity_options,
)
from orchestrator.cli.output import Input, check_output
from orchestrator.cli.stop_signal import run_interruptible
from orchestrator.cli.verbosity import Ticker, Verbosity, progress_every_s
from orchestrator.errors import ExitCode, InputError
from orchestrator.plan import compile_plan, parse_plan
from orchestrator.plan.numbers import region_for_a3
from orchestrator.text import counted
from orchestrator.v1.conversion import Conversion
from orchestrator.v1.conversion import convert as convert_intents
from orchestrator.v1.intent import Action, ReadResult
from orchestrator.v1.planfile import render_outputs, report_name, summary
from orchestrator.v1.tabular import ListDefaults, decode, read_table

if TYPE_CHECKING:  # the XML readers and the client load when an input needs them
    from orchestrator.v1.listing_api import Listing

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MAX_INPUT_BYTES = 512 * 1024 * 1024


@dataclass(slots=True)
class _Input:
    path: Path
    data: bytes
    text: str | None  # decoded, for number lists and reports
    is_xml: bool


@click.command()
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@out_option(
    "The plan to write (.toml); its numbers go to PLAN-stem.numbers/ beside it.",
    required=True,
    metavar="PLAN",
)
@click.option(
    "--country",
    default="USA",
    show_default=True,
    metavar="A3",
    help="countryCodeA3 of numbers written without + and country code.",
)
@click.option("--name", help="The plan's name (default: the plan file's stem).")
@click.option(
    "--account",
    metavar="ID",
    help="The Bandwidth account id (default: from the inputs' AccountId, when they all agree).",
)
@click.option(
    "--from-api",
    "from_api",
    metavar="URL",
    help="Also read the v1 externalTns "
    "listing live from this v1 base URL (read-only; applied before the files).",
)
@click.option(
    "--keep-going",
    is_flag=True,
    help="Skip unreadable inputs (listed in the report) instead of stopping.",
)
@click.option(
    "--list-step",
    "list_steps",
    multiple=True,
    type=click.Choice([a.value for a in Action]),
    help="The step number lists and inventory reports feed: once for all of them, "
    "or once per list in input order.",
)
@click.option("--site", metavar="ID", help="SiteId for numbers a list feeds to import.")
@click.option("--sip-peer", metavar="ID", help="SipPeerId for numbers a list feeds to import.")
@loa_type_option("LoaType for numbers a list feeds to import.")
@force_option("Replace an existing plan, its numbers and report.")
@json_option("Print the conversion summary as JSON.")
@verbosity_options("With --from-api: a line per listing page read (on stderr).")
def convert(
    inputs: tuple[Path, ...],
    out: Path,
    country: str,
    name: str | None,
    account: str | None,
    from_api: str | None,
    keep_going: bool,
    list_steps: tuple[str, ...],
    site: str | None,
    sip_peer: str | None,
    loa_type: str,
    force: bool,
    as_json: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Turn v1 usage into a v2 migration plan (INPUT: files or folders, in the order applied).

    Recognises, by content: v1 ExternalTnsOrder bodies (IMPORT/REMOVE), externalTns order GETs
    and listings (only COMPLETE/PARTIAL orders' successful numbers count), ImportTnOrder and
    RemoveImportedTnOrder bodies, SipPeerTelephoneNumber bodies with MessagingSettings (also
    embedded in curl scripts and request logs), the Iris phone number inventory report and
    plain number lists (with --list-step). For each number the last intent wins.

    Exit 0 when every number was planned, 1 when the plan was written but some numbers were
    rejected or inputs skipped (see the report), 2 on bad input (nothing is written).
    """
    country = country.upper()
    region_for_a3(country)
    plan_stem = _check_out(out, inputs, force)
    name = name or plan_stem
    _check_args(name, inputs, from_api, site=site, sip_peer=sip_peer, account=account)
    defaults = ListDefaults(site_id=site, sip_peer_id=sip_peer, loa_type=loa_type)
    skipped: list[tuple[str, str]] = []
    verbosity = Verbosity.from_flags(quiet, verbose)
    results = _read_all(
        inputs, from_api, account, list_steps, defaults, keep_going, skipped, verbosity
    )
    account_id = account or _infer_account(results)
    conversion = convert_intents(results, country, skipped)
    if not conversion.steps:
        raise InputError(
            "nothing to plan: no number has an import, remove or SMS intent "
            f"({len(conversion.rejected)} rejected, {len(conversion.failed_on_v1)} failed on v1)"
        )
    files = render_outputs(
        conversion, name=name, account_id=account_id, country=country, plan_stem=plan_stem
    )
    _verify_plan(files, plan_stem, out, conversion)
    _write_outputs(out, plan_stem, files, force)
    facts = summary(conversion)
    facts["plan"] = str(out)
    facts["report"] = str(out.parent / report_name(plan_stem))
    _print_summary(facts, out)
    if as_json:
        click.echo(json.dumps(facts, indent=2))
    if conversion.rejected or skipped:
        sys.exit(int(ExitCode.FAILED_NUMBERS))


def _check_args(
    name: str,
    inputs: tuple[Path, ...],
    from_api: str | None,
    **ids: str | None,
) -> None:
    """Refuse a bad plan name, no input at all, and ids that are not digits."""
    if not _NAME_RE.match(name):
        raise InputError(f"--name {name!r}: 1-64 letters, digits, '-', '_' or '.'")
    if not inputs and not from_api:
        raise InputError("give at least one INPUT file or --from-api URL")
    for key, value in ids.items():
        if value is not None and not value.isdigit():
            raise InputError(f"--{key.replace('_', '-')} {value!r}: expected digits")


def _read_all(
    inputs: tuple[Path, ...],
    from_api: str | None,
    account: str | None,
    list_steps: tuple[str, ...],
    defaults: ListDefaults,
    keep_going: bool,
    skipped: list[tuple[str, str]],
    verbosity: Verbosity = Verbosity.NORMAL,
) -> list[ReadResult]:
    """The live listing (first), then every input in order; unreadable ones go to `skipped`
    with `--keep-going`."""
    results: list[ReadResult] = []
    if from_api:
        results.append(_read_api(from_api, account, verbosity))
    loaded = _load_inputs(inputs, keep_going, skipped)
    steps = _assign_list_steps(loaded, list_steps)
    for item in loaded:
        try:
            results.append(_read_input(item, steps.get(id(item)), defaults))
        except InputError as exc:
            if not keep_going:
                raise
            skipped.append((str(item.path), str(exc)))
    return results


def _check_out(out: Path, inputs: tuple[Path, ...], force: bool) -> str:
    """The plan's stem; refuses a plan path that is not .toml, that is one of the inputs (or
    whose report or numbers folder would replace one), or that exists without --force."""
    if out.suffix.lower() != ".toml":
        raise InputError(f"--out {out}: the plan file must end in .toml")
    given = [Input(p, "an input of this conversion") for i in inputs for p in _expand(i)]
    check_output(out, given, force=force)
    check_output(out.parent / report_name(out.stem), given, force=True)  # --force: later
    numbers = (out.parent / f"{out.stem}.numbers").resolve()
    inside = [i.path for i in given if i.path.resolve().is_relative_to(numbers)]
    if inside:
        raise InputError(
            f"--out {out}: its numbers folder {numbers} holds the input {inside[0]}, which "
            "writing the plan would replace: choose another --out"
        )
    return out.stem


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    return [path]


def _load_inputs(
    inputs: tuple[Path, ...], keep_going: bool, skipped: list[tuple[str, str]]
) -> list[_Input]:
    loaded: list[_Input] = []
    for given in inputs:
        for path in _expand(given):
            try:
                if path.stat().st_size > _MAX_INPUT_BYTES:
                    raise InputError(f"{path}: larger than {_MAX_INPUT_BYTES >> 20} MiB")
                data = path.read_bytes()
            except FileNotFoundError:
                error = InputError(f"{path}: no such file")
            except OSError as exc:
                error = InputError(f"{path}: cannot read ({exc.strerror})")
            except InputError as exc:
                error = exc
            else:
                loaded.append(_classify(path, data))
                continue
            if not keep_going:
                raise error
            skipped.append((str(path), str(error)))
    return loaded


def _classify(path: Path, data: bytes) -> _Input:
    from orchestrator.v1.orders import has_v1_xml

    head = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if head.startswith(b"<"):
        return _Input(path, data, None, is_xml=True)
    try:
        text = decode(data, str(path))
    except InputError:
        return _Input(path, data, None, is_xml=False)  # reported when read
    return _Input(path, data, text, is_xml=has_v1_xml(text))


def _assign_list_steps(loaded: list[_Input], list_steps: tuple[str, ...]) -> dict[int, Action]:
    lists = [item for item in loaded if not item.is_xml]
    if not lists or not list_steps:
        return {}
    if len(list_steps) == 1:
        return {id(item): Action(list_steps[0]) for item in lists}
    if len(list_steps) != len(lists):
        names = ", ".join(str(item.path) for item in lists)
        raise InputError(
            f"--list-step given {counted(len(list_steps), 'time')} for "
            f"{counted(len(lists), 'number list/report', 'number lists/reports')} "
            f"({names}): give it once for all, or once per list in order"
        )
    return {id(item): Action(step) for item, step in zip(lists, list_steps, strict=True)}


def _read_input(item: _Input, step: Action | None, defaults: ListDefaults) -> ReadResult:
    from orchestrator.v1.orders import read_xml_input

    if item.is_xml:
        return read_xml_input(item.data, str(item.path))
    text = item.text if item.text is not None else decode(item.data, str(item.path))
    if step is None:
        raise InputError(
            f"{item.path}: a number list or inventory report, which does not say what to do "
            "with its numbers: name the step with --list-step import|remove|sms-on|sms-off"
        )
    return read_table(text, str(item.path), step, defaults)


def _read_api(url: str, account: str | None, verbosity: Verbosity) -> ReadResult:
    if not account:
        raise InputError("--from-api needs --account ID (the account whose listing to read)")

    from orchestrator.cli.login import live_access
    from orchestrator.cutover.connection import open_api
    from orchestrator.v1.listing_api import DEFAULT_RATE_PER_S as LISTING_RATE_PER_S
    from orchestrator.v1.listing_api import fetch_external_tns, v1_base_url
    from orchestrator.v1.orders import read_listing_pages

    access = live_access(os.environ, v1_base_url(url), v2=False)
    ticker = Ticker(progress_every_s(os.environ))

    def progress(pages: int, orders: int, expected: int | None) -> None:
        # --verbose: every page; default: a line every ~10 s; --quiet: none
        if verbosity is Verbosity.VERBOSE or (verbosity is Verbosity.NORMAL and ticker.due()):
            of = f" of {expected}" if expected is not None else ""
            read = f"{pages} page{'' if pages == 1 else 's'} read"
            click.echo(f"externalTns: {read}, {orders}{of} orders", err=True)

    async def fetch() -> Listing:
        async with open_api(access, account, rate_per_s=LISTING_RATE_PER_S) as api:
            return await fetch_external_tns(api.client, api.gate, on_page=progress)

    listing = run_interruptible(fetch)
    result = read_listing_pages(listing.pages, listing.source)
    result.notes += listing.notes
    return result


def _infer_account(results: list[ReadResult]) -> str:
    accounts = set().union(*(r.account_ids for r in results)) if results else set()
    if len(accounts) == 1:
        return next(iter(accounts))
    seen = f" (the inputs name {', '.join(sorted(accounts))})" if accounts else ""
    raise InputError(f"give --account ID: the plan needs the Bandwidth account id{seen}")


def _verify_plan(
    files: dict[str, bytes], plan_stem: str, out: Path, conversion: Conversion
) -> None:
    """Compile the plan in memory exactly as `bwmigrate plan` would; a refusal is a bug."""
    text = files[f"{plan_stem}.toml"].decode("utf-8")
    # Import details still to fill in (the commented [import_defaults]) are the user's to give:
    # `bwmigrate plan` refuses the plan until then, so they are not checked here.
    compiled = compile_plan(
        parse_plan(text, str(out)), lambda name: files[name], require_import_details=False
    )
    planned = sum(len(s.rows) for s in conversion.steps)
    assert not compiled.invalid and not compiled.duplicates, "convert wrote unusable numbers"
    assert compiled.valid_count == planned, (compiled.valid_count, planned)


def _write_outputs(out: Path, plan_stem: str, files: dict[str, bytes], force: bool) -> None:
    """Write into a staging folder beside the plan, then move into place, the plan last."""
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    numbers = parent / f"{plan_stem}.numbers"
    report = parent / report_name(plan_stem)
    if not force and (numbers.exists() or report.exists()):
        raise InputError(f"{numbers} or {report} exists: use --force to replace them")
    staging = Path(tempfile.mkdtemp(prefix=f".{plan_stem}.", dir=parent))
    try:
        for rel, data in files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if numbers.exists():
            numbers.rename(staging / ".replaced")
        (staging / f"{plan_stem}.numbers").rename(numbers)
        os.replace(staging / report.name, report)
        os.replace(staging / f"{plan_stem}.toml", out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _echo(text: str) -> None:
    click.echo(text, err=True)


def _print_summary(facts: dict[str, object], out: Path) -> None:
    steps = facts["steps"]
    assert isinstance(steps, list)
    _echo(
        f"bwmigrate convert: wrote {out} ({counted(facts['planned_numbers'], 'number')}, "  # type: ignore[arg-type]
        f"{counted(len(steps), 'step')})"
    )
    for step in steps:
        _echo(f"  {step['name']:<48} {step['numbers']:>9}  {step['what']}")
    _echo(
        f"  rejected {facts['rejected']}, failed on v1 {facts['failed_on_v1']}, collapsed "
        f"{facts['collapsed']}, contradictory {facts['contradictory']}, skipped inputs "
        f"{len(facts['skipped_inputs'])}"  # type: ignore[arg-type]
    )
    needing = facts["import_details_needed"]
    assert isinstance(needing, list)
    if needing:
        _echo(
            f"  to fill in: subscriber and loa_authorizing_person under [import_defaults] in "
            f"{out} (the +1 numbers of {', '.join(needing)} need them in the ImportTnOrder "
            'body), or body_form = "ExternalTnsOrder"; `bwmigrate plan` refuses the plan '
            "until then"
        )
    _echo(f"  report: {facts['report']}")
