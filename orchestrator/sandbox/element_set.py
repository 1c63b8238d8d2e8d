"""Which elements a request body may and must carry, checked when the seed says
`strict_schema = true` (the default): the two import body forms and importTnChecker's payload.

The import forms (root element; which ones an import endpoint accepts is the seed's
`import_body_forms`, both by default):
- `ImportTnOrder`, the excerpt's `ImportTnOrderRequest` (reference §8, the referee):
  CustomerOrderId, SiteId, SipPeerId, Subscriber{Name, ServiceAddress{...}},
  LoaAuthorizingPerson, LoaType, TelephoneNumbers/TelephoneNumber. For +1 (NANP) numbers
  Subscriber with Name and ServiceAddress, LoaAuthorizingPerson and LoaType are required (the
  operation's "only required for NANP" table), and in the ServiceAddress HouseNumber,
  StreetName, City, StateCode and Zip (the Address schema: "mandatory in cases where the
  ServiceAddress is mandatory"; RAML marks the same five). A ServiceAddress may carry the
  Address schema's elements: the request's inline list lacks County, which the excerpt's own
  request example sends.
- `ExternalTnsOrder`, the migration guide's v2 example (shared/seed/v2-breaking-changes.txt,
  "Add hosted messaging on external phone numbers", near line 314): CustomerOrderId, SiteId,
  SipPeerId, LoaType, TelephoneNumbers/TelephoneNumber. No Action, no Subscriber, nothing else.

Codes (errors-catalogue.md, SystemError): a root that is not an accepted form is 1019 "Bad
request encountered": the body is not the endpoint's document at all, the class of failure
the sandbox already answers 1019 for (malformed XML, a foreign root), whereas 1003/1005 speak
of a field of a document that was understood. An element the form does not have is 1005 "%s
is not allowed"; a missing one 1003 "%s is required", named by its path below the root. A
missing SiteId stays 7309 and an empty number list 5073, the endpoint's own codes.

Pure: decoded requests in, `ApiError`s out. Wiring `orchestrator.spec` (the neutral schema
referee) into the sandbox may later replace these hand-written sets.
"""

from __future__ import annotations

from orchestrator.sandbox.codes import describe
from orchestrator.sandbox.model import (
    ApiError,
    CheckerRequest,
    ImportRequest,
    RejectedError,
)

ROOT_CODE = 1019
UNKNOWN_CODE = 1005
MISSING_CODE = 1003

_NUMBERS = ("TelephoneNumbers", "TelephoneNumbers/TelephoneNumber")
_ADDRESS = (
    "AddressLine2", "AddressType", "City", "Country", "County", "HouseNumber", "HousePrefix",
    "HouseSuffix", "Latitude", "Longitude", "PlusFour", "PostDirectional", "PreDirectional",
    "ResetAddressFields", "StateCode", "StreetName", "StreetSuffix", "Zip",
)  # fmt: skip
_NANP_ADDRESS = ("HouseNumber", "StreetName", "City", "StateCode", "Zip")

_IMPORT_TN_ORDER = (
    "CustomerOrderId", "SiteId", "SipPeerId", "Subscriber", "Subscriber/Name",
    "Subscriber/ServiceAddress", "LoaAuthorizingPerson", "LoaType", *_NUMBERS,
    *(f"Subscriber/ServiceAddress/{name}" for name in _ADDRESS),
)  # fmt: skip
ALLOWED: dict[str, frozenset[str]] = {
    "ImportTnOrder": frozenset(_IMPORT_TN_ORDER),
    "ExternalTnsOrder": frozenset(("CustomerOrderId", "SiteId", "SipPeerId", "LoaType", *_NUMBERS)),
    "ImportTnCheckerPayload": frozenset(("SiteId", "SipPeerId", *_NUMBERS)),
}


def check_import_root(root: str, forms: tuple[str, ...]) -> None:
    """Refuse (400, 1019) an import body whose root is not one of the accepted `forms`."""
    if root not in forms:
        why = f"The root element {root} is not an accepted import body here"
        text = f"{describe(ROOT_CODE)} {why} (accepted: {', '.join(forms)})."
        raise RejectedError(400, [ApiError(ROOT_CODE, text)])


def import_form_errors(req: ImportRequest, nanp: bool) -> list[ApiError]:
    """Elements the body's form does not have (1005), then, for an `ImportTnOrder` with +1
    numbers (`nanp`), the elements it lacks (1003)."""
    errors = unknown_elements(req.elements, ALLOWED[req.root])
    if req.root == "ImportTnOrder" and nanp:
        errors += [ApiError(MISSING_CODE, f"{path} is required") for path in _nanp_missing(req)]
    return errors


def checker_errors(req: CheckerRequest) -> list[ApiError]:
    """Elements an `ImportTnCheckerPayload` does not have (1005)."""
    return unknown_elements(req.elements, ALLOWED["ImportTnCheckerPayload"])


def unknown_elements(paths: tuple[str, ...], allowed: frozenset[str]) -> list[ApiError]:
    """1005 for each element outside `allowed`, once per subtree (its topmost element)."""
    errors: list[ApiError] = []
    refused: list[str] = []
    for path in paths:
        if path in allowed or any(path.startswith(top + "/") for top in refused):
            continue
        refused.append(path)
        errors.append(ApiError(UNKNOWN_CODE, describe(UNKNOWN_CODE, path)))
    return errors


def _nanp_missing(req: ImportRequest) -> list[str]:
    """Paths an `ImportTnOrder` for +1 numbers needs and lacks (or leaves empty)."""
    missing: list[str] = []
    subscriber = req.subscriber
    if subscriber is None:
        missing.append("Subscriber")
    else:
        if not subscriber.name:
            missing.append("Subscriber/Name")
        if subscriber.address is None:
            missing.append("Subscriber/ServiceAddress")
        else:
            given = {tag for tag, text in subscriber.address.fields if text}
            missing += [
                f"Subscriber/ServiceAddress/{tag}" for tag in _NANP_ADDRESS if tag not in given
            ]
    if not req.loa_authorizing_person:
        missing.append("LoaAuthorizingPerson")
    if not req.loa_type:
        missing.append("LoaType")
    return missing
