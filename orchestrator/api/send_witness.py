"""Whether a request began to leave this machine: the api wing's answer for a POST cut short.

A create whose call is cancelled (the run stopping) has an unknown outcome unless the request
provably never left: `SendWitness` is handed to `ApiClient.create_order` and fed httpcore's
trace of that request. Pure (no I/O); must not import the client, the store or the engine.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["SendWitness"]


class SendWitness:
    """Whether a request may have left this machine, for a POST cut short (cancelled).

    The transport reports its steps (httpcore's trace): `maybe_sent` turns True when it starts
    writing the request, and stays True when the transport reports nothing at all (a custom
    transport, e.g. in tests): only a traced connection that never began writing is "not sent".
    """

    def __init__(self) -> None:
        self.traced = False
        self.writing = False

    @property
    def maybe_sent(self) -> bool:
        """False only when the transport was traced and never began writing the request."""
        return self.writing or not self.traced

    async def trace(self, event: str, info: Mapping[str, object]) -> None:
        """httpcore's trace callback ("connection.connect_tcp.started", "http11.send_...")."""
        self.traced = True
        if ".send_request_" in event:
            self.writing = True
