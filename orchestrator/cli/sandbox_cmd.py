"""`bwmigrate sandbox`: serve the v2 API emulator in the foreground.

The one line on stdout is the v2 base URL (e.g. `http://127.0.0.1:54321/api/v2`, what `--target`
takes), flushed at once so a parent process can read it; the credentials and the side endpoints
(`/_sandbox/...`, at the root) go to stderr. It serves until SIGINT or SIGTERM
and then exits 0.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # the server (starlette, uvicorn, lxml) loads only to serve, never for --help
    from orchestrator.sandbox.config import SandboxConfig

_RATE = click.FloatRange(0.0, 1.0)
SIDE_ENDPOINTS = (
    ("GET", "/_sandbox/ledger"),
    ("GET", "/_sandbox/inventory"),
    ("POST", "/_sandbox/seed"),
    ("POST", "/_sandbox/reset"),
    ("GET", "/_sandbox/health"),
)
DEFAULT_ORDER_DELAY_S = 2.0  # a rehearsal shows orders passing through RECEIVED and PROCESSING


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--seed-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML seed file: accounts, inventory, failure rules, faults, timing.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Requests per second per account before 429 (0 = off).",
)
@click.option("--seed", type=int, default=None, help="Seed of every fault decision.")
@click.option(
    "--order-delay-s",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Seconds from RECEIVED to a terminal status (half RECEIVED, half PROCESSING); default 2.",
)
@click.option("--fault-5xx", type=_RATE, default=None, help="Probability of a 500 answer.")
@click.option(
    "--fault-429",
    type=_RATE,
    default=None,
    help="Probability of a 429 regardless of the rate limit.",
)
@click.option(
    "--fault-latency",
    type=_RATE,
    default=None,
    help="Probability of added latency (see --latency-s).",
)
@click.option(
    "--latency-s",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Latency added by --fault-latency.",
)
@click.option(
    "--fault-reset",
    type=_RATE,
    default=None,
    help="Probability of breaking the connection before handling.",
)
@click.option(
    "--fault-drop",
    type=_RATE,
    default=None,
    help="Probability that a create commits but its response is lost.",
)
@click.option(
    "--drop-mode",
    type=click.Choice(["reset", "hang"]),
    default=None,
    help="How a dropped response is lost: truncated, or held until the client gives up.",
)
@click.option(
    "--fault-slow-order",
    type=_RATE,
    default=None,
    help="Probability that an order stays PROCESSING --slow-order-s longer.",
)
@click.option(
    "--slow-order-s",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Extra PROCESSING time of a slow order.",
)
@click.option(
    "--list-lag-s",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Seconds before a new order shows in list endpoints (GET by id sees it at once).",
)
@click.option(
    "--callback-drop",
    type=_RATE,
    default=None,
    help="Probability that an order notification is never sent.",
)
@click.option(
    "--callback-duplicate",
    type=_RATE,
    default=None,
    help="Probability that an order notification is sent twice.",
)
@click.option(
    "--callback-reorder",
    type=_RATE,
    default=None,
    help="Probability that an order notification is held back and sent after the next one.",
)
@click.option(
    "--callback-retries",
    type=click.IntRange(min=0),
    default=None,
    help="Attempts after a failed callback delivery (default 3; Bandwidth documents none).",
)
def sandbox(
    host: str,
    port: int,
    seed_file: Path | None,
    rate_limit: float | None,
    seed: int | None,
    order_delay_s: float | None,
    fault_5xx: float | None,
    fault_429: float | None,
    fault_latency: float | None,
    latency_s: float | None,
    fault_reset: float | None,
    fault_drop: float | None,
    drop_mode: str | None,
    fault_slow_order: float | None,
    slow_order_s: float | None,
    list_lag_s: float | None,
    **callback: float | None,
) -> None:
    """Serve a local emulator of the v2 number-management API (with fault injection).

    Default credentials: Basic sandbox/sandbox; OAuth2 client sandbox-client/sandbox-secret.
    Options override the seed file. Side endpoints: GET /_sandbox/ledger, POST /_sandbox/reset,
    GET /_sandbox/inventory, POST /_sandbox/seed.
    """
    from orchestrator.sandbox.config import SandboxConfig, load_config
    from orchestrator.sandbox.server import serve_forever

    base = SandboxConfig(order_delay_s=DEFAULT_ORDER_DELAY_S)
    config = load_config(seed_file, base) if seed_file else base
    fault_changes: dict[str, Any] = {
        "error_rate": fault_5xx,
        "throttle_rate": fault_429,
        "latency_rate": fault_latency,
        "latency_s": latency_s,
        "reset_rate": fault_reset,
        "drop_after_commit_rate": fault_drop,
        "drop_mode": drop_mode,
        "slow_order_rate": fault_slow_order,
        "slow_order_s": slow_order_s,
        "list_lag_s": list_lag_s,
        **_callback_faults(callback),
    }
    faults = replace(config.faults, **{k: v for k, v in fault_changes.items() if v is not None})
    changes: dict[str, object] = {"faults": faults}
    for key, value in (("rate_limit_per_s", rate_limit), ("seed", seed),
                       ("order_delay_s", order_delay_s)):  # fmt: skip
        if value is not None:
            changes[key] = value
    config = config.with_changes(**changes)
    serve_forever(config, host, port, partial(_announce, config))


def _announce(config: SandboxConfig, root_url: str) -> None:
    """The v2 base URL on stdout, alone and flushed at once (the line a script reads and passes
    as `--target`); the credentials and the side endpoints on stderr."""
    click.echo(f"{root_url}/api/v2")
    sys.stdout.flush()
    creds = config.credentials
    side = ", ".join(f"{method} {root_url}{path}" for method, path in SIDE_ENDPOINTS)
    click.echo(
        f"bwmigrate sandbox: serving the v2 API at {root_url}/api/v2 (Basic {creds.username}/"
        f"{creds.password}; OAuth2 client {creds.client_id} with "
        f"BWMIGRATE_TOKEN_URL={root_url}/api/v1/oauth2/token); Ctrl-C to stop\n"
        f"bwmigrate sandbox: side endpoints (no auth): {side}",
        err=True,
    )


def _callback_faults(options: dict[str, float | None]) -> dict[str, float | None]:
    """`--callback-drop/-duplicate/-reorder P` and `--callback-retries N` as `[faults]` keys."""
    return {
        (key if key == "callback_retries" else f"{key}_rate"): value
        for key, value in options.items()
    }
