"""A target that is not the v2 API (a web server answering every path with an HTML 200):
`doctor` fails on it, and `run` stops before its first POST (issue 12 item 7)."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV = {k: v for k, v in os.environ.items() if not k.startswith("BWMIGRATE_")} | {
    "BWMIGRATE_USERNAME": "u",
    "BWMIGRATE_PASSWORD": "p",
}
PAGES = {
    "html": ("text/html; charset=utf-8", b"<!DOCTYPE html><html><body>Welcome</body></html>"),
    "xml-page": ("application/xml", b"<?xml version='1.0'?><html><body>hi</body></html>"),
    "json": ("application/json", b'{"ok": true}'),
}


class _Server(http.server.ThreadingHTTPServer):
    page: tuple[str, bytes]
    methods: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.server.methods.append(self.command)
        content_type, body = self.server.page
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(params=sorted(PAGES))
def not_the_api(request: pytest.FixtureRequest) -> Iterator[_Server]:
    """A server on 127.0.0.1 answering 200 with the same page to every request."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.page, server.methods = PAGES[request.param], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/api/v2"


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd, env=ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_doctor_fails_on_a_server_that_is_not_the_api(tmp_path: Path, not_the_api: _Server) -> None:
    """doctor's checks fail (exit 3) with a line saying the answers are not the v2 API's XML."""
    done = _cli(tmp_path, "doctor", "--target", _url(not_the_api), "--account", "9900012")
    assert done.returncode == 3, done.stdout
    failed = [line for line in done.stdout.splitlines() if line.startswith("✗")]
    assert len(failed) == 1 and "v2 API" in failed[0] and "--target" in failed[0], done.stdout
    assert "✓ account" not in done.stdout and "✓ endpoint" not in done.stdout


def test_run_posts_nothing_to_a_server_that_is_not_the_api(
    tmp_path: Path, not_the_api: _Server
) -> None:
    """A live run against it stops with exit 3 before any POST, saying what the host answered."""
    (tmp_path / "p.toml").write_text(
        'name = "p"\naccount_id = "9900012"\n[rate]\npoll_interval_s = 0.05\n'
        '[[steps]]\nkind = "remove"\nnumbers = ["+14352150001"]\n'
    )
    done = _cli(tmp_path, "run", "p.toml", "--target", _url(not_the_api), "--yes")
    assert done.returncode == 3, done.stderr
    assert "POST" not in not_the_api.methods and not_the_api.methods, not_the_api.methods
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("bwmigrate: aborted:") and "is not the v2 API" in last, last
    assert "no order was sent" in last
