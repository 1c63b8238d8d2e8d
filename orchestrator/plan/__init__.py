"""The plan wing: what to send. Numbers, number files, the plan model, the plan file, the compiler.

Data flows through it in this order: `numbers` (raw text -> E.164, LEGACY, area-code
strings; the door to `country`, `rejection`, `reference_path`, `bulk_path` and `e164_number`),
`source` (CSV and list files -> raw numbers with line numbers), `planfile` (TOML -> `PlanSpec`,
every key checked; each step by `step_table`, values read by `table_reader`), `model` (the
dataclasses), `compile` (`PlanSpec` + number files -> `CompiledPlan`: normalised,
de-duplicated, checked for conflicts, cut into orders with deterministic CustomerOrderIds),
`chain` (the SMS and A2P steps chained after a step) and `estimate` (the dry run's API calls
and duration).

Pure: no I/O (number files arrive through a callable), no clock, no environment. May import
`orchestrator.errors` only (import-linter contract in pyproject.toml). Modules of this package
import their siblings by module (`orchestrator.plan.model`), never this package, so importing any
one of them never runs this file's re-exports first.

This file re-exports the names the other wings use, so they write `from orchestrator.plan import
compile_plan, StepKind`.
"""

from orchestrator.plan.chain import (
    a2p_customer_order_id,
    a2p_step_name,
    asks_a2p,
    chained_a2p_settings,
    chained_customer_order_id,
    chained_settings,
    sms_step_name,
)
from orchestrator.plan.compile import (
    canary_size,
    compile_plan,
    customer_order_id,
    cut_orders,
    missing_import_details,
    plan_hash,
    with_canary,
)
from orchestrator.plan.estimate import Estimate, estimate, iter_compiled_rows
from orchestrator.plan.model import (
    BODY_FORMS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_BODY_FORM,
    DEFAULT_CANARY,
    GUIDE_BODY_FORM,
    MAX_BATCH_SIZE,
    NANP_PREFIX,
    REHEARSAL_MAX_ORDER_S,
    A2pSettings,
    CompiledPlan,
    CompiledStep,
    DuplicateEntry,
    FailureThreshold,
    InvalidEntry,
    Order,
    PlanSpec,
    RateSpec,
    ReadFile,
    StepKind,
    StepSpec,
    Subscriber,
)
from orchestrator.plan.planfile import parse_plan

__all__ = [
    "BODY_FORMS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_BODY_FORM",
    "DEFAULT_CANARY",
    "GUIDE_BODY_FORM",
    "MAX_BATCH_SIZE",
    "NANP_PREFIX",
    "REHEARSAL_MAX_ORDER_S",
    "A2pSettings",
    "CompiledPlan",
    "CompiledStep",
    "DuplicateEntry",
    "Estimate",
    "FailureThreshold",
    "InvalidEntry",
    "Order",
    "PlanSpec",
    "RateSpec",
    "ReadFile",
    "StepKind",
    "StepSpec",
    "Subscriber",
    "a2p_customer_order_id",
    "a2p_step_name",
    "asks_a2p",
    "canary_size",
    "chained_a2p_settings",
    "chained_customer_order_id",
    "chained_settings",
    "compile_plan",
    "customer_order_id",
    "cut_orders",
    "estimate",
    "iter_compiled_rows",
    "missing_import_details",
    "parse_plan",
    "plan_hash",
    "sms_step_name",
    "with_canary",
]
