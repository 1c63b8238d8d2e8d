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
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.sandbox.clock import Clock
from orchestrator.sandbox.codes import describe
from orchestrator.sandbox.config import (
    AccountConfig,
    SandboxConfig,
    config_from_mapping,
)
from orchestrator.sandbox.inventory import Inventory, NumberRecord
from orchestrator.sandbox.model import (
    ApiError,
    ApiVersion,
    CheckerRequest,
    ImportRequest,
    NumberKind,
    OrderKind,
    RejectedError,
    RemoveRequest,
    SubscriptionRequest,
    TnOptionRequest,
    parse_number,
    reject,
)
from orchestrator.sandbox.orders import Order, OrderFilter, iso, matches
from orchestrator.sandbox.subscriptions import Subscription, SubscriptionBook
from orchestrator.sandbox.validation import (
    check_numbers,
    resolve_placement,
    validate_import,
    validate_remove,
    validate_tnoptions,
)

MAX_LISTED_ORDERS = 1000


class SandboxState:
    """Inventory, orders and subscriptions of one sandbox. See the module docstring."""

    def __init__(self, config: SandboxConfig, clock: Clock) -> None:
        self.clock = clock
        # Called (under the lock) for each order reaching its terminal status; kept by reset.
        self.on_complete: Callable[[Order], None] | None = None
        self._initial = config
        self._lock = threading.RLock()
        self._load(config)

    # -- setup ---------------------------------------------------------------------------

    def _load(self, config: SandboxConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._seq = itertools.count()
        self.inventory = Inventory(config)
        self._orders: dict[str, Order] = {}
        self._by_kind: dict[tuple[str, OrderKind], list[Order]] = {}
        self._by_coid: dict[tuple[str, OrderKind, str], list[Order]] = {}
        self._pending: list[tuple[float, int, Order]] = []
        self.subscriptions = SubscriptionBook()
        self.inventory.add(config.numbers, self.clock.now())

    def reset(self) -> None:
        """Forget every order, subscription and seed change: back to the starting config."""
        with self._lock:
            self._load(self._initial)

    def seed(self, data: Mapping[str, Any]) -> None:
        """Add accounts, numbers and failure rules (same keys as the TOML seed file)."""
        with self._lock:
            before = len(self.config.numbers)
            self.config = self.inventory.config = config_from_mapping(data, self.config)
            self.inventory.add(self.config.numbers[before:], self.clock.now())

    @property
    def numbers(self) -> dict[str, NumberRecord]:
        """Every number the sandbox knows (read it through `number()` to see due orders)."""
        return self.inventory.numbers

    def account(self, account_id: str) -> AccountConfig | None:
        """The configured account, or None."""
        return self.inventory.account(account_id)

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
                self.inventory.complete(order)
                if self.on_complete is not None:
                    self.on_complete(order)  # the notifier's queue (`sandbox/notify.py`)

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
            listed_at=now + self.config.faults.list_lag_s,
            **fields,
        )
        self._orders[order.order_id] = order
        self._by_kind.setdefault((account_id, kind), []).append(order)
        if customer_order_id is not None:
            self._by_coid.setdefault((account_id, kind, customer_order_id), []).append(order)
        heapq.heappush(self._pending, (order.complete_at, next(self._seq), order))
        return order

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
            config = self.config
            valid = validate_import(
                req, account, version, config.max_numbers_per_order, external_tns=external_tns,
                strict=config.strict_schema,
            )  # fmt: skip
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
            # SiteId is required: the SIP peer defaults to the given site's (the excerpt).
            resolve_placement(account, req.site_id, req.sip_peer_id, errors)
            numbers, number_errors = check_numbers(
                req.numbers, version, self.config.max_numbers_per_order
            )
            if number_errors:
                errors += _checker_errors(req.numbers, version, self.config.max_numbers_per_order)
            if errors:
                raise RejectedError(400, errors)
            ok: list[str] = []
            grouped: dict[tuple[int, str], list[str]] = {}
            for number in numbers:
                error = self.inventory.import_error(
                    account_id, number, OrderKind.IMPORT, checker=True
                )
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
        *,
        first: int = 0,
        size: int = MAX_LISTED_ORDERS,
    ) -> tuple[int, list[Order]]:
        """(total matches, newest first from the `first`-th, at most `size` <= 1000);
        `customerOrderId` is an index lookup. An order younger than `faults.list_lag_s` is not
        listed yet (`Order.listed`)."""
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
                if (endpoint is None or o.endpoint == endpoint) and matches(o, filters, now)
            ]  # fmt: skip
            matched.sort(key=lambda o: o.created_at)  # stable: ties keep creation order
            matched.reverse()
            return len(matched), matched[first : first + min(size, MAX_LISTED_ORDERS)]

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


def _checker_errors(raw: tuple[str, ...], version: ApiVersion, max_numbers: int) -> list[ApiError]:
    """importTnChecker's 400 errors: 7316 empty, 7314 too many, 7360 duplicates, 7201 per
    invalid number (its text names the number, as in the documented example)."""
    if not raw:
        return [ApiError(7316, describe(7316))]
    errors = [
        ApiError(7201, describe(7201, text)) for text in raw if parse_number(text, version) is None
    ]
    if len(set(raw)) != len(raw):
        errors.append(ApiError(7360, describe(7360)))
    if len(raw) > max_numbers:
        errors.append(ApiError(7314, describe(7314, str(max_numbers))))
    return errors
