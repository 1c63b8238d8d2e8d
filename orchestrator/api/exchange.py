"""What `ApiClient` reports of an exchange: an `Exchange` for counting and the audit log, and a
`ProbeAnswer` for `doctor` and a run's first look at its target.

Plain data: imports nothing of httpx, never holds a header value that is a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    """What `ApiClient.probe` saw: the status, the headers (lower-case names), and why a 2xx
    answer is not the v2 API's (None when it is, or when the status is not a 2xx)."""

    status: int
    headers: dict[str, str]
    foreign: str | None = None


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange, for counting and audit logs; never holds a header or a secret.

    `status` is None when the exchange failed without an answer; `error` then names the fault.
    `request_body` and `response_body` are the XML bytes sent and received (for the audit log
    to read numbers and error codes from); both are None for the OAuth2 token exchange, whose
    answer is a secret.
    """

    method: str
    path: str
    status: int | None
    error: str | None
    elapsed_s: float
    customer_order_id: str | None = None
    order_id: str | None = None
    request_body: bytes | None = field(default=None, repr=False, compare=False)
    response_body: bytes | None = field(default=None, repr=False, compare=False)
