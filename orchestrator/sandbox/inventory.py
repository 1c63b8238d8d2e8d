"""The number inventory and what orders do to it: per-number outcomes with real error codes.

Owns `NumberRecord`s and decides, when an order completes, which numbers fail (failure rules,
Bandwidth-owned numbers, numbers imported elsewhere, never-imported numbers, TN option rules)
and applies the rest. No clock, no HTTP: the caller (the state) holds the lock and passes time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orchestrator.sandbox.codes import IMPORTED_ELSEWHERE, describe
from orchestrator.sandbox.config import AccountConfig, NumberSeed, SandboxConfig, SipPeerConfig
from orchestrator.sandbox.model import (
    ApiError,
    ApiVersion,
    NumberKind,
    OrderKind,
    OrderStatus,
    TnOptionGroup,
    Warning_,
    parse_number,
)
from orchestrator.sandbox.orders import Order

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


class Inventory:
    """Numbers by E.164 value, and the outcome rules of the current config."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.numbers: dict[str, NumberRecord] = {}

    def account(self, account_id: str) -> AccountConfig | None:
        """The configured account, or None."""
        return next((a for a in self.config.accounts if a.id == account_id), None)

    def sip_peer(
        self, account_id: str, site_id: str | None, peer_id: str | None
    ) -> SipPeerConfig | None:
        """The SIP peer's config, or None."""
        account = self.account(account_id)
        for site in account.sites if account else ():
            if site.id == site_id:
                return next((p for p in site.sip_peers if p.id == peer_id), None)
        return None

    def add(self, seeds: Iterable[NumberSeed], now: float) -> None:
        """Put seeded numbers in the inventory (site and SIP peer default from the account)."""
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

    def complete(self, order: Order) -> None:
        """Decide and apply an order's per-number outcomes and its final status (once)."""
        order.completed_at = order.complete_at
        exception = self._order_exception(order)
        if exception is not None:
            order.final_status = OrderStatus.EXCEPTION
            order.errors = [exception]
            return
        if order.kind is OrderKind.TNOPTIONS:
            failed = self._complete_tnoptions(order)
            total = len({n for g in order.groups for n in g.numbers})
        else:
            failed = self._complete_numbers(order)
            total = len(order.numbers)
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
                error = self.import_error(order.account_id, number, OrderKind.IMPORT)
            if error is None:
                self._apply(order, number, removing)
            else:
                grouped.setdefault((error.code, error.description), []).append(number)
        order.errors = [ApiError(c, d, tuple(ns)) for (c, d), ns in grouped.items()]
        return sum(len(ns) for ns in grouped.values())

    def _order_exception(self, order: Order) -> ApiError | None:
        """The error of an import order that ends EXCEPTION (a `status = "EXCEPTION"` rule
        matches one of its numbers), listing every number of the order; None otherwise.
        v1 externalTns orders never end EXCEPTION (its webhook states have none)."""
        if order.kind is not OrderKind.IMPORT or order.endpoint != "importTnOrders":
            return None
        for number in order.numbers:
            for rule in self.config.failure_rules:
                if rule.status is OrderStatus.EXCEPTION and rule.matches(order.kind, number):
                    return ApiError(rule.code, rule.description, order.numbers)
        return None

    def _rule_error(self, kind: OrderKind, number: str, checker: bool = False) -> ApiError | None:
        """The per-number failure a rule gives `number` (rules ending the order EXCEPTION are
        not per-number failures, and do not show in importTnChecker)."""
        for rule in self.config.failure_rules:
            if rule.status is not None:
                continue
            if rule.matches(kind, number) and (rule.checker or not checker):
                return ApiError(rule.code, rule.description)
        return None

    def import_error(
        self, account_id: str, number: str, kind: OrderKind, checker: bool = False
    ) -> ApiError | None:
        """Why `number` cannot be imported to the account now (None: it can)."""
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
        if record.kind is NumberKind.IMPORTED and (group.options or group.a2p is not None):
            # Only SMS may change on a hosted number: line options and A2P are refused
            # (reference §8 "A2P on imported numbers", §9).
            return ApiError(5128, describe(5128), (number,))
        sms = record.sms_enabled if group.sms in (None, "unchanged") else group.sms == "on"
        if group.sms == "on":
            peer = self.sip_peer(order.account_id, record.site_id, record.sip_peer_id)
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
