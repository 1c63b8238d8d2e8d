"""`bwmigrate doctor`: read-only checks that a target is ready for a run, one line per check.

Sends only GET list requests (filtered by a CustomerOrderId no order has, so answers stay
tiny) and, for OAuth2, one token request. What it checks, and what it cannot know:

    credentials  set in the environment; accepted (the OAuth2 token is obtained, or Basic / the
                 Bearer token is not refused with 401); for OAuth2, the token endpoint they go
                 to (Bandwidth's, or BWMIGRATE_TOKEN_URL; another host without it is exit 2)
    target       a usable base URL (https, or http on loopback); its path is /api/v2
    reachable    the host answers HTTP at all (DNS, TCP, TLS, proxy)
    v2 API       its answers are the v2 API's XML (an XML media type, an order list's root):
                 a web server or proxy answering every path with a 200 page is not the API
    account      the account answers these credentials (403 means it is not theirs)
    endpoints    the list endpoints of the three order kinds answer (importTnChecker is a POST and
                 is exercised by `plan --check`, not here)
    rate limit   429s during the probes (someone else is spending the budget) and any
                 rate-limit headers; Bandwidth does not publish its limits, so when no header
                 says, the headroom cannot be known in advance, and doctor says so
    clock        skew against the API's `Date` header (1 s resolution); 429 pauses use
                 `X-RateLimit-Reset`, an absolute time, so a skewed clock waits too little or long

Exit 0 when nothing failed (warnings included), 3 when a check failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

import click

from orchestrator.api.orders import ORDER_KINDS
from orchestrator.api.pacing import retry_at_from_headers
from orchestrator.cli.options import DEFAULT_TARGET, json_option, verbosity_options
from orchestrator.cli.output import Input, check_output
from orchestrator.cli.stop_signal import run_interruptible
from orchestrator.cli.verbosity import Verbosity
from orchestrator.errors import (
    AuthError,
    ExitCode,
    InputError,
    RateLimitedError,
    TransientApiError,
)
from orchestrator.text import counted, printable

if TYPE_CHECKING:  # the client (httpx) and the audit log load when doctor runs, not for --help
    from orchestrator.api.client import Credentials, Exchange
    from orchestrator.cutover.connection import Api, ApiAccess
    from orchestrator.state.audit import AuditLog

DEFAULT_ACCOUNT_ID = "9900012"  # the embedded sandbox's default account

PROBE_CUSTOMER_ORDER_ID = "bwmigrate-doctor-probe"
MAX_SKEW_S = 5.0
DEFAULT_RATE_PER_S = 5.0
ENDPOINTS = tuple((e.title, e.path) for e in ORDER_KINDS.values())
_LIMIT_HEADERS = (
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit-policy",
    "ratelimit",
)
_MARK = {True: "✓", False: "✗", None: "!"}
_V2_FIX = f"pass the v2 base URL, e.g. --target {DEFAULT_TARGET}"
_NOT_API_FIX = f"this host is not the v2 API (a web server, proxy or captive portal?): {_V2_FIX}"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the diagnosis: passed (True), failed (False) or could not tell (None)."""

    name: str
    ok: bool | None
    detail: str
    fix: str | None = None

    def line(self) -> str:
        """`✓ name: detail` (and ` — fix: ...` when it failed or warns)."""
        text = f"{_MARK[self.ok]} {self.name}: {self.detail}"
        return text + (f" — fix: {self.fix}" if self.fix and self.ok is not True else "")


@dataclass(frozen=True, slots=True)
class _Probe:
    label: str
    path: str
    status: int
    headers: dict[str, str]
    sent_at: float  # local epoch seconds
    elapsed_s: float
    foreign: str | None  # why a 2xx answer is not the v2 API's (None: it is, or not a 2xx)


def _credential_kind(credentials: Credentials, token_url: str | None) -> str:
    from orchestrator.api.client import BasicCredentials, ClientCredentials

    if isinstance(credentials, ClientCredentials):
        return "OAuth2 client credentials" + (f" (tokens from {token_url})" if token_url else "")
    if isinstance(credentials, BasicCredentials):
        return "HTTP Basic API user (Bandwidth deprecates these; OAuth2 is preferred)"
    return "Bearer token"


def _target_check(base_url: str) -> Check:
    path = urlsplit(base_url).path.rstrip("/")
    if path.lower().endswith("/api/v2"):
        return Check("target", True, f"{base_url} (the v2 API)")
    return Check(
        "target", None, f"{base_url}: its path is {path or '/'}, not …/api/v2", fix=_V2_FIX
    )


async def diagnose(
    base_url: str,
    account_id: str,
    credentials: Credentials | InputError,
    *,
    rate_per_s: float = DEFAULT_RATE_PER_S,
    clock: Callable[[], float] = time.time,
    audit: AuditLog | None = None,
    on_exchange: Callable[[Exchange], None] | None = None,
    timeout_s: float = 10.0,
    credentials_from: str = "the environment",
    token_url: str | None = None,
) -> list[Check]:
    """Run every check against `base_url` for `account_id`; stops early when one blocks the
    rest (no credentials, unusable URL, host unreachable, credentials refused). `token_url` is
    where client credentials may go (`ApiClient`'s; Bandwidth's token endpoint when None).
    Every exchange goes to `audit`, then to `on_exchange`."""
    if isinstance(credentials, InputError):
        return [Check("credentials", False, str(credentials), fix="export them, then retry")]
    from orchestrator.cutover.connection import ApiAccess, open_api

    access = ApiAccess(base_url, credentials, token_url)
    async with contextlib.AsyncExitStack() as stack:
        try:
            api = await stack.enter_async_context(
                open_api(access, account_id, rate_per_s=rate_per_s, audit=audit,
                         observe=on_exchange, timeout_s=timeout_s, connect_timeout_s=timeout_s)
            )  # fmt: skip
        except InputError as exc:
            kind = _credential_kind(credentials, None)
            checks = [Check("credentials", True, f"{kind} from {credentials_from}")]
            return [*checks, Check("target", False, str(exc), fix=_V2_FIX)]
        kind = _credential_kind(credentials, api.client.token_url)
        checks = [Check("credentials", True, f"{kind} from {credentials_from}")]
        checks.append(_target_check(api.client.base_url))
        try:
            probes = await _probe_lists(api, account_id, clock)
        except (AuthError, RateLimitedError, TransientApiError) as exc:
            return checks + _blocked(api.client.base_url, exc)
    return checks + _judge(api.client.base_url, account_id, credentials, probes, rate_per_s)


async def _probe_lists(api: Api, account_id: str, clock: Callable[[], float]) -> list[_Probe]:
    """GET each order list, filtered by a CustomerOrderId no order has, through the gate."""
    from orchestrator.api.gate import Priority

    probes: list[_Probe] = []
    for label, path in ENDPOINTS:
        full = f"accounts/{quote(account_id, safe='')}/{path}"
        await api.gate.acquire(Priority.POLL)
        sent_at, started = clock(), time.perf_counter()
        answer = await api.client.probe(f"{full}?customerOrderId={PROBE_CUSTOMER_ORDER_ID}")
        elapsed = time.perf_counter() - started
        probes.append(
            _Probe(label, full, answer.status, answer.headers, sent_at, elapsed, answer.foreign)
        )
    return probes


def _blocked(base_url: str, exc: Exception) -> list[Check]:
    """The check a request failure stops at: reachability, or the OAuth2 token itself."""
    host = urlsplit(base_url).netloc
    if isinstance(exc, AuthError):
        return [
            Check("reachable", True, f"{host} answered"),
            Check(
                "credentials accepted",
                False,
                str(exc),
                fix="check BWMIGRATE_CLIENT_ID and BWMIGRATE_CLIENT_SECRET (a revoked or "
                "mistyped client is refused at the token endpoint)",
            ),
        ]
    if isinstance(exc, RateLimitedError):
        return [
            Check("reachable", True, f"{host} answered"),
            Check("rate limit", False, str(exc), fix="wait for the window to reset, then retry"),
        ]
    return [
        Check(
            "reachable",
            False,
            f"{host}: {exc}",
            fix="check the --target host and port, DNS, proxy and firewall; "
            "try `curl -sI` to the same URL from this machine",
        )
    ]


def _judge(
    base_url: str,
    account_id: str,
    credentials: Credentials,
    probes: list[_Probe],
    rate_per_s: float,
) -> list[Check]:
    from orchestrator.api.client import BasicCredentials, ClientCredentials

    fastest = min(probes, key=lambda p: p.elapsed_s)
    host = urlsplit(base_url).netloc
    checks = [Check("reachable", True, f"{host} answered in {fastest.elapsed_s * 1000:.0f} ms")]
    foreign = [p for p in probes if p.foreign is not None]
    if foreign:  # nothing else it says can be believed: not the API's answer
        p = foreign[0]
        return [*checks, Check("v2 API", False, f"GET {p.path} {p.foreign}", fix=_NOT_API_FIX)]
    if any(p.status == 401 for p in probes):
        hint = {
            BasicCredentials: "check BWMIGRATE_USERNAME and BWMIGRATE_PASSWORD",
            ClientCredentials: "the token was refused: check the client's roles",
        }.get(type(credentials), "BWMIGRATE_TOKEN is refused (expired?): get a new token")
        return [*checks, Check("credentials accepted", False, "HTTP 401 Unauthorized", hint)]
    checks.append(Check("credentials accepted", True, "no request was refused with 401"))
    if all(p.status == 403 for p in probes):
        checks.append(
            Check(
                "account",
                False,
                f"HTTP 403 for account {account_id}: these credentials cannot use it",
                fix="check the plan's account_id, and that the API user or OAuth2 client has "
                "this account and its Numbers roles",
            )
        )
    else:
        checks.append(Check("account", True, f"{account_id} answers these credentials"))
    checks.extend(_endpoint(base_url, p) for p in probes)
    checks.append(_rate_check(probes, rate_per_s))
    checks.append(_clock_check(probes))
    return checks


def _endpoint(base_url: str, p: _Probe) -> Check:
    name = f"endpoint {p.path.split('/', 2)[2]}"
    if 200 <= p.status < 300:
        return Check(name, True, f"GET answered {p.status} ({p.label})")
    if p.status == 429:
        return Check(name, True, f"answered 429 (rate limited, but the endpoint exists; {p.label})")
    if p.status == 403:
        return Check(name, False, "HTTP 403 Access Denied", fix="the credentials lack this role")
    if p.status >= 500:
        return Check(name, False, f"HTTP {p.status} (server error)", fix="retry later")
    return Check(
        name,
        False,
        f"HTTP {p.status}: {base_url} does not serve this list ({p.label})",
        fix=f"{_V2_FIX}; and check the account has the hosted-messaging import feature",
    )


def _rate_check(probes: list[_Probe], rate_per_s: float) -> Check:
    limited = [p for p in probes if p.status == 429]
    if limited:
        last = limited[-1]
        at = retry_at_from_headers(last.headers, last.sent_at)
        when = f"; the window resets in {max(at - last.sent_at, 0):.0f} s" if at else ""
        return Check(
            "rate limit",
            False,
            f"{len(limited)} of {counted(len(probes), 'probe')} at {rate_per_s:g} req/s "
            f"answered 429{when}",
            fix="another client is spending this account's budget, or the limit is below the "
            "plan's rate: wait, and lower rate.requests_per_s",
        )
    seen = {k: v for p in probes for k, v in p.headers.items() if k in _LIMIT_HEADERS}
    if seen:
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(seen.items()))
        return Check("rate limit", True, f"the API reports {shown}")
    return Check(
        "rate limit",
        None,
        f"no 429 in {counted(len(probes), 'probe')} at {rate_per_s:g} req/s, and no rate-limit "
        "headers: "
        "the headroom cannot be known before a run (Bandwidth does not publish its limits)",
        fix="start at the plan's rate; a run pauses on 429 until X-RateLimit-Reset and slows down",
    )


def _clock_check(probes: list[_Probe]) -> Check:
    dated = [p for p in probes if "date" in p.headers]
    if not dated:
        return Check("clock", None, "no Date header in the answers: skew unknown")
    p = min(dated, key=lambda q: q.elapsed_s)
    try:
        server = parsedate_to_datetime(p.headers["date"]).timestamp()
    except (TypeError, ValueError, IndexError):
        return Check("clock", None, f"unreadable Date header {p.headers['date']!r}")
    # Date is truncated to the second: the server's time was in [server, server + 1).
    skew = server + 0.5 - (p.sent_at + p.elapsed_s / 2)
    if abs(skew) - 0.5 - p.elapsed_s / 2 > MAX_SKEW_S:
        side = "behind" if skew > 0 else "ahead of"
        return Check(
            "clock",
            False,
            f"this machine's clock is about {abs(skew):.0f} s {side} the API's (Date header)",
            fix="synchronise it (NTP): 429 pauses wait until X-RateLimit-Reset, an absolute time",
        )
    return Check(
        "clock",
        True,
        f"{skew:+.0f} s against the API's Date header (1 s resolution), within {MAX_SKEW_S:g} s",
    )


# --- the command ------------------------------------------------------------------------------


@contextlib.contextmanager
def _sandbox(plan_path: Path | None) -> Iterator[tuple[ApiAccess, str | None, float | None]]:
    """An embedded sandbox (prepared for the plan, if one is given), the plan's account and
    request rate."""
    from orchestrator.cli.loading import load_plan
    from orchestrator.cutover.rehearsal import rehearsal_sandbox, serve_sandbox
    from orchestrator.sandbox import SandboxConfig

    if plan_path is not None:
        plan = load_plan(plan_path)
        with rehearsal_sandbox(plan) as access:
            yield access, plan.spec.account_id, plan.spec.rate.requests_per_s
        return
    with serve_sandbox(SandboxConfig()) as access:
        yield access, None, None


def _plan_facts(plan_path: Path | None) -> tuple[str | None, float | None]:
    if plan_path is None:
        return None, None
    from orchestrator.cli.loading import load_plan

    spec = load_plan(plan_path).spec
    return spec.account_id, spec.rate.requests_per_s


def _print(
    checks: list[Check], target: str, account: str, as_json: bool, verbosity: Verbosity
) -> None:
    """The checks (`--quiet`: only those that did not pass), or the `--json` object."""
    if as_json:
        obj = {
            "ok": not any(c.ok is False for c in checks),
            "target": target,
            "account_id": account,
            "checks": [asdict(c) for c in checks],
        }
        click.echo(json.dumps(obj, indent=2))
        return
    if verbosity is Verbosity.QUIET:
        for c in checks:
            if c.ok is not True:
                click.echo(printable(c.line()))
        return
    click.echo(printable(f"bwmigrate doctor: {target}, account {account}"))
    for c in checks:
        click.echo(printable(c.line()))  # details quote the server's answers


def _show_exchange(exchange: Exchange) -> None:
    """`--verbose`: each request as it is answered, on stderr."""
    answer = str(exchange.status) if exchange.status is not None else exchange.error
    click.echo(
        f"doctor: {exchange.method} {exchange.path} -> {answer} in {exchange.elapsed_s:.2f}s",
        err=True,
    )


@click.command()
@click.option("--target", metavar="URL", help=f"The v2 API base URL (default {DEFAULT_TARGET}).")
@click.option("--sandbox", is_flag=True, help="Check the embedded sandbox instead.")
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Take the account and the request rate from this plan.",
)
@click.option("--account", "account_opt", metavar="ID", help="The account id (or use --plan).")
@click.option(
    "--audit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every request and answer to this audit log (JSON lines).",
)
@json_option()
@verbosity_options("Show each request as it is answered (on stderr).")
def doctor(
    target: str | None,
    sandbox: bool,
    plan_path: Path | None,
    account_opt: str | None,
    audit: Path | None,
    as_json: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Read-only checks before a run: credentials, reachability, account, endpoints, rate-limit
    headroom, clock skew. One line per check (✓ passed, ✗ failed with the fix, ! unknown).

    Credentials come from the BWMIGRATE_* environment variables (see README). Exit 0 when no
    check failed, 3 when one did, 2 on bad usage.
    """
    if sandbox and target:
        raise click.UsageError("choose one of --sandbox and --target")
    verbosity = Verbosity.from_flags(quiet, verbose)
    if audit is not None:  # appended to: never the plan, nor a state file
        protected = [Input(plan_path, "the plan")] if plan_path is not None else []
        check_output(audit, protected, force=True, option="--audit", appends=True)

    with contextlib.ExitStack() as stack:
        credentials: Credentials | InputError
        if sandbox:
            access, plan_account, rate = stack.enter_context(_sandbox(plan_path))
            url, credentials, token_url = access.base_url, access.credentials, access.token_url
        else:
            url = target or DEFAULT_TARGET
            from orchestrator.api.credentials import refuse_url_secrets

            refuse_url_secrets(url)  # exit 2 before the URL is printed or logged
            plan_account, rate = _plan_facts(plan_path)
            credentials, token_url = _env_credentials(url)
        account = account_opt or plan_account or (DEFAULT_ACCOUNT_ID if sandbox else None)
        if account is None:
            raise click.UsageError("give the account: --account ID, or --plan PLAN")
        log = None
        if audit is not None:
            audited = _audited(url, credentials, token_url, public=sandbox)
            log = stack.enter_context(_open_log(audit, audited, url, account))

        async def main() -> list[Check]:
            return await diagnose(
                url,
                account,
                credentials,
                rate_per_s=rate or DEFAULT_RATE_PER_S,
                audit=log,
                credentials_from="the sandbox's public login" if sandbox else "the environment",
                token_url=token_url,
                on_exchange=_show_exchange if verbosity is Verbosity.VERBOSE else None,
            )

        checks = run_interruptible(main)
    _print(checks, url, account, as_json, verbosity)
    sys.exit(int(ExitCode.ABORTED if any(c.ok is False for c in checks) else ExitCode.OK))


def _audited(
    url: str, credentials: Credentials | InputError, token_url: str | None, *, public: bool
) -> ApiAccess | None:
    """What the audit log must keep secret (nothing when there are no credentials)."""
    from orchestrator.cutover.connection import ApiAccess

    if isinstance(credentials, InputError):
        return None
    return ApiAccess(url, credentials, token_url, public=public)


def _open_log(
    audit: Path, access: ApiAccess | None, url: str, account: str
) -> contextlib.AbstractContextManager[AuditLog]:
    """doctor's audit log."""
    from orchestrator.cutover.connection import open_audit

    return open_audit(
        audit, access, context={"command": "doctor"}, session={"target": url, "account_id": account}
    )


def _env_credentials(url: str) -> tuple[Credentials | InputError, str | None]:
    """The environment's credentials (or why there are none: a failed check, not an error)
    and where client credentials may fetch tokens for `url` (none there: exit 2)."""
    from orchestrator.api.credentials import credentials_from_env
    from orchestrator.cli.login import token_url_from_env

    try:
        credentials = credentials_from_env(os.environ)
    except InputError as exc:
        return exc, None
    return credentials, token_url_from_env(os.environ, url, credentials)
