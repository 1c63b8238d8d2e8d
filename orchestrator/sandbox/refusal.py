"""Request bodies judged by the published schema, and refused the way the API refuses them.

The element sets, types, enums, bounds and prose rules live in one place: `orchestrator.spec`,
the neutral referee built from the vendored excerpt of Bandwidth's OpenAPI description. This
module keeps only what the referee cannot say:

- which import body forms this sandbox accepts (the seed's `import_body_forms`; another root
  is 400 1019 in every mode, strict or not);
- which bodies are judged: every v2 body the excerpt describes when the seed says
  `strict_schema = true`; on the v1 routes (which share the handlers) only the import,
  removal and importTnChecker bodies, whose element sets v1 shares (reference §4.1, §5, §6,
  §8), after their 10-digit numbers are read as the +1 numbers v1 means. v1 TN option orders
  and subscriptions keep v1's own values (10-digit CallForward, `externalTns`, LEGACY) and
  stay with the checks in `validation` and `subscriptions`;
- which catalogue code and text answer each violation (`ANSWERS`, below).

A refused body is a `RejectedError(400, errors)`: the route renders it in its own shape
(import/remove: repeated `Errors`; TN options and subscriptions: the first as a
`ResponseStatus`; importTnChecker: `Errors` without `ProcessingStatus`). A conforming body
then meets the business rules (`validation`, `state`): site and SIP peer exist, duplicates,
the order size cap, per-number outcomes. Pure: bytes in, `RejectedError` out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestrator.sandbox import xmlio
from orchestrator.sandbox.codes import describe
from orchestrator.sandbox.model import ApiError, ApiVersion, RejectedError, parse_number
from orchestrator.spec import Violation, validate_import_body, validate_request

__all__ = ["ANSWERS", "IMPORT", "Answer", "answer_violations", "check_request"]

IMPORT = "CreateImportMessagingTnOrder"
REMOVE = "CreateRemoveImportedTnOrder"
TN_OPTIONS = "CreateTnOptionOrder"
CHECKER = "CreateRequestImportTnChecker"
SUBSCRIPTIONS = frozenset({"CreateSubscriptions", "UpdateSubscription"})
V1_JUDGED = frozenset({IMPORT, REMOVE, CHECKER})
"""Operations whose v1 bodies have the v2 element set (reference §4.1, §5, §6 and §8)."""

BAD_REQUEST = 1019


@dataclass(frozen=True, slots=True)
class Answer:
    """A catalogue code (and its text) answering one kind of violation.

    `fill` names what fills the text's `%s`, in order: "where" (the element's path below
    the root, "Subscriber/Name"), "value" (its text), "limit" (the bound it breaks),
    "element" (its name) or "detail" (the referee's message). A row applies to violations of
    `rule` whose element path (item numbers dropped) ends with `element` ("" = any), for the
    `operations` named (empty = any) and `version` (None = both).
    """

    rule: str
    code: int
    fill: tuple[str, ...] = ()
    element: str = ""
    operations: frozenset[str] = frozenset()
    version: ApiVersion | None = None
    text: str | None = None  # when the catalogue gives the code another text than `codes`


def _only(*operations: str) -> frozenset[str]:
    return frozenset(operations)


_VALUE = "'%s' is not a valid value"  # the catalogue's second 1008 text (codes has the UUID one)
_BAD = describe(BAD_REQUEST) + " %s"  # 1019, then what is wrong with the document

ANSWERS: tuple[Answer, ...] = (
    # --- the endpoint's own codes, where the catalogue or the reference has one -------------
    # importTnChecker (reference §6, its documented 400 example names the number).
    Answer("pattern", 7201, ("value",), "TelephoneNumber", _only(CHECKER)),
    Answer("min-items", 7316, (), "TelephoneNumber", _only(CHECKER)),
    Answer("max-items", 7314, ("limit",), "TelephoneNumber", _only(CHECKER)),
    Answer("duplicate", 7360, (), "TelephoneNumber", _only(CHECKER)),
    # Numbers: v2 takes E.164 only (1022, the code the `band` CLI documents); a v1 number
    # that is not even 10-digit NANP is v1's 5070.
    Answer("pattern", 5070, (), "TelephoneNumber", version=ApiVersion.V1),
    Answer("pattern", 1022, (), "TelephoneNumber"),
    Answer("required", 5073, (), "TelephoneNumbers"),  # "Telephone number is required."
    Answer("min-items", 5073, (), "TelephoneNumbers/TelephoneNumber"),
    Answer("max-items", 5095, ("limit",), "TelephoneNumber"),
    Answer("duplicate", 5093, (), "TelephoneNumber"),
    # "The site id was not supplied or is invalid."; "The sippeer id is invalid."
    Answer("required", 7309, (), "SiteId"),
    Answer("type", 7309, (), "SiteId"),
    Answer("type", 7312, (), "SipPeerId"),
    # "Customer order ID is invalid. Only alphanumeric values, dashes and spaces ... 40".
    Answer("pattern", 7318, (), "CustomerOrderId"),
    Answer("max-length", 7318, (), "CustomerOrderId"),
    # Imports: the OrderErrorType codes for the subscriber's name and the LOA type.
    Answer("max-length", 25131, (), "Subscriber/Name", _only(IMPORT)),
    Answer("enum", 25110, (), "LoaType", _only(IMPORT)),
    # TN options: the option's own code (reference §9.1, §9.4).
    Answer("enum", 5113, ("value",), "Sms", _only(TN_OPTIONS)),
    Answer("enum", 5081, ("value",), "NumberFormat", _only(TN_OPTIONS)),
    Answer("enum", 5089, ("value",), "RPIDFormat", _only(TN_OPTIONS)),
    Answer("enum", 5138, (), "A2pSettings/Action", _only(TN_OPTIONS)),
    # A class or campaign with Action off/systemDefault/delete: "Attribute %s is incompatible
    # with such 'Action' values" says exactly this, where 1005 would only say "not allowed".
    Answer("forbidden", 5134, ("element",), "", _only(TN_OPTIONS)),
    # Subscriptions (catalogue "Subscriptions" table; reference §10).
    Answer("required", 14508, (), "OrderType", SUBSCRIPTIONS),
    Answer("required", 14508, (), "EventType", SUBSCRIPTIONS),
    Answer("enum", 14500, (), "OrderType", SUBSCRIPTIONS),
    Answer("enum", 14507, (), "EventType", SUBSCRIPTIONS),
    Answer("required", 14503, (), "CallbackSubscription/URL", SUBSCRIPTIONS),
    Answer("enum", 14501, (), "CallbackSubscription/NumberFormat", SUBSCRIPTIONS),
    # --- every other violation, by rule (catalogue "SystemError") ----------------------------
    Answer("xml", BAD_REQUEST, ("detail",), text=_BAD),  # not XML, empty, or with a DOCTYPE
    Answer("root", BAD_REQUEST, ("detail",), text=_BAD),  # not the endpoint's document at all
    Answer("required", 1003, ("where",)),  # "%s is required"
    Answer("nanp-required", 1003, ("where",)),  # required for +1 numbers (the import's table)
    Answer("min-items", 1003, ("where",)),  # an empty list: its first item is required
    Answer("unknown-element", 1005, ("where",)),  # "%s is not allowed"
    Answer("forbidden", 1005, ("where",)),
    Answer("repeated", 1009, ("where",)),  # "'%s' is duplicated"
    Answer("enum", 1008, ("value",), text=_VALUE),
    Answer("pattern", 1008, ("value",), text=_VALUE),
    Answer("type", 1008, ("value",), text=_VALUE),
    Answer("max-length", 1011, ("where", "limit")),  # "%s is too long. Max length %s characters"
    Answer("min-length", 1012, ("where", "limit")),  # "%s is too short. Min length %s characters"
    # "%s must be between %s and %s": a list too long is long enough, so 0 is a true floor.
    Answer("max-items", 1006, ("where", "zero", "limit")),
    Answer("duplicate", 1009, ("value",)),
    Answer("nanp-only", 7201, ("value",)),  # "%s is not a valid NANPA telephone number."
)
"""The one violation -> code table: the first row that applies answers (specific rows first).
Texts are `codes.DESCRIPTIONS` (the catalogue's) unless a row gives its own."""


def check_request(
    operation_id: str,
    body: bytes,
    version: ApiVersion,
    *,
    forms: tuple[str, ...],
    strict: bool,
) -> None:
    """Refuse (400) a body the sandbox does not take; return when the handler may decode it.

    Hostile or malformed XML is 1019 (`xmlio.parse`); an import whose root is not in `forms`
    is 1019; with `strict`, a body breaking its schema answers `answer_violations`.
    """
    root = xmlio.parse(body)
    if operation_id == IMPORT:
        check_import_form(root.tag, forms)
    if not strict or (version is ApiVersion.V1 and operation_id not in V1_JUDGED):
        return
    judged = body if version is ApiVersion.V2 else xmlio.to_bytes(_as_e164(root))
    if operation_id == IMPORT:
        violations = validate_import_body(judged, root.tag)
    else:
        violations = validate_request(operation_id, judged)
    if violations:
        raise RejectedError(400, answer_violations(violations, operation_id, version, root))


def check_import_form(root: str, forms: tuple[str, ...]) -> None:
    """Refuse (400, 1019) an import body whose root is not one of the accepted `forms`: the
    body is not this endpoint's document at all (1003/1005 speak of fields of one that is)."""
    if root not in forms:
        why = f"The root element {root} is not an accepted import body here"
        text = f"{describe(BAD_REQUEST)} {why} (accepted: {', '.join(forms)})."
        raise RejectedError(400, [ApiError(BAD_REQUEST, text)])


def answer_violations(
    violations: list[Violation], operation_id: str, version: ApiVersion, root: xmlio.Node
) -> list[ApiError]:
    """The API's errors for `violations`, in their order, each (code, text) once."""
    errors: list[ApiError] = []
    for violation in violations:
        error = _answer(violation, operation_id, version, root)
        if error not in errors:
            errors.append(error)
    return errors


def _answer(
    violation: Violation, operation_id: str, version: ApiVersion, root: xmlio.Node
) -> ApiError:
    subject = _subject(violation)
    for row in ANSWERS:
        if (
            row.rule == violation.rule
            and (not row.element or subject == row.element or subject.endswith("/" + row.element))
            and (not row.operations or operation_id in row.operations)
            and (row.version is None or row.version is version)
        ):
            args = [_fill(name, violation, root) for name in row.fill]
            text = row.text if row.text is not None else describe(row.code)
            return ApiError(row.code, text % tuple(args) if args else text)
    return ApiError(BAD_REQUEST, f"{describe(BAD_REQUEST)} {violation.message}.")


def _below_root(path: str) -> str:
    """ "/Root/A/B[2]" -> "A/B[2]"; the root's own path -> its name."""
    parts = path.split("/", 2)
    return parts[2] if len(parts) == 3 else path.lstrip("/")


def _where(violation: Violation) -> str:
    """The violating element's path below the root; for a list's item count, the item's path
    ("TnOptionGroups/TnOptionGroup": the item an empty list lacks)."""
    path = violation.path
    if violation.rule in ("min-items", "max-items"):
        path = f"{path}/{violation.element}"
    return _below_root(path)


def _subject(violation: Violation) -> str:
    """`_where` without item numbers, for matching `Answer.element`."""
    return re.sub(r"\[\d+\]", "", _where(violation))


def _fill(name: str, violation: Violation, root: xmlio.Node) -> str:
    if name == "where":
        return _where(violation)
    if name == "element":
        return violation.element
    if name == "value":
        node = _find(root, violation.path)
        return violation.element if node is None else node.text
    if name == "limit":
        found = re.search(r"(?:than|most|least) (\d+)", violation.message)
        return found.group(1) if found else "?"
    if name == "zero":
        return "0"
    return violation.message[:1].upper() + violation.message[1:] + "."  # "detail"


def _find(root: xmlio.Node, path: str) -> xmlio.Node | None:
    """The element at a referee path ("/Root/A/B[2]/C"; no number = the first)."""
    node: xmlio.Node | None = root
    for step in path.split("/")[2:]:
        if node is None:
            return None
        name, _, index = step.partition("[")
        matches = list(node.all(name))
        position = int(index.rstrip("]")) if index else 1
        node = matches[position - 1] if len(matches) >= position else None
    return node


def _as_e164(root: xmlio.Node) -> xmlio.Node:
    """The tree with every v1 number (10-digit NANP, or 1 + 10 digits) written as +1...: v1
    bodies are judged by the element set they share with v2, not by v2's number format."""
    for node in _walk(root):
        if node.tag == "TelephoneNumber":
            node.text = parse_number(node.text, ApiVersion.V1) or node.text
    return root


def _walk(node: xmlio.Node) -> list[xmlio.Node]:
    found = [node]
    for child in node.children:
        found += _walk(child)
    return found
