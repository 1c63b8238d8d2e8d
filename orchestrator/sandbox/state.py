"""The sandbox's world: accounts, the number inventory, orders and their lifecycle, subscriptions.

No HTTP and no XML here. Time comes from an injected `Clock`. Orders move RECEIVED ->
PROCESSING -> COMPLETE/PARTIAL/FAILED by their timestamps; completion is computed lazily: every
public method first completes, in completion-time order, each order whose time has come, so
the inventory changes exactly once per order and in a deterministic order. All public methods
take one lock: the server thread and a test thread may both use the state.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from orchestrator.sandbox.clock import Clock
from orchestrator.sandbox.codes import IMPORTED_ELSEWHERE, describe
from orchestrator.sandbox.config import (
    AccountConfig,
    NumberSeed,
    SandboxConfig,
    SipPeerConfig,
    config_from_mapping,
)
from orchestrator.sandbox.model import (
    ApiError,
    ApiVersion,
    CheckerRequest,
    ImportRequest,
    NumberKind,
    OrderKind,
    OrderStatus,
    RejectedError,
    RemoveRequest,
    SubscriptionRequest,
    TnOptionGroup,
    TnOptionRequest,
    Warning_,
    parse_number,
    reject,
)
from orchestrator.sandbox.subscriptions import Subscription, SubscriptionBook
from orchestrator.sandbox.validation import (
    ValidImport,
    check_numbers,
    validate_import,
    validate_remove,
    validate_tnoptions,
)

MAX_LISTED_ORDERS = 1000
SMS_WARNING = "SMS is already Enabled or number is in processing."


@dataclass
class NumberRecord:
    """One number the sandbox knows, and its messaging state."""

    number: str
    kind: NumberKind
    account_id: str | None
    site_id: str | None
    sip_peer_id: str | None
    sms_enabled: bool = False
    campaign_id: str | None = None
    message_class: str | None = None
    imports: int = 0
    updated_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The record as the `/_sandbox/inventory` side endpoint shows it."""
        return {
            "number": self.number,
            "kind": self.kind.value,
            "account_id": self.account_id,
            "site_id": self.site_id,
            "sip_peer_id": self.sip_peer_id,
            "sms_enabled": self.sms_enabled,
            "campaign_id": self.campaign_id,
            "message_class": self.message_class,
            "imports": self.imports,
        }


@dataclass
class Order:
    """An accepted order; `final_status` and the outcome fields are set once, at completion."""

    kind: OrderKind
    order_id: str
    account_id: str
    endpoint: str
    version: ApiVersion
    created_by: str
    customer_order_id: str | None
    numbers: tuple[str, ...]
    created_at: float
    processing_at: float
    complete_at: float
    details: ValidImport | None = None
    groups: tuple[TnOptionGroup, ...] = ()
    final_status: OrderStatus | None = None
    completed_at: float | None = None
    errors: list[ApiError] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)

    def status_at(self, now: float) -> OrderStatus:
        """The `ProcessingStatus` at time `now`."""
        if self.final_status is not None:
            return self.final_status
        if now < self.processing_at or (
            now <= self.created_at and self.kind is not OrderKind.REMOVE
        ):
            return OrderStatus.RECEIVED
        return OrderStatus.PROCESSING

    def modified_at(self, now: float) -> float:
        """`LastModifiedDate` at time `now`."""
        if self.completed_at is not None:
            return self.completed_at
        return (
            self.processing_at if now >= self.processing_at > self.created_at else self.created_at
        )

    def history(self, now: float) -> list[tuple[float, str]]:
        """(time, status) steps so far, for `/history`."""
        steps = [(self.created_at, OrderStatus.RECEIVED.value)]
        if now >= self.processing_at:
            steps.append((self.processing_at, OrderStatus.PROCESSING.value))
        if self.final_status is not None and self.completed_at is not None:
            steps.append((self.completed_at, self.final_status.value))
        return steps


@dataclass(frozen=True)
class OrderFilter:
    """List filters (all optional; dates are inclusive `yyyy-MM-dd`)."""

    customer_order_id: str | None = None
    statuses: frozenset[OrderStatus] = frozenset()
    tn: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    loa_type: str | None = None


def iso(epoch_s: float) -> str:
    """Epoch seconds as the API's timestamp text (`2024-05-14T09:12:03.512Z`)."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SandboxState:
    """Inventory, orders and subscriptions of one sandbox. See the module docstring."""

    def __init__(self, config: SandboxConfig, clock: Clock) -> None:
        self.clock = clock
        self._initial = config
        self._lock = threading.RLock()
        self._load(config)

    # -- setup ---------------------------------------------------------------------------

    def _load(self, config: SandboxConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._seq = itertools.count()
        self.numbers: dict[str, NumberRecord] = {}
        self._orders: dict[str, Order] = {}
        self._by_kind: dict[tuple[str, OrderKind], list[Order]] = {}
        self._by_coid: dict[tuple[str, OrderKind, str], list[Order]] = {}
        self._pending: list[tuple[float, int, Order]] = []
        self.subscriptions = SubscriptionBook()
        self._add_numbers(config.numbers)

    def reset(self) -> None:
        """Forget every order, subscription and seed change: back to the starting config."""
        with self._lock:
            self._load(self._initial)

    def seed(self, data: Mapping[str, Any]) -> None:
        """Add accounts, numbers and failure rules (same keys as the TOML seed file)."""
        with self._lock:
            before = len(self.config.numbers)
            self.config = config_from_mapping(data, self.config)
            self._add_numbers(self.config.numbers[before:])

    def _add_numbers(self, seeds: Iterable[NumberSeed]) -> None:
        now = self.clock.now()
        for seed in seeds:
            site, peer = seed.site, seed.sip_peer
            account = self.account(seed.account) if seed.account else None
            if account is not None:
                site = site or (account.sites[0].id if account.sites else None)
                site_config = next((s for s in account.sites if s.id == site), None)
                default_peer = site_config.default_sip_peer() if site_config else None
                peer = peer or (default_peer.id if default_peer else None)
            for number in seed.expand():
                self.numbers[number] = NumberRecord(
                    number=number,
                    kind=seed.kind,
                    account_id=seed.account,
                    site_id=site,
                    sip_peer_id=peer,
                    sms_enabled=seed.sms_enabled,
                    campaign_id=seed.campaign_id,
                    message_class=seed.message_class,
                    imports=1 if seed.kind is NumberKind.IMPORTED else 0,
                    updated_at=now,
                )

    def account(self, account_id: str) -> AccountConfig | None:
        """The configured account, or None."""
        return next((a for a in self.config.accounts if a.id == account_id), None)

    def _sip_peer(
        self, account_id: str, site_id: str | None, peer_id: str | None
    ) -> SipPeerConfig | None:
        account = self.account(account_id)
        for site in account.sites if account else ():
            if site.id == site_id:
                return next((p for p in site.sip_peers if p.id == peer_id), None)
        return None

    def _account_or_403(self, account_id: str) -> AccountConfig:
        account = self.account(account_id)
        if account is None:
            raise reject(403, 1001, describe(1001))
        return account

    # -- lifecycle -------------------------------------------------------------------------

    def advance(self) -> None:
        """Complete every order whose completion time has passed, oldest first."""
        with self._lock:
            now = self.clock.now()
            while self._pending and self._pending[0][0] <= now:
                _, _, order = heapq.heappop(self._pending)
                self._complete(order)

    def _new_order(
        self,
        kind: OrderKind,
        account_id: str,
        numbers: tuple[str, ...],
        customer_order_id: str | None,
        extra_delay_s: float,
        **fields: Any,
    ) -> Order:
        now = self.clock.now()
        delay = self.config.order_delay_s
        order = Order(
            kind=kind,
            order_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            account_id=account_id,
            customer_order_id=customer_order_id,
            numbers=numbers,
            created_at=now,
            processing_at=now if kind is OrderKind.REMOVE else now + delay / 2,
            complete_at=now + delay + extra_delay_s,
            **fields,
        )
        self._orders[order.order_id] = order
        self._by_kind.setdefault((account_id, kind), []).append(order)
        if customer_order_id is not None:
            self._by_coid.setdefault((account_id, kind, customer_order_id), []).append(order)
        heapq.heappush(self._pending, (order.complete_at, next(self._seq), order))
        return order

    def _complete(self, order: Order) -> None:
        if order.kind is OrderKind.TNOPTIONS:
            failed = self._complete_tnoptions(order)
            total = len({n for g in order.groups for n in g.numbers})
        else:
            failed = self._complete_numbers(order)
            total = len(order.numbers)
        order.completed_at = order.complete_at
        if not failed:
            order.final_status = OrderStatus.COMPLETE
        elif failed >= total:
            order.final_status = OrderStatus.FAILED
        else:
            order.final_status = OrderStatus.PARTIAL

    def _complete_numbers(self, order: Order) -> int:
        """Import or remove each number; group failures by (code, description)."""
        removing = order.kind is OrderKind.REMOVE or (
            order.details is not None and order.details.action == "REMOVE"
        )
        grouped: dict[tuple[int, str], list[str]] = {}
        for number in order.numbers:
            if removing:
                error = self._remove_error(order, number)
            else:
                error = self._import_error(order.account_id, number, OrderKind.IMPORT)
            if error is None:
                self._apply(order, number, removing)
            else:
                grouped.setdefault((error.code, error.description), []).append(number)
        order.errors = [ApiError(c, d, tuple(ns)) for (c, d), ns in grouped.items()]
        return sum(len(ns) for ns in grouped.values())

    def _rule_error(self, kind: OrderKind, number: str, checker: bool = False) -> ApiError | None:
        for rule in self.config.failure_rules:
            if rule.matches(kind, number) and (rule.checker or not checker):
                return ApiError(rule.code, rule.description)
        return None

    def _import_error(
        self, account_id: str, number: str, kind: OrderKind, checker: bool = False
    ) -> ApiError | None:
        error = self._rule_error(kind, number, checker)
        if error is not None:
            return error
        record = self.numbers.get(number)
        if record is None:
            return None
        if record.kind in (NumberKind.INSERVICE, NumberKind.BANDWIDTH):
            return ApiError(19006, describe(19006))
        if record.account_id != account_id:
            return ApiError(
                IMPORTED_ELSEWHERE,
                "The number is already imported for hosted messaging on another account.",
            )
        return None

    def _remove_error(self, order: Order, number: str) -> ApiError | None:
        error = self._rule_error(OrderKind.REMOVE, number)
        if error is not None:
            return error
        record = self.numbers.get(number)
        if (
            record is None
            or record.kind is not NumberKind.IMPORTED
            or (record.account_id != order.account_id)
        ):
            if order.endpoint == "externalTns":
                return ApiError(25120, "The TNs provided are not external.")
            return ApiError(5158, describe(5158))
        return None

    def _apply(self, order: Order, number: str, removing: bool) -> None:
        if removing:
            del self.numbers[number]
            return
        details = order.details
        assert details is not None
        previous = self.numbers.get(number)
        self.numbers[number] = NumberRecord(
            number=number,
            kind=NumberKind.IMPORTED,
            account_id=order.account_id,
            site_id=details.site_id,
            sip_peer_id=details.sip_peer_id,
            imports=(previous.imports if previous else 0) + 1,
            updated_at=order.complete_at,
        )

    def _complete_tnoptions(self, order: Order) -> int:
        failed = 0
        for group in order.groups:
            for text in group.numbers:
                error = self._apply_options(order, group, text)
                if error is not None:
                    order.errors.append(ApiError(error.code, error.description, (error.numbers)))
                    failed += 1
        return failed

    def _apply_options(self, order: Order, group: TnOptionGroup, text: str) -> ApiError | None:
        """Apply one group's options to one number; the error (with the number) if it fails."""
        number = parse_number(text, order.version)
        if number is None:
            code = 1022 if order.version is ApiVersion.V2 else 5070
            return ApiError(code, describe(code), (text,))
        rule = self._rule_error(OrderKind.TNOPTIONS, number)
        record = self.numbers.get(number)
        if rule is not None:
            return ApiError(rule.code, rule.description, (number,))
        if (
            record is None
            or record.account_id != order.account_id
            or (record.kind is NumberKind.BANDWIDTH)
        ):
            return ApiError(5076, describe(5076), (number,))
        if record.kind is NumberKind.IMPORTED and group.options:
            return ApiError(5128, describe(5128), (number,))
        sms = record.sms_enabled if group.sms in (None, "unchanged") else group.sms == "on"
        if group.sms == "on":
            peer = self._sip_peer(order.account_id, record.site_id, record.sip_peer_id)
            if peer is not None and not peer.sms_enabled:
                return ApiError(5166, describe(5166), (number,))
        a2p = group.a2p
        if a2p is not None and (a2p.action or "asSpecified") == "asSpecified" and not sms:
            return ApiError(5132, describe(5132), (number,))
        if group.sms == "on" and record.sms_enabled:
            order.warnings.append(Warning_(number, SMS_WARNING))
        record.sms_enabled = sms
        if not sms:
            record.campaign_id = record.message_class = None
        if a2p is not None:
            self._apply_a2p(record, a2p.action or "asSpecified", a2p.campaign_id, a2p.message_class)
        record.updated_at = order.complete_at
        return None

    @staticmethod
    def _apply_a2p(
        record: NumberRecord, action: str, campaign: str | None, cls: str | None
    ) -> None:
        if action == "asSpecified":
            record.campaign_id = campaign or record.campaign_id
            record.message_class = cls or record.message_class
        elif action == "off":
            record.campaign_id, record.message_class = None, "P"
        elif action in ("systemDefault", "delete"):
            record.campaign_id = None
            if action == "systemDefault":
                record.message_class = None

    # -- creating orders ---------------------------------------------------------------------

    def create_import(
        self,
        account_id: str,
        req: ImportRequest,
        version: ApiVersion,
        user: str,
        *,
        external_tns: bool = False,
        extra_delay_s: float = 0.0,
    ) -> Order:
        """Accept an import (or v1 externalTns) order, or raise `RejectedError`."""
        with self._lock:
            self.advance()
            account = self._account_or_403(account_id)
            valid = validate_import(
                req, account, version, self.config.max_numbers_per_order, external_tns=external_tns
            )
            kind = OrderKind.REMOVE if valid.action == "REMOVE" else OrderKind.IMPORT
            return self._new_order(
                kind, account_id, valid.numbers, valid.customer_order_id, extra_delay_s,
                endpoint="externalTns" if external_tns else "importTnOrders",
                version=version, created_by=user, details=valid,
            )  # fmt: skip

    def create_remove(
        self,
        account_id: str,
        req: RemoveRequest,
        version: ApiVersion,
        user: str,
        *,
        extra_delay_s: float = 0.0,
    ) -> Order:
        """Accept a removal order, or raise `RejectedError`."""
        with self._lock:
            self.advance()
            self._account_or_403(account_id)
            valid = validate_remove(req, version, self.config.max_numbers_per_order)
            return self._new_order(
                OrderKind.REMOVE, account_id, valid.numbers, valid.customer_order_id,
                extra_delay_s, endpoint="removeImportedTnOrders", version=version, created_by=user,
            )  # fmt: skip

    def create_tnoptions(
        self,
        account_id: str,
        req: TnOptionRequest,
        version: ApiVersion,
        user: str,
        *,
        extra_delay_s: float = 0.0,
    ) -> Order:
        """Accept a TN option order, or raise `RejectedError`."""
        with self._lock:
            self.advance()
            account = self._account_or_403(account_id)
            validate_tnoptions(req, account, self.config.max_numbers_per_order)
            numbers = tuple(parse_number(t, version) or t for g in req.groups for t in g.numbers)
            return self._new_order(
                OrderKind.TNOPTIONS, account_id, numbers, req.customer_order_id, extra_delay_s,
                endpoint="tnoptions", version=version, created_by=user, groups=req.groups,
            )  # fmt: skip

    def check_import(
        self, account_id: str, req: CheckerRequest, version: ApiVersion
    ) -> tuple[list[str], list[ApiError]]:
        """`importTnChecker`: (importable numbers, errors grouped by code) or `RejectedError`."""
        with self._lock:
            self.advance()
            account = self._account_or_403(account_id)
            errors: list[ApiError] = []
            if req.site_id is not None:
                validate_import(  # reuses the placement rules (7309/7312)
                    ImportRequest(root="ImportTnCheckerPayload", numbers=("+12025550100",),
                                  site_id=req.site_id, sip_peer_id=req.sip_peer_id),
                    account, ApiVersion.V2, 1,
                )  # fmt: skip
            numbers, number_errors = check_numbers(
                req.numbers,
                ApiVersion.V1 if version is ApiVersion.V1 else ApiVersion.V2,
                self.config.max_numbers_per_order,
            )
            if number_errors:
                errors = _checker_errors(req.numbers, version, self.config.max_numbers_per_order)
                raise RejectedError(400, errors)
            ok: list[str] = []
            grouped: dict[tuple[int, str], list[str]] = {}
            for number in numbers:
                error = self._import_error(account_id, number, OrderKind.IMPORT, checker=True)
                if error is None:
                    ok.append(number)
                else:
                    grouped.setdefault((error.code, error.description), []).append(number)
            return ok, [ApiError(c, d, tuple(ns)) for (c, d), ns in grouped.items()]

    # -- reading orders ----------------------------------------------------------------------

    def get_order(self, kind: OrderKind, account_id: str, order_id: str) -> Order | None:
        """The order of this kind and account with that id, or None."""
        with self._lock:
            self.advance()
            self._account_or_403(account_id)
            order = self._orders.get(order_id)
            if order is None or order.account_id != account_id or order.kind is not kind:
                return None
            return order

    def find_external_order(self, account_id: str, order_id: str) -> Order | None:
        """A v1 externalTns order (import or remove) by id."""
        with self._lock:
            self.advance()
            self._account_or_403(account_id)
            order = self._orders.get(order_id)
            if order is None or order.account_id != account_id or order.endpoint != "externalTns":
                return None
            return order

    def list_orders(
        self,
        kinds: tuple[OrderKind, ...],
        account_id: str,
        filters: OrderFilter,
        endpoint: str | None = None,
    ) -> tuple[int, list[Order]]:
        """(total matches, newest first up to 1000); `customerOrderId` is an index lookup."""
        with self._lock:
            self.advance()
            self._account_or_403(account_id)
            now = self.clock.now()
            candidates: list[Order] = []
            for kind in kinds:
                if filters.customer_order_id is not None:
                    key = (account_id, kind, filters.customer_order_id)
                    candidates.extend(self._by_coid.get(key, ()))
                else:
                    candidates.extend(self._by_kind.get((account_id, kind), ()))
            matched = [
                o for o in candidates
                if (endpoint is None or o.endpoint == endpoint) and _matches(o, filters, now)
            ]  # fmt: skip
            matched.sort(key=lambda o: o.created_at, reverse=True)
            return len(matched), matched[:MAX_LISTED_ORDERS]

    def ledger_orders(self) -> list[dict[str, Any]]:
        """Every accepted order as the ledger shows it."""
        with self._lock:
            self.advance()
            now = self.clock.now()
            return [
                {
                    "kind": o.kind.value,
                    "endpoint": o.endpoint,
                    "order_id": o.order_id,
                    "account_id": o.account_id,
                    "customer_order_id": o.customer_order_id,
                    "numbers": list(o.numbers),
                    "status": o.status_at(now).value,
                    "created_at": iso(o.created_at),
                }
                for o in self._orders.values()
            ]

    # -- numbers -----------------------------------------------------------------------------

    def number(self, number: str) -> NumberRecord | None:
        """The inventory record of a number (after completing due orders)."""
        with self._lock:
            self.advance()
            return self.numbers.get(number)

    def account_numbers(self, account_id: str) -> list[str]:
        """Numbers in service on the account (Bandwidth numbers and imported ones), sorted."""
        with self._lock:
            self.advance()
            self._account_or_403(account_id)
            return sorted(
                r.number for r in self.numbers.values()
                if r.account_id == account_id and r.kind is not NumberKind.BANDWIDTH
            )  # fmt: skip

    def inventory_json(self) -> list[dict[str, Any]]:
        """Every number, for `/_sandbox/inventory`."""
        with self._lock:
            self.advance()
            return [r.to_json() for r in sorted(self.numbers.values(), key=lambda r: r.number)]

    def sip_peer_sms_feature(
        self, account_id: str, site_id: str | None, peer_id: str | None
    ) -> bool:
        """Whether a SIP peer has the SMS feature (False when unknown)."""
        with self._lock:
            peer = self._sip_peer(account_id, site_id, peer_id)
            return peer is not None and peer.sms_enabled

    def set_sms(self, number: str, enabled: bool) -> bool:
        """v1 SIP-peer TN PUT: set SmsEnabled; returns whether it was already enabled."""
        with self._lock:
            record = self.numbers[number]
            was = record.sms_enabled
            record.sms_enabled = enabled
            record.updated_at = self.clock.now()
            return was

    # -- subscriptions -----------------------------------------------------------------------

    def create_subscription(
        self, account_id: str, req: SubscriptionRequest, version: ApiVersion
    ) -> Subscription:
        """Validate and store a subscription, or raise `RejectedError`."""
        with self._lock:
            self._account_or_403(account_id)
            sub_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            return self.subscriptions.create(sub_id, account_id, req, version, self.clock.now())

    def list_subscriptions(self, account_id: str) -> list[Subscription]:
        """The account's subscriptions."""
        with self._lock:
            self._account_or_403(account_id)
            return self.subscriptions.list(account_id)

    def get_subscription(self, account_id: str, sub_id: str) -> Subscription:
        """One subscription, or `RejectedError` 404."""
        with self._lock:
            self._account_or_403(account_id)
            sub = self.subscriptions.get(account_id, sub_id)
            if sub is None:
                raise RejectedError(404, [])
            return sub

    def replace_subscription(
        self, account_id: str, sub_id: str, req: SubscriptionRequest, version: ApiVersion
    ) -> Subscription:
        """PUT: replace a subscription, or `RejectedError` 404/400."""
        with self._lock:
            self.get_subscription(account_id, sub_id)
            return self.subscriptions.replace(sub_id, req, version)

    def delete_subscription(self, account_id: str, sub_id: str) -> None:
        """DELETE: remove a subscription, or `RejectedError` 404."""
        with self._lock:
            self.get_subscription(account_id, sub_id)
            self.subscriptions.delete(account_id, sub_id)


def _matches(order: Order, filters: OrderFilter, now: float) -> bool:
    if filters.statuses and order.status_at(now) not in filters.statuses:
        return False
    if filters.tn is not None and filters.tn not in order.numbers:
        return False
    created = datetime.fromtimestamp(order.created_at, UTC).date()
    if filters.created_from is not None and created < filters.created_from:
        return False
    if filters.created_to is not None and created > filters.created_to:
        return False
    if filters.loa_type not in (None, "ALL"):
        return order.details is not None and order.details.loa_type == filters.loa_type
    return True


def _checker_errors(raw: tuple[str, ...], version: ApiVersion, max_numbers: int) -> list[ApiError]:
    """importTnChecker's 400 errors: 7316 empty, 7314 too many, 7360 duplicates, 7201 per
    invalid number (its text names the number, as in the documented example)."""
    if not raw:
        return [ApiError(7316, "At least one telephone number must be provided.")]
    errors = [
        ApiError(7201, describe(7201, text)) for text in raw if parse_number(text, version) is None
    ]
    if len(set(raw)) != len(raw):
        errors.append(ApiError(7360, "Telephone number list can't contain duplicates."))
    if len(raw) > max_numbers:
        errors.append(
            ApiError(
                7314, f"The number of telephone numbers provided exceeds the maximum {max_numbers}"
            )
        )
    return errors
