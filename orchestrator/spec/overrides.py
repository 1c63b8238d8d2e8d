"""Where the excerpt is corrected: named tables, each entry citing the schema line and why.

The excerpt is "a work in progress ... meant for documentation purposes only" (its own info
block, lines 9-11): its schemas contradict its examples in places. Rule of this package: the
examples, and v2's E.164 rule, win; prose rules are encoded once (in `prose`). Every
correction is data here, written in OpenAPI's own vocabulary so the one mapping in `grammar`
compiles it; `x-open: true` (an object tolerating unknown children) and `x-pattern-label` (how
a pattern is named in messages) are this package's only extensions. Line numbers are those of
the vendored `numbers_v2.excerpt.yml`.

Pure data and the function applying it; imports nothing from the rest of `orchestrator`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from orchestrator.spec.grammar import CUSTOM_VALUE

__all__ = [
    "BODIES",
    "E164",
    "E164_ELEMENTS",
    "EMPTY_BODY_OK",
    "EXTERNAL_TNS_ORDER",
    "PATCHES",
    "Patch",
    "patched_spec",
]

Schema = dict[str, Any]
Direction = Literal["request", "response"]

E164: Schema = {
    "type": "string",
    "pattern": r"^\+[1-9][0-9]{1,14}$",
    "x-pattern-label": "an E.164 number (+, then 2 to 15 digits)",
}
"""v2 numbers are E.164 everywhere, in requests and responses (reference §13; the excerpt's
`TelephoneNumber` component says "Telephone Number in E.164 format", line 2271)."""

E164_ELEMENTS = frozenset({"TelephoneNumber", "FullNumber"})
"""Elements that hold one phone number wherever they occur, whatever type the schema gives
them there: `TelephoneNumber` is "type: integer, Ten digit phone number" in the import request
(line 2408) and "10 digit tn" in TnOptionGroup (line 3243), yet every v2 example writes
`+19199918388`; `FullNumber` is E.164 in every tndetails example."""

_CUSTOMER_ORDER_ID: Schema = {
    "type": "string",
    "maxLength": 40,
    "pattern": r"^[A-Za-z0-9 -]*$",
    "x-pattern-label": "letters, digits, dashes and spaces only",
}
"""Stated in prose only: "Only alphanumeric values, dashes and spaces are allowed. Max length is
40 characters" (import line 2359, remove line 2816, tnoptions lines 1441 and 3332)."""

_IMPORT_STATUSES = ["RECEIVED", "PROCESSING", "COMPLETE", "PARTIAL", "FAILED", "EXCEPTION"]

_S = "components/schemas/"
_IMPORT = _S + "ImportTnOrderRequest/properties/ImportTnOrder"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass(frozen=True, slots=True)
class Patch:
    """A change to one schema object of the excerpt, deep-merged (`None` deletes a key)."""

    pointer: str  # "/"-separated path from the document root
    change: Mapping[str, Any]
    direction: Direction | Literal["both"]
    why: str


PATCHES: tuple[Patch, ...] = (
    # --- requests: prose rules the schema's vocabulary can say -------------------------------
    Patch(
        _IMPORT + "/properties/CustomerOrderId",
        _CUSTOMER_ORDER_ID,
        "request",
        "line 2359: 'Only alphanumeric values, dashes and spaces are allowed. Max length is 40'",
    ),
    Patch(
        _IMPORT + "/properties/Subscriber",
        {"required": ["Name"]},
        "request",
        "line 2378: a Subscriber names the customer; RAML marks Name required (reference §4.1)",
    ),
    Patch(
        _IMPORT + "/properties/Subscriber/properties/ServiceAddress",
        {
            "type": "object",
            "required": ["HouseNumber", "StreetName", "City", "StateCode", "Zip"],
            "properties": {"HouseNumber": {"type": "string"}, "County": {"type": "string"}},
        },
        "request",
        "lines 2385-2401: RAML marks these five required (reference §4.1) and Address says each"
        " 'is mandatory in cases where the ServiceAddress is mandatory' (lines 2495-2546);"
        " HouseNumber is an integer here (line 2391) but a string in Address (line 2504), and"
        " the request example (line 244) has <County>, which this schema lacks",
    ),
    Patch(
        _S + "RemoveImportedTnOrderRequest/properties/CustomerOrderId",
        _CUSTOMER_ORDER_ID,
        "request",
        "line 2816: 'Only alphanumeric values, dashes and spaces are allowed'; maxLength 40",
    ),
    Patch(
        _S + "TnOptionOrderPayload",
        {
            "required": ["TnOptionGroups"],
            "properties": {
                "CustomerOrderId": _CUSTOMER_ORDER_ID,
                "TnOptionGroups": {"minItems": 1},
            },
        },
        "request",
        "line 1438: 'The two data elements in the submission are TnOptionGroups ... and"
        " CustomerOrderId - Optional ... Only alphanumeric values, dashes and spaces ... 40'",
    ),
    Patch(
        _S + "TnOptionGroup",
        {"required": ["TelephoneNumbers"], "properties": {"TelephoneNumbers": {"minItems": 1}}},
        "request",
        "line 1438: each TnOptionGroup 'contain[s a] list of telephone numbers and set of TN"
        " options you want to assign to all TNs in the list'",
    ),
    Patch(
        _S + "ImportTnCheckerPayload/properties/ImportTnCheckerPayload",
        {
            "required": ["SiteId", "TelephoneNumbers"],
            "properties": {
                "TelephoneNumbers": {"minItems": 1, "maxItems": 5000, "uniqueItems": True}
            },
        },
        "request",
        "lines 96-97: SipPeerId is optional and defaults from 'the provided SiteId'; lines"
        " 140-143: 400 when the 'List of TNs is empty', 'more than 5000 TNs' or has duplicates",
    ),
    *(
        Patch(
            _S + alternative,
            {"xml": {"name": "Subscription"}, "required": required},
            "request",
            "lines 1050-1074: every example's root is <Subscription> (the oneOf alternatives are"
            " titled in prose); line 1029: a POST 'creates a new e-mail or callback"
            " subscription', so the alternative's kind is required, and OrderType or EventType"
            " names what it is for (reference §10, error 14508)",
        )
        for alternative, required in (
            ("EmailSubscriptionByOrderTypeRequest", ["OrderType", "EmailSubscription"]),
            ("EmailSubscriptionByEventTypeRequest", ["EventType", "EmailSubscription"]),
            ("CallBackSubscriptionByOrderTypeRequest", ["OrderType", "CallbackSubscription"]),
            ("CallBackSubscriptionByEventTypeRequest", ["EventType", "CallbackSubscription"]),
        )
    ),
    Patch(
        _S + "EmailSubscription",
        {"required": ["Email", "DigestRequested"]},
        "request",
        "line 1029: 'The user should submit the desired e-mail address for notifications and"
        " the frequency'",
    ),
    Patch(
        _S + "CallbackSubscription",
        {"required": ["URL"]},
        "request",
        "line 1029: a callback subscription POSTs to 'the URL of the callback subscription'",
    ),
    # --- both directions: the examples' values ----------------------------------------------
    Patch(
        _S + "TnOptionGroup/properties/CallForward",
        {"enum": [CUSTOM_VALUE, "unchanged", "systemDefault"], **E164},
        "both",
        "line 3143: enum '10digit' names a format, not a value; the description (line 1474)"
        " says 'An E.164 formatted telephone number string' and the examples write"
        " <CallForward>+16042661720</CallForward> (lines 1526, 1561)",
    ),
    # --- responses: what the examples show -----------------------------------------------
    Patch(
        _S + "ImportTnOrdersResponseList/properties/ImportTnOrders/properties/ImportTnOrderSummary",
        {"$ref": None, "type": "array", "items": _ref("ImportTnOrderSummary")},
        "response",
        "line 2321: one summary per order; the example (lines 189-200) lists two",
    ),
    Patch(
        _S + "ImportTnOrderSummary",
        {
            "properties": {
                "AccountId": None,
                "accountId": {"type": "integer"},
                "CountsOfTNs": None,
                "CountOfTNs": {"type": "integer"},
                "LastModifiedDate": None,
                "lastModifiedDate": {"type": "string"},
                "ProcessingStatus": None,
                "OrderStatus": {"type": "string", "enum": _IMPORT_STATUSES},
                "UserId": None,
                "userId": {"type": "string"},
                "OrderId": {"type": "string"},
            }
        },
        "response",
        "lines 2327-2353 spell AccountId, CountsOfTNs, LastModifiedDate, ProcessingStatus,"
        " UserId and have no OrderId; the example (lines 189-200), OrderSummary (line 2698) and"
        " the java fixture write accountId, CountOfTNs, lastModifiedDate, OrderStatus, userId,"
        " OrderId (reference §4.3: trust the examples)",
    ),
    Patch(
        _S + "ImportTnOrder",
        {
            "properties": {
                "OrderId": {"type": "string"},
                "ProcessingStatus": {"enum": _IMPORT_STATUSES},
            }
        },
        "response",
        "line 2426: no OrderId, yet both examples carry one (lines 259, 303); EXCEPTION is an"
        " order status the excerpt's own order callback names (line 1018, reference §8)",
    ),
    Patch(
        _S + "OrderHistoryWrapper/properties/OrderHistoryWrapper/properties/OrderHistory",
        {"$ref": None, "type": "array", "items": _ref("OrderHistory")},
        "response",
        "line 2565: one OrderHistory; every history example (lines 335, 784, 1667) has three",
    ),
    Patch(
        _S + "FileListResponse/properties/FileListResponse",
        {"xml": {"name": "fileListResponse"}},
        "response",
        "line 2589: the example's root is <fileListResponse> (line 375)",
    ),
    Patch(
        _S + "FileUploadResponse/properties/FileUploadResponse",
        {
            "xml": {"name": "fileUploadResponse"},
            "properties": {"fileName": {"type": "string", "xml": {"name": "filename"}}},
        },
        "response",
        "lines 2622-2636: the example (lines 456-459) writes <fileUploadResponse> and"
        " <filename>...pdf</filename>, not an integer <fileName>",
    ),
    Patch(
        _S + "ImportTnCheckerErrorResponse/properties/ImportTnCheckerResponse/properties/Errors",
        {"xml": {"wrapped": False}},
        "response",
        "line 2306: the example (lines 131-136) repeats <Errors><Code/><Description/></Errors>"
        " in place (reference §3 shape 2)",
    ),
    Patch(
        _S + "SubscriptionResponsePayload",
        {"xml": {"name": "Subscription"}},
        "response",
        "line 2895: the examples name each item <Subscription> (lines 926, 1169, 1176)",
    ),
    Patch(
        _S + "TnOptionOrderError/properties/TelephoneNumbers/items",
        {"xml": {"name": "TelephoneNumber"}},
        "response",
        "line 3133: items without a name; reference §3 shape 4 lists <TelephoneNumber>s",
    ),
    Patch(
        _S + "TnOptionGroup/properties/CallingNameDisplay",
        {"enum": ["on", "off", "unchanged", "systemDefault", "systemdefault"]},
        "response",
        "line 3155: the examples answer <CallingNameDisplay>systemdefault</...> (lines 1416, 1622)",
    ),
    Patch(
        _S + "TelephoneNumberDetailHistoryPayload",
        {
            "properties": {
                "OnNetVendor": {"type": "boolean"},
                "Features": {"type": None, "items": None, **_ref("Feature")},
            }
        },
        "response",
        "lines 3461-3522: the examples add <OnNetVendor> (lines 1886, 1927) and write"
        " <Features> as NANP feature blocks (E911, Lidb, Dlda), not a list of Feature",
    ),
    Patch(
        _S + "HostedTelephoneNumberDetailHistory",
        {
            "xml": {"name": "HostedTelephoneNumberDetail"},
            "properties": {
                "Features": {"type": None, "items": None, **_ref("Feature")},
                "ServiceTypes": {"items": {"xml": {"name": "ServiceType"}}},
            },
        },
        "response",
        "line 3523: the examples name items <HostedTelephoneNumberDetail> and their service"
        " types <ServiceType> (line 3540 says TnAttribute, a copy of line 3550)",
    ),
    Patch(
        _S + "Feature",
        {"type": "object", "x-open": True},
        "response",
        "line 3555: one Status property, while the examples hold E911, Lidb and Dlda blocks the"
        " excerpt never describes; bwmigrate reads none of them, so their content is not judged",
    ),
    Patch(
        _S + "TnDetailsMessagingSettings",
        {
            "properties": {
                "A2pState": {
                    "enum": [
                        "OFF",
                        "SYSTEM_DEFAULT",
                        "OVERRIDDEN",
                        "off",
                        "system_default",
                        "overridden",
                    ]
                },
                "AssignedNNRoute": _ref("TnDetailsNnRoute"),
            }
        },
        "response",
        "line 3562: the examples write A2pState in lower case (lines 1878, 1939) and one spells"
        " <AssignedNNRoute> (line 1918) where the schema and the others say AssignedNnRoute",
    ),
    Patch(
        _S + "E911Address",
        {
            "properties": {
                "EndpointCount": {"type": "integer"},
                "ValidationStatus": {"type": "string"},
            }
        },
        "response",
        "line 2182: the example (line 73) ends each address with <EndpointCount> and"
        " <ValidationStatus> (reference §11)",
    ),
    Patch(
        _S + "AddressType",
        {"enum": ["SERVICE", "BILLING", "DLDA", "E911", "Service", "Dlda"]},
        "response",
        "line 2549: upper case, while answers write <AddressType>Dlda</AddressType> (tndetails"
        " example, line 1869) and <AddressType>Service</AddressType> (the live-looking order"
        " GET of reference §4.2, which the sandbox copies)",
    ),
    Patch(
        _S + "OriginationRoutePayload/properties/EndpointType",
        {"enum": ["TN", "IPv4", "SIP", "FQDN", "Ipv4"]},
        "response",
        "line 3297: the tndetails example answers <EndpointType>Ipv4</EndpointType> (line 1915)",
    ),
    Patch(
        _S + "TelephoneNumbersErrorResponse/properties/TelephoneNumbersResponse",
        {"xml": {"name": "TelephoneNumberResponse"}},
        "response",
        "line 3755: the 400 example's root is <TelephoneNumberResponse> (line 1964), as is the"
        " 200's",
    ),
)


def _wrap(root: str, schema: Schema) -> Schema:
    """Bandwidth's idiom for a body: an object whose one property is the root element."""
    return {"type": "object", "properties": {root: schema}}


_CREATE_FAILURE: Schema = {
    "type": "object",
    "required": ["Errors"],
    "properties": {
        "ProcessingStatus": {"type": "string", "enum": ["FAILED"]},
        "Errors": {
            "type": "array",
            "minItems": 1,
            "xml": {"wrapped": False},
            "items": {
                "type": "object",
                "properties": {"Code": {"type": "integer"}, "Description": {"type": "string"}},
            },
        },
    },
}
"""Reference §3 shape 2: a refused import/remove create repeats <Errors><Code/><Description/>."""

BODIES: dict[tuple[str, int | None], Schema] = {
    ("CreateImportMessagingTnOrder", 400): _wrap("ImportTnOrderResponse", _CREATE_FAILURE),
    # line 283 names ImportTnOrderError, a ResponseStatus; the example (lines 278-281) is shape 2.
    ("CreateRemoveImportedTnOrder", 400): _wrap("RemoveImportedTnOrdersResponse", _CREATE_FAILURE),
    # lines 712-721: an example (shape 2) and no schema at all.
    ("ReadImportMessagingTnOrder", 200): _wrap("ImportTnOrder", _ref("ImportTnOrder")),
    # line 317 names ImportTnOrderResponse; the example's root is the bare order (line 302,
    # reference §4.2).
    ("CreateRemoveImportedTnOrder", 201): _wrap(
        "RemoveImportedTnOrdersResponse", _ref("RemoveImportedTnOrdersResponse")
    ),
    # line 710 names RemoveImportedTnOrdersResponse, whose one property is the order: read as
    # a body that is the bare order (right for the GET, line 738); the create answer wraps it
    # (line 700, reference §5).
    ("GetTnOptionOrder", 200): _wrap("TnOptionOrder", _ref("TnOptionOrderResponsePayload")),
    # line 1629 names the list's detailed report; the example's root is the bare order
    # (line 1615, reference §9.2).
    ("GetTnOptionOrders", 200): _wrap(
        "TnOptionOrderReportResponse",
        {
            "type": "object",
            "properties": {
                "TnOptionOrders": {
                    "type": "object",
                    "properties": {
                        "TotalCount": {"type": "integer"},
                        "TnOptionOrderSummary": {"type": "array", "items": _ref("OrderSummary")},
                        "TnOptionOrder": {
                            "type": "array",
                            "items": _ref("TnOptionOrderResponsePayload"),
                        },
                    },
                }
            },
        },
    ),
    # lines 1421-1423: oneOf a summary report (no <TnOptionOrders>, no count inside) or a
    # detailed one (no count); the example (lines 1380-1420) wraps summaries or orders, with
    # their TotalCount, in <TnOptionOrders> (reference §9.3).
    ("GetSubscription", 200): _wrap(
        "SubscriptionsResponse",
        {
            "type": "object",
            "properties": {
                "Subscriptions": {"type": "array", "items": _ref("SubscriptionResponsePayload")},
                "Subscription": _ref("SubscriptionResponsePayload"),
            },
        },
    ),
    # line 1195 names SubscriptionsResponse; two of its four examples (lines 1169, 1183) put
    # <Subscription> right under the root (reference §10 [X]).
}
"""Whole bodies replaced: (operationId, status or None for the request) -> schema."""

EMPTY_BODY_OK: frozenset[tuple[str, int]] = frozenset(
    {
        ("CreateSubscriptions", 201),  # lines 1086-1087: "Response has no payload."
        ("UpdateSubscription", 200),  # reference §1: subscription PUT/DELETE answer no body
        ("DeleteSubscription", 200),
    }
)
"""Responses that may have no body although the excerpt gives them a schema."""

EXTERNAL_TNS_ORDER: Schema = {
    "title": "ExternalTnsOrder",
    "type": "object",
    "required": ["SiteId", "TelephoneNumbers"],
    "properties": {
        "CustomerOrderId": _CUSTOMER_ORDER_ID,
        "SiteId": {"type": "integer"},
        "SipPeerId": {"type": "integer"},
        "LoaType": {"type": "string", "enum": ["CARRIER", "SUBSCRIBER"]},
        "TelephoneNumbers": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "xml": {"name": "TelephoneNumber"}},
        },
    },
}
"""The migration guide's import body (seed/v2-breaking-changes.txt lines 314-328, the v2 curl to
`importTnOrders/messaging`): CustomerOrderId?, SiteId, SipPeerId?, LoaType? (`[ CARRIER |
SUBSCRIBER ]`), TelephoneNumbers; the v1 `externalTns` body (lines 283-298) minus `Action`.
No Subscriber, no LoaAuthorizingPerson. Not in the excerpt: hand-encoded."""


def _merge(target: Schema, change: Mapping[str, Any]) -> None:
    for key, value in change.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def patched_spec(spec: Schema, direction: Direction) -> Schema:
    """A deep copy of `spec` with the patches for `direction` applied."""
    patched = copy.deepcopy(spec)
    for patch in PATCHES:
        if patch.direction not in (direction, "both"):
            continue
        node: Any = patched
        for part in patch.pointer.split("/"):
            node = node[part]
        _merge(node, patch.change)
    return patched
