"""The one table of step kind -> v2 order endpoint, judged by the published schema excerpt."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml

from orchestrator.api.orders import ORDER_KINDS, OrderKind, order_endpoint
from orchestrator.plan import StepKind


def _excerpt() -> dict[str, Any]:
    text = resources.files("orchestrator.spec").joinpath("numbers_v2.excerpt.yml").read_text()
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_every_step_kind_has_one_endpoint_and_every_order_kind_one_step_kind() -> None:
    """Each plan step kind maps to exactly one order kind, and no two share one."""
    assert set(ORDER_KINDS) == set(StepKind)
    assert sorted(e.kind for e in ORDER_KINDS.values()) == sorted(OrderKind)


def test_the_paths_are_the_published_create_list_and_read_paths() -> None:
    """The schema documents each path for POST and GET, and `<path>/{orderId}` for GET."""
    paths = _excerpt()["paths"]
    for endpoint in ORDER_KINDS.values():
        collection = f"/accounts/{{accountId}}/{endpoint.path}"
        assert {"post", "get"} <= set(paths[collection]), endpoint
        assert "get" in paths[collection + "/{orderId}"], endpoint


def test_the_subscription_order_types_are_in_the_published_enum() -> None:
    """A subscription names each kind by a value of the schema's `SubscriptionOrderType`."""
    allowed = _excerpt()["components"]["schemas"]["SubscriptionOrderType"]["enum"]
    assert {e.subscription_type for e in ORDER_KINDS.values()} <= set(allowed)


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("import", "importTnOrders/messaging"),
        (OrderKind.REMOVE, "removeImportedTnOrders/messaging"),
        ("tnoptions", "tnoptions"),
        (StepKind.MESSAGING, "tnoptions"),
    ],
)
def test_an_order_kind_or_a_step_kind_names_its_endpoint(kind: str, path: str) -> None:
    """The client's order methods take an order kind, or a step kind ("messaging")."""
    assert order_endpoint(kind).path == path


def test_an_unknown_kind_is_refused() -> None:
    """A kind in neither vocabulary is a ValueError naming it."""
    with pytest.raises(ValueError, match="'porting'"):
        order_endpoint("porting")
