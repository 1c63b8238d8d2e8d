"""The README's screenshots of `report --html` and `status --serve`, made from a real rehearsal.

    python bench/screenshots.py             # writes docs/img/report.png, report-dark.png, live.png

Rehearses the example plan (its planted failures) on the embedded sandbox, writes its HTML
report and photographs it in Debian's Chromium: the top in light mode, the failures and a
search of the table in dark mode; then
rehearses it again slowed down (orders of 20, each taking 1.5 s at the sandbox) with
`status --serve` beside it and photographs the live page mid-run. Nothing is drawn by hand.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from browser import chromium, cli, example_plan  # noqa: E402
from playwright.sync_api import Page  # noqa: E402

IMG = ROOT / "docs" / "img"
WIDTH = 1100  # the viewport of tests/e2e/browser.py


def _shoot(page: Page, name: str, top: float, height: float) -> None:
    """A screenshot of the page from `top` (CSS pixels) down `height`, into docs/img."""
    page.screenshot(
        path=IMG / name, full_page=True, clip={"x": 0, "y": top, "width": WIDTH, "height": height}
    )
    print(f"wrote {IMG / name}")


def report_shots(folder: Path) -> None:
    """The finished rehearsal's report: its top in light mode; failures and a search, dark."""
    plan = example_plan(folder, hostile=False)
    subprocess.run(
        cli("run", str(plan), "--sandbox", "--state", "r.db"),
        cwd=folder,
        capture_output=True,
        check=False,
    )
    subprocess.run(
        cli("report", "--state", "r.db", "--html", "report.html"), cwd=folder, check=True
    )
    html = folder / "report.html"
    with chromium(folder / "profile-light") as context:
        page = context.new_page()
        page.goto(html.as_uri())
        _shoot(page, "report.png", 0, 1560)
    with chromium(folder / "profile-dark", dark=True) as context:
        page = context.new_page()
        page.goto(html.as_uri())
        page.fill("#q", "19006")
        page.wait_for_function(
            "() => document.getElementById('page-info').textContent.includes('filtered')"
        )
        top = page.evaluate(
            "document.querySelectorAll('h2')[2].getBoundingClientRect().top + window.scrollY"
        )
        # the failures, then the searched table: the sections between them (estimate, plan)
        # hidden, so one image shows both
        page.evaluate(
            "() => { const h = document.querySelectorAll('main > h2');"
            " let hiding = false; for (const e of [...document.querySelector('main').children]) {"
            " if (e.tagName === 'H2') hiding = e === h[3] || e === h[4];"
            " if (hiding) e.style.display = 'none'; } }"
        )
        bottom = page.evaluate(
            "document.getElementById('numbers').getBoundingClientRect().bottom + window.scrollY"
        )
        _shoot(page, "report-dark.png", top - 10, bottom - top + 20)


def live_shot(folder: Path) -> None:
    """`status --serve` beside a slowed rehearsal, photographed once a third has finished."""
    plan = example_plan(folder, order_delay_s=1.5, batch_size=20, hostile=False)
    state = folder / "live.db"
    with subprocess.Popen(
        cli("run", str(plan), "--sandbox", "--state", "live.db"),
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as run:
        while not (state.exists() and state.with_name("live.db.audit.jsonl").exists()):
            time.sleep(0.1)
        serve = subprocess.Popen(
            cli("status", "--state", "live.db", "--serve"),
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert serve.stdout is not None
            url = serve.stdout.readline().strip()
            with chromium(folder / "profile-live") as context:
                page = context.new_page()
                page.goto(url)
                page.wait_for_function(
                    "() => { const c = document.querySelector("
                    '\'#counts tr[data-step="all"] td[data-status="succeeded"]\');'
                    " return c && +c.textContent > 200; }",
                    timeout=120_000,
                )
                _shoot(page, "live.png", 0, 1560)
        finally:
            serve.terminate()
            serve.wait(timeout=30)
            if serve.stdout is not None:
                serve.stdout.close()
            run.wait(timeout=120)


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, shoot in (("report", report_shots), ("live", live_shot)):
            (Path(tmp) / name).mkdir()
            shoot(Path(tmp) / name)


if __name__ == "__main__":
    main()
