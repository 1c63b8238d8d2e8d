"""What a sandbox starts with: accounts, sites, SIP peers, inventory, failure rules,
credentials, order timing, rate limit and fault probabilities; loadable from a TOML seed file.

A seed file (every table optional; the values shown are the defaults)::

    seed = 0                      # drives every fault decision
    order_delay_s = 0.0           # RECEIVED for the first half, PROCESSING for the second
    rate_limit_per_s = 0          # requests per second per account; 0 = off
    token_expires_s = 3600        # lifetime of OAuth2 access tokens
    max_numbers_per_order = 5000  # 5095 above it
    import_body_forms = ["ImportTnOrder", "ExternalTnsOrder"]
                                  # import roots accepted (the excerpt's schema form, the
                                  # migration guide's form); another root: 400 1019
    strict_schema = true          # every v2 request body is judged by the published schema
                                  # (orchestrator.spec; an ExternalTnsOrder by the guide's
                                  # element set) and refused 400 with a catalogue code per
                                  # violation (table in `refusal`: unknown element 1005,
                                  # missing 1003, bad value 1008, ...); v1 import, removal and
                                  # checker bodies too, their 10-digit numbers read as +1.
                                  # false: the lenience of old rehearsal files

    [credentials]
    username = "sandbox"          # HTTP Basic
    password = "sandbox"
    client_id = "sandbox-client"  # OAuth2 client credentials -> Bearer
    client_secret = "sandbox-secret"

    [faults]                      # each *_rate is a probability in [0, 1]
    error_rate = 0.0              # 500 with a ResponseStatus 1000 body
    throttle_rate = 0.0           # 429 regardless of the rate limit (a "429 storm")
    latency_rate = 0.0            # add latency_s before answering
    latency_s = 0.2
    reset_rate = 0.0              # break the connection before handling
    drop_after_commit_rate = 0.0  # create the order, then break the connection
    drop_mode = "reset"           # or "hang": hold the response until the client gives up
    hang_s = 30.0                 # longest a "hang" holds a connection
    slow_order_rate = 0.0         # orders that stay PROCESSING slow_order_s longer
    slow_order_s = 30.0
    list_lag_s = 0.0              # a new order (any kind) shows in list endpoints (any filter)
                                  # exactly this many seconds after its creation on the sandbox
                                  # clock; GET by id and the ledger see it at once
    callback_drop_rate = 0.0      # order notifications never sent
    callback_duplicate_rate = 0.0 # ... sent twice
    callback_reorder_rate = 0.0   # ... held back and sent after the next one
    callback_retries = 3          # attempts after a failed delivery (0: Bandwidth's rule)

    [[accounts]]                  # default: account 9900012, sites 743 and 486 (see below)
    id = "9900012"
    route_plan_enabled = false    # OriginationRoutePlan in a TN option order -> 409 5200
    [[accounts.sites]]
    id = "743"
    [[accounts.sites.sip_peers]]
    id = "303716"
    sms_enabled = true            # the SIP peer's SMS feature (5166 when false)
    default = true                # used when an order names the site only

    [[numbers]]                   # inventory; `count` expands to consecutive numbers
    number = "+19195550100"
    count = 1
    kind = "inservice"            # inservice | bandwidth | imported
    account = "9900012"           # defaults to the first account (not for kind = bandwidth)
    site = "743"                  # defaults to the account's first site
    sip_peer = "303716"           # defaults to the site's default SIP peer
    sms_enabled = false
    campaign_id = ""
    message_class = ""

    [[failure_rules]]             # make chosen numbers fail with chosen codes
    numbers = ["+12262665583"]    # and/or prefix = "+1226"
    kind = "import"               # import | remove | tnoptions
    code = 7518
    description = "Telephone Number Not Active."   # default: the catalogue text for `code`
    checker = true                # import rules also show in importTnChecker
    status = "EXCEPTION"          # unset by default; kind = "import" only: an import order with a
                                  # matching number ends in ProcessingStatus EXCEPTION (nothing
                                  # imported); its GET shows one Errors/Error with this code and
                                  # description listing every number of the order. Not shown
                                  # by importTnChecker. Without `status`: the number fails alone.

This module reads only the file it is given; it does no other I/O.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from orchestrator.errors import InputError
from orchestrator.sandbox.codes import describe
from orchestrator.sandbox.model import (
    NumberKind,
    OrderKind,
    OrderStatus,
    is_e164,
)
from orchestrator.spec import IMPORT_BODY_FORMS

DEFAULT_ACCOUNT_ID = "9900012"


@dataclass(frozen=True)
class Credentials:
    """The one API user and the one OAuth2 client the sandbox accepts (for every account)."""

    username: str = "sandbox"
    password: str = "sandbox"  # noqa: S105 - documented sandbox default, not a secret
    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"  # noqa: S105 - documented sandbox default


@dataclass(frozen=True)
class SipPeerConfig:
    """A SIP peer (location) of a site."""

    id: str
    sms_enabled: bool = True
    default: bool = False


@dataclass(frozen=True)
class SiteConfig:
    """A site (sub-account) and its SIP peers."""

    id: str
    sip_peers: tuple[SipPeerConfig, ...] = ()

    def default_sip_peer(self) -> SipPeerConfig | None:
        """The SIP peer marked default, else the first one, else None."""
        for peer in self.sip_peers:
            if peer.default:
                return peer
        return self.sip_peers[0] if self.sip_peers else None


@dataclass(frozen=True)
class AccountConfig:
    """An account with its sites."""

    id: str
    sites: tuple[SiteConfig, ...] = ()
    route_plan_enabled: bool = False


@dataclass(frozen=True)
class NumberSeed:
    """One or `count` consecutive numbers in the inventory."""

    number: str
    kind: NumberKind = NumberKind.INSERVICE
    account: str | None = None
    site: str | None = None
    sip_peer: str | None = None
    sms_enabled: bool = False
    campaign_id: str | None = None
    message_class: str | None = None
    count: int = 1

    def expand(self) -> Iterator[str]:
        """The E.164 numbers this seed stands for."""
        start = int(self.number[1:])
        for offset in range(self.count):
            yield f"+{start + offset}"


@dataclass(frozen=True)
class FailureRule:
    """Numbers (listed or by prefix) that fail in orders of `kind` with `code`."""

    kind: OrderKind
    code: int
    description: str
    numbers: frozenset[str] = frozenset()
    prefix: str | None = None
    checker: bool = True
    status: OrderStatus | None = None
    """None: the number fails alone; EXCEPTION: the whole (import) order ends EXCEPTION."""

    def matches(self, kind: OrderKind, number: str) -> bool:
        """True when this rule makes `number` fail in an order of `kind`."""
        if kind is not self.kind:
            return False
        return number in self.numbers or (
            self.prefix is not None and number.startswith(self.prefix)
        )


@dataclass(frozen=True)
class FaultConfig:
    """Fault probabilities and their parameters (see the module docstring)."""

    error_rate: float = 0.0
    throttle_rate: float = 0.0
    latency_rate: float = 0.0
    latency_s: float = 0.2
    reset_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    drop_mode: str = "reset"
    hang_s: float = 30.0
    slow_order_rate: float = 0.0
    slow_order_s: float = 30.0
    list_lag_s: float = 0.0
    callback_drop_rate: float = 0.0  # order notifications never sent (`sandbox/notify.py`)
    callback_duplicate_rate: float = 0.0  # ... sent twice
    callback_reorder_rate: float = 0.0  # ... held back and sent after the next one
    callback_retries: int = 3  # attempts after a failed delivery (Bandwidth documents none)


def _default_accounts() -> tuple[AccountConfig, ...]:
    return (
        AccountConfig(
            id=DEFAULT_ACCOUNT_ID,
            sites=(
                SiteConfig("743", (SipPeerConfig("303716", sms_enabled=True, default=True),)),
                SiteConfig("486", (SipPeerConfig("500025", sms_enabled=True, default=True),)),
                SiteConfig("744", (SipPeerConfig("303717", sms_enabled=False, default=True),)),
            ),
        ),
    )


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox starts with. The defaults make a usable, fault-free sandbox."""

    accounts: tuple[AccountConfig, ...] = field(default_factory=_default_accounts)
    numbers: tuple[NumberSeed, ...] = ()
    failure_rules: tuple[FailureRule, ...] = ()
    credentials: Credentials = field(default_factory=Credentials)
    faults: FaultConfig = field(default_factory=FaultConfig)
    order_delay_s: float = 0.0
    rate_limit_per_s: float = 0.0
    token_expires_s: int = 3600
    max_numbers_per_order: int = 5000
    seed: int = 0
    import_body_forms: tuple[str, ...] = IMPORT_BODY_FORMS
    strict_schema: bool = True

    def with_changes(self, **changes: Any) -> SandboxConfig:
        """A copy with some fields replaced (`faults=FaultConfig(...)`, `seed=3`, ...)."""
        return replace(self, **changes)


def load_config(path: Path, base: SandboxConfig | None = None) -> SandboxConfig:
    """Read a TOML seed file on top of `base` (default: `SandboxConfig()`)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read sandbox seed file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"sandbox seed file {path} is not valid TOML: {exc}") from exc
    try:
        return config_from_mapping(data, base)
    except InputError as exc:
        raise InputError(f"sandbox seed file {path}: {exc}") from exc


def config_from_mapping(
    data: Mapping[str, Any], base: SandboxConfig | None = None
) -> SandboxConfig:
    """Build a config from parsed TOML/JSON: scalars and tables replace, lists of accounts,
    numbers and failure rules are added to `base`'s."""
    base = base or SandboxConfig()
    known = {
        "seed", "order_delay_s", "rate_limit_per_s", "token_expires_s", "max_numbers_per_order",
        "credentials", "faults", "accounts", "numbers", "failure_rules", "import_body_forms",
        "strict_schema",
    }  # fmt: skip
    unknown = set(data) - known
    if unknown:
        raise InputError(f"unknown keys {sorted(unknown)}; known: {sorted(known)}")
    changes: dict[str, Any] = {}
    for key, kind in (
        ("seed", int),
        ("order_delay_s", float),
        ("rate_limit_per_s", float),
        ("token_expires_s", int),
        ("max_numbers_per_order", int),
    ):
        if key in data:
            changes[key] = _number(data[key], key, kind)
    if "import_body_forms" in data:
        changes["import_body_forms"] = _body_forms(data["import_body_forms"])
    if "strict_schema" in data:
        strict = data["strict_schema"]
        if not isinstance(strict, bool):
            raise InputError(f"'strict_schema' must be true or false, got {strict!r}")
        changes["strict_schema"] = strict
    if "credentials" in data:
        changes["credentials"] = _dataclass(Credentials, data["credentials"], "credentials")
    if "faults" in data:
        changes["faults"] = _faults(data["faults"])
    accounts = base.accounts + tuple(_account(a) for a in _tables(data, "accounts"))
    changes["accounts"] = _merge_accounts(accounts)
    first_account = changes["accounts"][0].id if changes["accounts"] else None
    changes["numbers"] = base.numbers + tuple(
        _number_seed(n, first_account) for n in _tables(data, "numbers")
    )
    changes["failure_rules"] = base.failure_rules + tuple(
        _rule(r) for r in _tables(data, "failure_rules")
    )
    return replace(base, **changes)


def _body_forms(value: Any) -> tuple[str, ...]:
    """`import_body_forms`: a non-empty list of known import roots."""
    forms = value if isinstance(value, list) else [value]
    if not forms or any(form not in IMPORT_BODY_FORMS for form in forms):
        raise InputError(
            f"'import_body_forms' must list one or both of {list(IMPORT_BODY_FORMS)}, got {value!r}"
        )
    return tuple(dict.fromkeys(forms))


def _tables(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise InputError(f"'{key}' must be a list of tables ([[{key}]])")
    return value


def _number(value: Any, key: str, kind: type[int] | type[float]) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"'{key}' must be a number, got {value!r}")
    if value < 0:
        raise InputError(f"'{key}' must not be negative, got {value!r}")
    return kind(value)


def _dataclass(cls: type[Any], value: Any, where: str) -> Any:
    if not isinstance(value, Mapping):
        raise InputError(f"'{where}' must be a table")
    try:
        return cls(**{k: v for k, v in value.items()})
    except TypeError as exc:
        raise InputError(f"'{where}': {exc}") from exc


def _faults(value: Any) -> FaultConfig:
    faults: FaultConfig = _dataclass(FaultConfig, value, "faults")
    rates = ("error_rate", "throttle_rate", "latency_rate", "reset_rate",
             "drop_after_commit_rate", "slow_order_rate", "callback_drop_rate",
             "callback_duplicate_rate", "callback_reorder_rate")  # fmt: skip
    for name in rates:
        rate = getattr(faults, name)
        if not 0.0 <= float(rate) <= 1.0:
            raise InputError(f"faults.{name} must be a probability in [0, 1], got {rate!r}")
    if faults.drop_mode not in ("reset", "hang"):
        raise InputError(f"faults.drop_mode must be 'reset' or 'hang', got {faults.drop_mode!r}")
    lag = faults.list_lag_s
    if isinstance(lag, bool) or not isinstance(lag, int | float) or lag < 0:
        raise InputError(f"faults.list_lag_s must be a number of seconds >= 0, got {lag!r}")
    return replace(faults, list_lag_s=float(lag))


def _account(value: Mapping[str, Any]) -> AccountConfig:
    if "id" not in value:
        raise InputError("every [[accounts]] needs an id")
    sites = tuple(
        SiteConfig(
            id=str(site["id"]),
            sip_peers=tuple(
                SipPeerConfig(
                    id=str(peer["id"]),
                    sms_enabled=bool(peer.get("sms_enabled", True)),
                    default=bool(peer.get("default", False)),
                )
                for peer in _tables(site, "sip_peers")
            ),
        )
        for site in _tables(value, "sites")
    )
    return AccountConfig(
        id=str(value["id"]),
        sites=sites,
        route_plan_enabled=bool(value.get("route_plan_enabled", False)),
    )


def _merge_accounts(accounts: tuple[AccountConfig, ...]) -> tuple[AccountConfig, ...]:
    """Accounts with the same id are merged: later sites replace earlier ones of that id."""
    merged: dict[str, AccountConfig] = {}
    for account in accounts:
        if account.id in merged:
            old = merged[account.id]
            sites = {s.id: s for s in old.sites} | {s.id: s for s in account.sites}
            account = replace(account, sites=tuple(sites.values()))
        merged[account.id] = account
    return tuple(merged.values())


def _number_seed(value: Mapping[str, Any], first_account: str | None) -> NumberSeed:
    number = str(value.get("number", ""))
    if not is_e164(number):
        raise InputError(f"[[numbers]] number {number!r} is not E.164 (e.g. +19195550100)")
    try:
        kind = NumberKind(value.get("kind", "inservice"))
    except ValueError as exc:
        raise InputError(f"[[numbers]] {number}: kind must be one of {list(NumberKind)}") from exc
    account = value.get("account")
    if account is None and kind is not NumberKind.BANDWIDTH:
        account = first_account
    return NumberSeed(
        number=number,
        kind=kind,
        account=None if account is None else str(account),
        site=_opt_str(value.get("site")),
        sip_peer=_opt_str(value.get("sip_peer")),
        sms_enabled=bool(value.get("sms_enabled", False)),
        campaign_id=_opt_str(value.get("campaign_id")) or None,
        message_class=_opt_str(value.get("message_class")) or None,
        count=int(value.get("count", 1)),
    )


def _rule(value: Mapping[str, Any]) -> FailureRule:
    try:
        kind = OrderKind(value.get("kind", "import"))
        code = int(value["code"])
    except (KeyError, ValueError) as exc:
        raise InputError(
            "every [[failure_rules]] needs kind (import|remove|tnoptions) and an integer code"
        ) from exc
    numbers = frozenset(str(n) for n in value.get("numbers", []))
    prefix = _opt_str(value.get("prefix"))
    if not numbers and not prefix:
        raise InputError(f"[[failure_rules]] code {code}: give numbers or a prefix")
    return FailureRule(
        kind=kind,
        code=code,
        description=str(value.get("description") or describe(code)),
        numbers=numbers,
        prefix=prefix,
        checker=bool(value.get("checker", True)),
        status=_rule_status(value.get("status"), kind, code),
    )


def _rule_status(value: Any, kind: OrderKind, code: int) -> OrderStatus | None:
    """A rule's `status`: absent, or EXCEPTION on an import rule (only import orders end
    EXCEPTION: reference §8, §10)."""
    if value is None:
        return None
    if value != OrderStatus.EXCEPTION.value:
        raise InputError(
            f'[[failure_rules]] code {code}: status must be "EXCEPTION" (or absent), got {value!r}'
        )
    if kind is not OrderKind.IMPORT:
        raise InputError(
            f'[[failure_rules]] code {code}: status = "EXCEPTION" needs kind = "import" '
            f"(only import orders end EXCEPTION), got kind = {kind.value!r}"
        )
    return OrderStatus.EXCEPTION


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
