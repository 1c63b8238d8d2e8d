"""Fuzz: plan files and the number files they name, through the CLI's own loader.

Properties:
- in process, for volume: `load_plan` either compiles (and then every order respects the batch
  size, every CustomerOrderId is valid, every number is E.164) or raises a package error with
  exit code 2 whose message is one line naming the plan or the number file; never another
  exception;
- the same numbers give the same compiled plan whatever the file's encoding (UTF-8 with or
  without BOM, UTF-16 with a BOM, cp1252);
- through the CLI: a plan that `bwmigrate plan` refuses gets exit 2 and one line, never a
  traceback; `bwmigrate run` with it sends no request and leaves no state file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import examples, number_files, plan_texts

from orchestrator.cli.loading import load_plan
from orchestrator.errors import BwmigrateError, ExitCode
from orchestrator.plan import CompiledPlan

COID = re.compile(r"[A-Za-z0-9 -]{1,40}")
E164 = re.compile(r"\+[1-9]\d{6,14}")
FILES = ("hosted.csv", "remove.txt")
ENV = {**os.environ, "BWMIGRATE_USERNAME": "sandbox", "BWMIGRATE_PASSWORD": "sandbox"}


def _write(folder: Path, text: str, files: dict[str, bytes]) -> Path:
    plan = folder / "plan.toml"
    plan.write_text(text, encoding="utf-8", errors="surrogatepass")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return plan


def _check_compiled(plan: CompiledPlan) -> None:
    """What a valid compile always gives."""
    ids = [o.customer_order_id for s in plan.steps for o in s.orders]
    assert len(ids) == len(set(ids)) and all(COID.fullmatch(i) for i in ids), ids
    for step in plan.steps:
        assert all(E164.fullmatch(n) for n in step.numbers), step.numbers[:5]
        assert len(step.numbers) == len(set(step.numbers))
        assert all(0 < len(o.numbers) <= plan.spec.batch_size for o in step.orders)
        assert [n for o in step.orders for n in o.numbers] == step.numbers


def _check_refusal(exc: BwmigrateError, plan: Path) -> None:
    """A refusal: exit code 2, one line, naming the plan or one of its number files."""
    message = str(exc)
    assert exc.exit_code == ExitCode.BAD_INPUT, (type(exc).__name__, message)
    assert "\n" not in message and "\r" not in message, message[:300]
    assert str(plan) in message or any(name in message for name in FILES), message[:300]


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(text='name = "x"\naccount_id = "1"\n"a\\nb" = 1\n', hosted=b"", remove=b"")
@given(text=plan_texts(), hosted=number_files(), remove=number_files())
def test_any_plan_compiles_or_is_refused_in_one_line(
    text: str, hosted: bytes, remove: bytes
) -> None:
    """A mutated plan with any number files: a valid compile or a one-line exit-2 error."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = _write(Path(tmp), text, {"hosted.csv": hosted, "remove.txt": remove})
        try:
            compiled = load_plan(plan)
        except BwmigrateError as exc:
            _check_refusal(exc, plan)
            return
        _check_compiled(compiled)


@settings(max_examples=examples(60), deadline=None)
@given(
    numbers=st.lists(st.from_regex(r"[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True), min_size=1,
                     max_size=20),
    header=st.booleans(),
)  # fmt: skip
def test_the_encoding_of_a_number_file_does_not_change_the_plan(
    numbers: list[str], header: bool
) -> None:
    """UTF-8, UTF-8 with BOM, UTF-16 with BOM and cp1252 files compile to the same plan."""
    text = ("TN\n" if header else "") + "\r\n".join(numbers) + "\n"
    plan_text = (
        'name = "enc"\naccount_id = "9900012"\n[[steps]]\nkind = "remove"\n'
        f'files = [{{ path = "n.csv", column = 1, header = {str(header).lower()} }}]\n'
    )
    compiled = []
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "cp1252"):
        with tempfile.TemporaryDirectory() as tmp:
            plan = _write(Path(tmp), plan_text, {"n.csv": text.encode(encoding)})
            try:
                result = load_plan(plan)
            except BwmigrateError as exc:
                compiled.append(("refused", str(exc).replace(str(plan), "PLAN")))
                continue
            compiled.append(
                ([s.numbers for s in result.steps], [e.raw for e in result.invalid], result.hash)
            )
    assert all(c == compiled[0] for c in compiled), compiled


# --- through the CLI ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        yield proc.stdout.readline().strip().removesuffix("/api/v2")  # the root URL
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def _bwmigrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )


def _assert_one_line_error(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bwmigrate: error: "), out.stderr[-1000:]


@settings(
    max_examples=examples(4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=plan_texts(), hosted=number_files())
def test_refused_plans_exit_2_in_one_line_and_send_nothing(
    sandbox_url: str, text: str, hosted: bytes
) -> None:
    """`plan` and `run` with a bad plan: exit 2, one line, no request, no state file."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = _write(Path(tmp), text, {"hosted.csv": hosted, "remove.txt": b"4158714245\n"})
        checked = _bwmigrate("plan", str(plan), "--json")
        assert checked.returncode in (0, 1, 2), checked.stderr[-2000:]
        assert "Traceback" not in checked.stderr, checked.stderr[-2000:]
        if checked.returncode != 2:
            return
        _assert_one_line_error(checked)
        before = httpx.get(f"{sandbox_url}/_sandbox/ledger", timeout=10).json()["requests"]
        state = Path(tmp) / "state.db"
        ran = _bwmigrate("run", str(plan), "--target", f"{sandbox_url}/api/v2", "--state",
                         str(state), "--yes")  # fmt: skip
        after = httpx.get(f"{sandbox_url}/_sandbox/ledger", timeout=10).json()["requests"]
        assert ran.returncode == 2
        _assert_one_line_error(ran)
        assert after == before, "a refused plan sent requests"
        assert not state.exists(), "a refused plan left a state file"
