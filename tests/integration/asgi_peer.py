"""A real HTTP peer for client tests: a small ASGI app served by uvicorn on 127.0.0.1, port 0, in a
background thread (as tests/fuzz/hostile_api.py serves its app), for answers the sandbox never
gives (a 404 with a query error, a token endpoint that redirects). Nothing of bwmigrate is
mocked: the client's bytes go over a real socket.

    with serve_asgi(Starlette(routes=[...])) as base_url:
        ... ApiClient(f"{base_url}/api/v2", ...) ...
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

START_TIMEOUT_S = 10.0


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve `app` until the block ends; yield its base URL (`http://127.0.0.1:PORT`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="critical", access_log=False, lifespan="off", http="h11", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            sock.close()
            raise RuntimeError("the test peer did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
