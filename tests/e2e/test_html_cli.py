"""`report --html` and `status --serve` in a real browser (Debian's Chromium via Playwright).

One rehearsal of the example plan (with its planted failures and three hostile inputs) and one
browser serve the whole module. Screenshots go to the tests' temporary folders.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import HOSTILE, chromium, cli, cli_json, example_plan
from playwright.sync_api import BrowserContext, Page


@dataclass
class Rehearsal:
    folder: Path
    state: Path
    html: Path
    rows: list[dict[str, Any]]  # `report --format json`
    status: dict[str, Any]  # `status --json`


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Rehearsal:
    """The example plan rehearsed to its end (exit 1: failures), and its HTML report."""
    folder = tmp_path_factory.mktemp("rehearsal")
    plan = example_plan(folder)
    state = folder / "r.db"
    run = subprocess.run(
        cli("run", str(plan), "--sandbox", "--state", str(state)),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
    )
    assert run.returncode == 1, run.stderr
    html = folder / "report.html"
    subprocess.run(
        cli("report", "--state", str(state), "--html", str(html)), cwd=folder, check=True
    )
    rows = cli_json(folder, "report", "--state", str(state), "--format", "json")
    status = cli_json(folder, "status", "--state", str(state), "--json")
    return Rehearsal(folder, state, html, rows, status)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One Chromium (fresh profile) for the module."""
    with chromium(tmp_path_factory.mktemp("profile")) as context:
        yield context


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    """A new tab; script errors on it fail the test."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    tab.close()
    assert not errors, errors


def _table_rows(page: Page) -> list[list[str]]:
    """Every row the paged number table shows, page after page."""
    seen: list[list[str]] = []
    while True:
        seen += page.eval_on_selector_all(
            "#rows tr", "trs => trs.map(tr => [...tr.cells].map(td => td.textContent))"
        )
        if page.locator("#next").is_disabled():
            return seen
        page.click("#next")


def test_report_shows_the_same_numbers_as_report_json(
    rehearsal: Rehearsal, page: Page, tmp_path: Path
) -> None:
    """The counts per step equal `status --json`; the table's rows equal `report --format json`."""
    page.goto(rehearsal.html.as_uri())
    page.screenshot(path=tmp_path / "report.png", full_page=True)
    steps = rehearsal.status["steps"]
    for i, step in enumerate(steps):
        for key in ("total", "succeeded", "failed", "skipped", "needs_action", "pending"):
            cell = page.locator(f'#counts tr[data-step="{i}"] td[data-status="{key}"]')
            assert int(cell.inner_text()) == step[key], (step["step"], key)
    total = page.locator('#counts tr[data-step="all"] td[data-status="failed"]')
    assert int(total.inner_text()) == rehearsal.status["numbers"]["failed"]
    shown = _table_rows(page)
    expected = [
        [r["step"], r["number"], r["input"], r["status"], r["order_id"], r["error_code"]]
        for r in rehearsal.rows
    ]
    assert [row[:6] for row in shown] == expected
    assert "Finished with 15 number(s) failed" in page.inner_text("#verdict")


def test_search_finds_a_number_and_the_failure_group_lists_its_code(
    rehearsal: Rehearsal, page: Page, tmp_path: Path
) -> None:
    """Searching a refused number shows its rows; its failure group names code 19006."""
    page.goto(rehearsal.html.as_uri())
    page.fill("#q", "9198064286")
    page.wait_for_function("document.getElementById('page-info').textContent.includes('filtered')")
    rows = page.eval_on_selector_all("#rows tr", "trs => trs.map(tr => tr.cells[3].textContent)")
    expected = [r["status"] for r in rehearsal.rows if r["number"] == "+19198064286"]
    assert rows == expected == ["failed", "skipped"]
    page.screenshot(path=tmp_path / "search.png")
    group = page.locator('#failures .group[data-code="19006"]')
    assert "code 19006" in group.inner_text()
    assert "+19198064286" in group.inner_text()
    assert "2 number(s)" in group.inner_text()


def test_hostile_inputs_show_as_text_and_run_nothing(rehearsal: Rehearsal, page: Page) -> None:
    """A number file's markup, script end tags and formulas are shown as text, never run."""
    page.goto(rehearsal.html.as_uri())
    page.fill("#q", "hyperlink")
    page.wait_for_function("document.getElementById('page-info').textContent.includes('of 1 ')")
    assert page.locator("#rows tr td").nth(2).inner_text() == HOSTILE[1]
    page.fill("#q", "")
    page.wait_for_function("!document.getElementById('page-info').textContent.includes('filt')")
    assert page.evaluate("window.pwned") is None
    for text in HOSTILE:
        assert text in page.inner_text("#failures")
    assert page.locator("#rows-data").count() == 1  # no script element was closed early
    invalid = page.locator('#failures .group[data-code="INVALID_INPUT"]')
    invalid.locator("summary").click()  # "all 11 numbers": filled in from the embedded data
    invalid.locator("li").nth(10).wait_for()  # filled in by the page's script, not at once
    listed = invalid.locator("li").all_inner_texts()
    expected = [r["input"] for r in rehearsal.rows if r["error_code"] == "INVALID_INPUT"]
    assert listed == expected and len(listed) == 11 and set(HOSTILE) <= set(listed)


def test_the_report_requests_nothing_from_anywhere(rehearsal: Rehearsal, page: Page) -> None:
    """Opened, searched, paged and expanded, the report asks for no URL but its own file."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(rehearsal.html.as_uri())
    page.fill("#q", "+1")
    page.click("#next")
    for details in page.locator("details").all():
        details.evaluate("d => { d.open = true; }")
    page.emulate_media(media="print")
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(300)  # let anything the page might fetch start
    assert requests == [rehearsal.html.as_uri()]


@contextmanager
def _serving(*args: str) -> Iterator[str]:
    """`bwmigrate status --serve ARGS` in a child process; yields the URL it prints first."""
    with subprocess.Popen(
        cli("status", "--serve", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as serve:
        try:
            assert serve.stdout is not None
            yield serve.stdout.readline().strip()
        finally:
            serve.terminate()
            serve.wait(timeout=30)


def _wait_for(predicate: Any, what: str, timeout_s: float = 60.0) -> Any:
    """Poll `predicate` until it returns a truthy value (a deadline, not a sleep)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _finished(page: Page) -> int:
    """Numbers finished as the live page's counts show them."""
    cell = page.locator('#counts tr[data-step="all"] td[data-status="pending"]')
    total = page.locator('#counts tr[data-step="all"] td[data-status="total"]')
    return int(total.inner_text()) - int(cell.inner_text())


def test_live_page_counts_advance_during_a_run(
    tmp_path: Path, page: Page, browser: BrowserContext
) -> None:
    """`status --serve` beside a slowed rehearsal: the finished count rises to the run's end."""
    plan = example_plan(tmp_path, order_delay_s=1.0, batch_size=20)
    state = tmp_path / "live.db"
    with subprocess.Popen(
        cli("run", str(plan), "--sandbox", "--state", str(state), "--json"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    ) as run:
        try:
            audit = state.parent / "live.db.audit.jsonl"
            _wait_for(lambda: state.exists() and audit.exists(), "the run to start")
            with _serving("--state", str(state), "--port", "0") as url:
                assert url.startswith("http://127.0.0.1:"), url
                requests: list[str] = []
                page.on("request", lambda r: requests.append(r.url))
                page.goto(url)
                first = _finished(page)
                _wait_for(lambda: _finished(page) > first, "the live count to advance")
                page.screenshot(path=tmp_path / "live-running.png", full_page=True)
                out, _ = run.communicate(timeout=120)
                assert run.returncode == 1  # the planted failures; never locked out by the page
                final = json.loads(out)["numbers"]
                done = final["total"] - final["pending"]
                _wait_for(lambda: _finished(page) == done, "the live page to show the end")
                page.screenshot(path=tmp_path / "live-done.png", full_page=True)
        finally:
            if run.poll() is None:
                run.terminate()
    assert first < done
    assert all(u.startswith(url.rstrip("/")) for u in requests), requests


def test_the_report_marks_an_interruption_and_the_resume(tmp_path: Path, page: Page) -> None:
    """A rehearsal stopped by SIGTERM (exit 130) and run again: both runs' marks are shown."""
    plan = example_plan(tmp_path, order_delay_s=1.0, batch_size=20, hostile=False)
    state = tmp_path / "r.db"
    args = cli("run", str(plan), "--sandbox", "--state", str(state))
    with subprocess.Popen(args, cwd=tmp_path, stderr=subprocess.DEVNULL) as first:
        audit = tmp_path / "r.db.audit.jsonl"
        _wait_for(lambda: audit.exists() and audit.stat().st_size > 2000, "the first orders")
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=120) == 130
    again = subprocess.run(args, cwd=tmp_path, capture_output=True, timeout=120)
    assert again.returncode == 1, again.stderr
    html = tmp_path / "report.html"
    subprocess.run(cli("report", "--state", str(state), "--html", str(html)), check=True)
    page.goto(html.as_uri())
    marks = page.inner_text("#marks")
    for label in ("run 1 started", "run 1 ended: interrupted (130)", "run 2 resumed",
                  "run 2 ended: finished with failures (1)"):  # fmt: skip
        assert label in marks
        assert label in page.text_content("svg[aria-label='the run over time']")


def test_serve_off_loopback_requires_the_printed_token(rehearsal: Rehearsal) -> None:
    """Bound to 0.0.0.0, the page answers 403 without the printed token and 200 with it."""
    with _serving("--state", str(rehearsal.state), "--host", "0.0.0.0") as url:
        assert "?token=" in url, url
        base, token = url.split("?token=")
        local = base.replace("0.0.0.0", "127.0.0.1")
        assert httpx.get(local, timeout=10).status_code == 403
        assert httpx.get(f"{local}fragment?token=wrong", timeout=10).status_code == 403
        answer = httpx.get(f"{local}?token={token}", timeout=10)
        assert answer.status_code == 200 and "Live: example-cutover" in answer.text


def test_serve_on_loopback_answers_only_loopback_host_names(rehearsal: Rehearsal) -> None:
    """On 127.0.0.1 no token is needed, but a request naming another host (DNS rebinding) gets
    400."""
    with _serving("--state", str(rehearsal.state)) as url:
        assert url.startswith("http://127.0.0.1:") and "token" not in url
        assert httpx.get(url, timeout=10).status_code == 200
        rebound = httpx.get(url, headers={"Host": "attacker.example"}, timeout=10)
        assert rebound.status_code == 400


def test_serve_answers_503_in_one_line_when_the_state_file_turns_unreadable(
    rehearsal: Rehearsal, tmp_path: Path
) -> None:
    """A state file replaced by something else while served: 503 with the one-line reason."""
    state = tmp_path / "copy.db"
    state.write_bytes(rehearsal.state.read_bytes())
    with _serving("--state", str(state)) as url:
        assert httpx.get(f"{url}fragment", timeout=10).status_code == 200
        state.write_bytes(b"not a database, " * 512)
        answer = httpx.get(f"{url}fragment", timeout=10)
        assert answer.status_code == 503
        assert f"{state}: not a bwmigrate state file" in answer.text  # the CLI's one line
        assert "\n" not in answer.text.strip()
