"""Browser machinery shared by `tests/e2e/test_html_cli.py` and `bench/screenshots.py`: Debian's
Chromium driven by Playwright for Python (never `playwright install`: `.ci/run` installs the
`chromium` package), and the example plan prepared for a rehearsal the pages can show.

Every page is opened in a fresh profile, its Content-Security-Policy bypassed (so the tests see
what the page itself does, not what the policy stops), with the flags that keep Chromium quiet
and offline on its own account (no component updates, no sync, no background requests), so a
request the page makes is the page's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, sync_playwright

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Numbers a customer's file may carry: markup, a script end tag, a spreadsheet formula, a
# script URL, escaped markup (shown as written, not unescaped).
HOSTILE = (
    "</script><script>window.pwned=1</script>",
    '=HYPERLINK("http://evil.example/","x")',
    '<img src=x onerror="window.pwned=2">',
    "javascript:alert(1)",
    "&lt;b&gt;not bold&lt;/b&gt;",
)


@contextmanager
def chromium(profile: Path, *, dark: bool = False) -> Iterator[BrowserContext]:
    """One Chromium with a fresh profile in `profile`; pages come from the context it yields."""
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1100, "height": 900},
            color_scheme="dark" if dark else "light",
            # The page's Content-Security-Policy would block (and hide) a request it tried;
            # bypassed, every request the page's own code makes is seen and counted.
            bypass_csp=True,
        )
        try:
            yield context
        finally:
            context.close()


def example_plan(
    folder: Path, *, order_delay_s: float = 0.0, batch_size: int = 100, hostile: bool = True
) -> Path:
    """A copy of the example plan in `folder`: paced fast, the hostile inputs added to its
    international step (unless not `hostile`), and (optionally) smaller orders the sandbox
    takes longer over."""
    shutil.copytree(REPO / "plans", folder / "plans")
    plan = folder / "plans" / "example.toml"
    text = plan.read_text()
    text = text.replace("requests_per_s = 10 ", "requests_per_s = 40 ")
    text = text.replace("expected_order_s = 3", "expected_order_s = 1\nvisibility_window_s = 1")
    text = text.replace("batch_size = 100 ", f"batch_size = {batch_size} ")
    extra = "".join(f"    {json.dumps(h)},\n" for h in HOSTILE) if hostile else ""
    text = text.replace('    "+61 8 7093 3125",\n]', f'    "+61 8 7093 3125",\n{extra}]')
    plan.write_text(text)
    if order_delay_s:
        seed = folder / "plans" / "example" / "rehearsal.toml"
        seed.write_text(f"order_delay_s = {order_delay_s}\n" + seed.read_text())
    return plan


def cli(*args: str) -> list[str]:
    """`bwmigrate ARGS` as this interpreter runs it."""
    return [sys.executable, "-m", "orchestrator", *args]


def cli_json(cwd: Path, *args: str) -> Any:
    """Run `bwmigrate ARGS` and parse its stdout as JSON."""
    out = subprocess.run(
        cli(*args), capture_output=True, text=True, timeout=120, cwd=cwd, check=True
    )
    return json.loads(out.stdout)
