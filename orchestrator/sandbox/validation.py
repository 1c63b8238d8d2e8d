"""Body-level business rules of order requests: the errors that refuse a request as a whole
(400/409) once its body is the endpoint's document.

With `strict_schema` (the default) a body has already conformed to the published schema
(`refusal`), so what is left here is what no schema says: the site and SIP peer exist and
belong together, no number twice, the order size cap, NANP-valid numbers. With
`strict_schema = false`, and on the v1 TN option route, these checks also stand in for the
schema's values (LoaType, CustomerOrderId, Sms, A2P Action, formats), as before the schema
was wired in.

Pure: takes a decoded request and the account's configuration, returns the normalised order
details or raises `RejectedError` with every error found (import/remove answer them all as
repeated `Errors`; TN options and externalTns answer the first as a `ResponseStatus`).
Per-number outcomes decided when an order completes live in `state`, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.sandbox.codes import describe
from orchestrator.sandbox.config import AccountConfig
from orchestrator.sandbox.model import (
    ApiError,
    ApiVersion,
    ImportRequest,
    RejectedError,
    RemoveRequest,
    Subscriber,
    TnOptionGroup,
    TnOptionRequest,
    is_valid_customer_order_id,
    parse_number,
)

LOA_TYPES = ("CARRIER", "SUBSCRIBER")
SMS_VALUES = ("on", "off", "unchanged")
A2P_ACTIONS = ("asSpecified", "off", "unchanged", "systemDefault", "delete")
FORMAT_VALUES = ("10digit", "11digit", "e164", "unchanged", "systemDefault")
MAX_SUBSCRIBER_NAME = 45


@dataclass(frozen=True)
class ValidImport:
    """A normalised import (or v1 externalTns) order."""

    numbers: tuple[str, ...]
    site_id: str
    sip_peer_id: str
    sip_peer_given: bool
    loa_type: str
    customer_order_id: str | None
    subscriber: Subscriber | None
    loa_authorizing_person: str | None
    action: str | None


@dataclass(frozen=True)
class ValidRemove:
    """A normalised removal order."""

    numbers: tuple[str, ...]
    customer_order_id: str | None


def check_numbers(
    raw: tuple[str, ...], version: ApiVersion, max_numbers: int
) -> tuple[tuple[str, ...], list[ApiError]]:
    """Normalise a number list; errors for empty (5073), format (1022 v2 / 5070 v1),
    duplicates (5093) and size (5095)."""
    errors: list[ApiError] = []
    if not raw:
        return (), [ApiError(5073, describe(5073))]
    numbers = []
    bad = False
    for text in raw:
        number = parse_number(text, version)
        if number is None:
            bad = True
        else:
            numbers.append(number)
    if bad:
        code = 1022 if version is ApiVersion.V2 else 5070
        errors.append(ApiError(code, describe(code)))
    if len(set(numbers)) != len(numbers):
        errors.append(ApiError(5093, describe(5093)))
    if len(raw) > max_numbers:
        errors.append(ApiError(5095, _max_text(max_numbers)))
    return tuple(numbers), errors


def _max_text(max_numbers: int) -> str:
    return describe(5095, str(max_numbers))


def _customer_order_id(value: str | None, errors: list[ApiError]) -> str | None:
    if value is not None and not is_valid_customer_order_id(value):
        errors.append(ApiError(7318, describe(7318)))
    return value


def resolve_placement(
    account: AccountConfig, site_id: str | None, sip_peer_id: str | None, errors: list[ApiError]
) -> tuple[str, str]:
    """Resolve SiteId/SipPeerId to (site, peer), adding errors: 7309 bad site, 7312 unknown
    peer, 7311 peer of another site, 7310 site without a default peer."""
    site = next((s for s in account.sites if s.id == site_id), None)
    if site is None:
        errors.append(ApiError(7309, describe(7309)))
        if sip_peer_id is not None and not any(
            p.id == sip_peer_id for s in account.sites for p in s.sip_peers
        ):
            errors.append(ApiError(7312, describe(7312)))
        return "", ""
    if sip_peer_id is None:
        peer = site.default_sip_peer()
        if peer is None:
            errors.append(ApiError(7310, describe(7310)))
            return site.id, ""
        return site.id, peer.id
    if any(p.id == sip_peer_id for p in site.sip_peers):
        return site.id, sip_peer_id
    if any(p.id == sip_peer_id for s in account.sites for p in s.sip_peers):
        errors.append(ApiError(7311, describe(7311)))
    else:
        errors.append(ApiError(7312, describe(7312)))
    return site.id, ""


def validate_import(
    req: ImportRequest,
    account: AccountConfig,
    version: ApiVersion,
    max_numbers: int,
    *,
    external_tns: bool = False,
    strict: bool = True,
) -> ValidImport:
    """Check an import body (or a v1 externalTns body when `external_tns`). With `strict` its
    form's element set was checked before (`refusal`); without, the lenient rules of old
    rehearsal files apply (`_lenient_errors`)."""
    errors: list[ApiError] = []
    action = None
    if external_tns:
        action = (req.action or "").upper()
        if action not in ("IMPORT", "REMOVE"):
            raise RejectedError(400, [ApiError(25000, describe(25000))])
    customer_order_id = _customer_order_id(req.customer_order_id, errors)
    numbers, number_errors = check_numbers(req.numbers, version, max_numbers)
    site_id = sip_peer_id = ""
    if action != "REMOVE":
        site_id, sip_peer_id = resolve_placement(account, req.site_id, req.sip_peer_id, errors)
    default_loa = "SUBSCRIBER" if req.root == "ImportTnOrder" else "CARRIER"
    loa_type = (req.loa_type or default_loa).upper()
    if loa_type not in LOA_TYPES:
        errors.append(ApiError(25110, describe(25110)))
    if req.subscriber is not None and len(req.subscriber.name) > MAX_SUBSCRIBER_NAME:
        errors.append(ApiError(25131, describe(25131)))
    if not external_tns and not strict:
        errors += _lenient_errors(req, version)
    errors.extend(number_errors)
    if errors:
        raise RejectedError(400, errors)
    return ValidImport(
        numbers=numbers,
        site_id=site_id,
        sip_peer_id=sip_peer_id,
        sip_peer_given=req.sip_peer_id is not None,
        loa_type=loa_type,
        customer_order_id=customer_order_id,
        subscriber=req.subscriber,
        loa_authorizing_person=req.loa_authorizing_person,
        action=action,
    )


def _lenient_errors(req: ImportRequest, version: ApiVersion) -> list[ApiError]:
    """The import rules of old rehearsal files (`strict_schema = false`): Action refused, a v1
    `ImportTnOrder` needs Subscriber and LOA, anything else goes."""
    errors: list[ApiError] = []
    if req.action is not None:
        errors.append(ApiError(25000, "Action is not allowed on this endpoint"))  # [I]
    if version is ApiVersion.V1 and req.root == "ImportTnOrder":
        if req.subscriber is None:
            errors.append(ApiError(1003, "Subscriber is required"))
        if not req.loa_authorizing_person:
            errors.append(ApiError(1003, "LoaAuthorizingPerson is required"))
    return errors


def validate_remove(req: RemoveRequest, version: ApiVersion, max_numbers: int) -> ValidRemove:
    """Check a `RemoveImportedTnOrder` body."""
    errors: list[ApiError] = []
    customer_order_id = _customer_order_id(req.customer_order_id, errors)
    numbers, number_errors = check_numbers(req.numbers, version, max_numbers)
    errors.extend(number_errors)
    if errors:
        raise RejectedError(400, errors)
    return ValidRemove(numbers=numbers, customer_order_id=customer_order_id)


def validate_tnoptions(req: TnOptionRequest, account: AccountConfig, max_numbers: int) -> None:
    """Check a `TnOptionOrder` body; raise the first body-level error (400, or 409 for 5200).

    Number formats are not checked here: a malformed number fails on its own (1022) in the
    order's `ErrorList`, like the other per-number errors.
    """
    errors: list[ApiError] = []
    _customer_order_id(req.customer_order_id, errors)
    if not req.groups:
        errors.append(ApiError(5115, describe(5115, "the order")))
    all_numbers: list[str] = []
    for group in req.groups:
        _check_group(group, errors)
        all_numbers.extend(group.numbers)
    if len(set(all_numbers)) != len(all_numbers):
        errors.append(ApiError(5093, describe(5093)))
    if len(all_numbers) > max_numbers:
        errors.append(ApiError(5095, _max_text(max_numbers)))
    if errors:
        raise RejectedError(400, errors[:1])
    if any(g.has_route_plan for g in req.groups) and not account.route_plan_enabled:
        raise RejectedError(409, [ApiError(5200, describe(5200))])


def _check_group(group: TnOptionGroup, errors: list[ApiError]) -> None:
    numbers, sms, a2p, options = group.numbers, group.sms, group.a2p, group.options
    if not numbers:
        errors.append(ApiError(5073, describe(5073)))
    if sms is None and a2p is None and not options and not group.has_route_plan:
        errors.append(ApiError(5115, describe(5115, ", ".join(numbers) or "the group")))
    if sms is not None and sms not in SMS_VALUES:
        errors.append(ApiError(5113, describe(5113, sms)))
    if a2p is not None:
        action = a2p.action or "asSpecified"
        if action not in A2P_ACTIONS:
            errors.append(ApiError(5138, describe(5138)))
        elif action != "asSpecified" and (a2p.campaign_id or a2p.message_class):
            attribute = "CampaignId" if a2p.campaign_id else "MessageClass"
            errors.append(ApiError(5134, describe(5134, attribute)))
    for name, value in options:
        if name in ("NumberFormat", "RPIDFormat") and value not in FORMAT_VALUES:
            code = 5081 if name == "NumberFormat" else 5089
            text = (
                f"Number Format '{value}' is invalid."
                if code == 5081
                else (f"RPID Format '{value}' is invalid.")
            )
            errors.append(ApiError(code, text))
