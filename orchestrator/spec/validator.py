"""The schema referee: does an XML body conform to the v2 excerpt for its operation?

`validate_request`, `validate_response` and `validate_import_body` parse a body with a
hardened parser and walk it against a grammar compiled once (per operation and status,
lazily, cached) from `numbers_v2.excerpt.yml`, corrected by `overrides` and completed by the
prose rules in `prose`. They return a list of `Violation`s, empty when the body conforms;
they never raise for a bad body (a body that is not well-formed XML, is empty, or has a
DOCTYPE is one "xml" violation). They raise ValueError only when asked about something the
excerpt does not describe (an unknown operationId, an undocumented status).

How OpenAPI is read as XML (the one mapping, in `grammar`):

1. Elements. An object schema is an element whose children are its properties (`$ref`
   followed, `allOf` merged); child order is free (Bandwidth's own answers vary it,
   reference §4.2); names are case-sensitive; a property's `xml.name` renames it.
2. Roots. A one-property object `{X: S}` is Bandwidth's idiom for "the element X of type S":
   that is how every body schema names its root (`ImportTnOrderRequest` is
   `{ImportTnOrder: {...}}`). A body schema that is not one names its root by `xml.name`,
   `title` or component name (`RemoveImportedTnOrderRequest`, title `RemoveImportedTnOrder`).
   The same idiom collapses a property into the element it names when the names agree:
   `TelephoneNumbers: {$ref: TelephoneNumbers}` where the component is
   `{TelephoneNumbers: {...}}` is one `<TelephoneNumbers>`, not two nested.
3. Arrays. OpenAPI's XML rules say "unwrapped unless `xml.wrapped`", but Bandwidth writes
   `TelephoneNumbers: {type: array, items: {properties: {TelephoneNumber: ...}}}` for
   `<TelephoneNumbers><TelephoneNumber/>...</TelephoneNumbers>` (every example). The rule
   that fits every example and the wire: an array property with a plural or `...List` name
   (`TelephoneNumbers`, `Errors`, `TnOptionGroups`, `ErrorList`) is a wrapper element around
   its items; one with a singular name (`Route`, `Address`, `RemoveImportedTnOrderSummary`,
   the `TelephoneNumber` inside `<TelephoneNumbers>` of the in-service listing) is its items
   repeated in place. An explicit `xml.wrapped` decides instead. A wrapped item is named by
   the items' `xml.name`, else by the one property of a one-property items object (the
   `TelephoneNumber` component is `{TelephoneNumber: string}`), else by the items' `title`
   or component name (`Error`, `ImportTnError`, `TnOptionGroup`). `minItems`/`maxItems`
   count items; `uniqueItems` refuses repeated values ("duplicate"). A non-array element
   occurring twice is "repeated".
4. Text. `string`, `integer` (XSD lexical form, `+12`), `number`, `boolean` (true, false, 1,
   0), checked on the whitespace-trimmed text; then `enum`, `minLength`/`maxLength` (on the
   text as written), `pattern`, and `format: uuid`. Other `format`s in the excerpt are prose
   and not checked. An enum holding `{custom value}` (TnOptionGroup) is open: its other
   members are keywords accepted as they are, any other value must meet the constraints
   (`PortOutPasscode` "unchanged" is not held to minLength 4). An element with elements
   where text belongs, or text where elements belong, is a "type" violation.
5. Phone numbers. Every `TelephoneNumber` (and tndetails' `FullNumber`) holds an E.164 number
   (`^\\+[1-9][0-9]{1,14}$`), in requests and responses, whatever type the schema gives it
   there (`overrides.E164_ELEMENTS`). CreateTnOptionOrder's prose still "Assumes NANPA 10
   digit format number if string is not E.164 formatted" (excerpt line 1462); v2's rule
   (reference §13: "10-digit NANP format not supported in V2"; the `band` CLI documents
   1022 for non-E.164 on v2 tnoptions) wins, and bwmigrate only ever sends E.164.

Where the schema contradicts its examples, the examples win; each correction is an entry of
`overrides.PATCHES` (a change to one schema object), `overrides.BODIES` (a whole body: e.g.
`ReadImportMessagingTnOrder` 200 is the bare `<ImportTnOrder>` the example shows, not the
schema's `ImportTnOrderResponse`) or `overrides.EMPTY_BODY_OK`, each citing the excerpt line
and why. Rules stated only in prose (the NANP requirements of an import, NANPA-only TN
options, A2P actions that forbid a campaign) are in `prose`; simpler ones (CustomerOrderId's
characters, the checker's 5000 limit) are patches.

Unknown elements. In a request they are always violations: the sandbox must refuse what
Bandwidth would. In a response they are violations by default too: this referee checks the
sandbox's own answers, and an element production never sends would teach the client to rely
on it (a real client tolerates extras; `orchestrator.api.xml` does). `validate_response(...,
allow_unknown=True)` judges as a tolerant client would. One block is open by override:
tndetails' `Features`, which the excerpt does not describe and bwmigrate does not read.

The guide's import form (`validate_import_body(body, "ExternalTnsOrder")`) is
`overrides.EXTERNAL_TNS_ORDER`, hand-encoded from the migration guide.

Pure: no I/O but reading the packaged excerpt once, no clock, no environment. Imports nothing
from the rest of `orchestrator` (only stdlib, lxml and yaml), so the sandbox may use it.
Validating a 5000-number import order takes a few milliseconds.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Sequence

from lxml import etree

from orchestrator.spec import overrides, prose
from orchestrator.spec.document import (
    XML_MEDIA_TYPE,
    Example,
    documented_statuses,
    load_spec,
    media,
    operation_examples,
)
from orchestrator.spec.grammar import Body, Child, Element, Grammar, Scalar, compile_scalar
from orchestrator.spec.violation import Violation, quote, where

__all__ = [
    "IMPORT_BODY_FORMS",
    "Example",
    "Violation",
    "documented_statuses",
    "operation_examples",
    "validate_import_body",
    "validate_request",
    "validate_response",
]

IMPORT_BODY_FORMS = ("ImportTnOrder", "ExternalTnsOrder")
"""The import bodies bwmigrate can send: the schema's form (default) and the guide's form."""

IMPORT_OPERATION = "CreateImportMessagingTnOrder"

_TYPE_SYNTAX = {
    "integer": re.compile(r"[+-]?[0-9]+"),
    "number": re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"),
    "boolean": re.compile(r"true|false|1|0"),
}
_TYPE_NAMES = {"integer": "an integer", "number": "a number", "boolean": "true or false"}

Prose = Callable[[etree._Element], list[Violation]]


# --- compiled bodies, cached ------------------------------------------------------------------

_COMPILING = threading.Lock()
"""Compiles one body at a time: a grammar caches an element before filling its children
(schemas may be recursive), so a concurrent first use (the sandbox's thread and a test's)
must not see it half-built."""


@functools.cache
def _grammar(direction: overrides.Direction) -> Grammar:
    spec = overrides.patched_spec(load_spec(), direction)
    return Grammar(spec, e164_names=overrides.E164_ELEMENTS, e164=compile_scalar(overrides.E164))


@functools.cache
def _bodies(operation_id: str, status: int | None) -> tuple[Body, ...] | None:
    """The documents an operation's request (`status` None) or response accepts.

    None when the excerpt documents the message without a schema (any body goes). Raises
    ValueError for an unknown operation, an undocumented status, or a non-XML request.
    """
    content = media(operation_id, status)  # validates the operation and status
    direction: overrides.Direction = "request" if status is None else "response"
    schema = overrides.BODIES.get((operation_id, status))
    if schema is None:
        xml = (content or {}).get(XML_MEDIA_TYPE)
        if xml is None and status is None:
            raise ValueError(f"{operation_id} takes no {XML_MEDIA_TYPE} request body")
        schema = (xml or {}).get("schema")
    if schema is None:
        return None
    with _COMPILING:
        return _grammar(direction).body(schema)


@functools.cache
def _external_tns_order() -> tuple[Body, ...]:
    with _COMPILING:
        return _grammar("request").body(overrides.EXTERNAL_TNS_ORDER)


# --- public API -------------------------------------------------------------------------------


def validate_request(operation_id: str, body: bytes) -> list[Violation]:
    """Every way `body` breaks the request schema of `operation_id` (empty when it conforms).

    Unknown elements are always violations in a request. Raises ValueError for an operationId
    not in the excerpt or an operation without an XML request body.
    """
    bodies = _bodies(operation_id, None)
    assert bodies is not None  # every XML request body of the excerpt has a schema
    return _validate(body, bodies, allow_unknown=False, rules=prose.REQUEST_RULES.get(operation_id))


def validate_response(
    operation_id: str, status: int, body: bytes, *, allow_unknown: bool = False
) -> list[Violation]:
    """Every way `body` breaks the schema of `operation_id`'s `status` answer.

    Strict by default: an element the (corrected) schema does not name is a violation, because
    this referee guards the sandbox, whose answers must not teach the client to rely on what
    Bandwidth never sends. `allow_unknown=True` judges as a tolerant client would. An empty
    body conforms when the excerpt gives the status no schema or says it has no payload.
    Raises ValueError for an unknown operation or an undocumented status.
    """
    bodies = _bodies(operation_id, status)
    if not body.strip() and (bodies is None or (operation_id, status) in overrides.EMPTY_BODY_OK):
        return []
    if bodies is None:
        problem = _parse(body)[1]
        return [] if problem is None else [Violation("/", "xml", problem, "")]
    return _validate(body, bodies, allow_unknown=allow_unknown, rules=None)


def validate_import_body(body: bytes, form: str) -> list[Violation]:
    """Every way an import order body breaks its form (one of `IMPORT_BODY_FORMS`).

    "ImportTnOrder" is the schema's body (`validate_request("CreateImportMessagingTnOrder",
    body)`); "ExternalTnsOrder" the migration guide's, checked against its own element set.
    """
    if form == "ImportTnOrder":
        return validate_request(IMPORT_OPERATION, body)
    if form == "ExternalTnsOrder":
        return _validate(body, _external_tns_order(), allow_unknown=False, rules=None)
    raise ValueError(f"unknown import body form {form!r}; expected one of {IMPORT_BODY_FORMS}")


# --- parsing ----------------------------------------------------------------------------------


def _parse(body: bytes) -> tuple[etree._Element | None, str | None]:
    """The root of a well-formed, DTD-free document, or why there is none."""
    if not body.strip():
        return None, "empty body: expected an XML document"
    parser = etree.XMLParser(  # one per call: lxml parsers must not be shared across threads
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except (etree.LxmlError, ValueError) as exc:
        message = " ".join(str(getattr(exc, "msg", None) or exc).split())
        return None, f"not well-formed XML: {message}"
    if root.getroottree().docinfo.internalDTD is not None:  # any DOCTYPE, with or without entities
        return None, "the document has a DOCTYPE: DTDs and entities are not accepted"
    return root, None


def _validate(
    body: bytes, bodies: Sequence[Body], *, allow_unknown: bool, rules: Prose | None
) -> list[Violation]:
    root, problem = _parse(body)
    if root is None:
        return [Violation("/", "xml", problem or "unreadable", "")]
    tag = root.tag if isinstance(root.tag, str) else ""
    candidates = [b for b in bodies if b.root == tag]
    if not candidates:
        expected = " or ".join(sorted({f"<{b.root}>" for b in bodies}))
        return [Violation(f"/{tag}", "root", f"root element is <{tag}>; expected {expected}", tag)]
    best: list[Violation] | None = None
    for candidate in candidates:  # a oneOf: the first alternative that fits, else the closest
        found: list[Violation] = []
        _Walk(found, allow_unknown).root(root, candidate.content, f"/{tag}")
        if not found:
            best = found
            break
        if best is None or len(found) < len(best):
            best = found
    assert best is not None
    if rules is not None:
        best += rules(root)
    return best


# --- the walk ---------------------------------------------------------------------------------


class _Walk:
    """Checks one tree against compiled content, appending to `out`.

    Paths are built only for elements with content and for violations, so a 5000-number
    list costs one dict lookup and one scalar check per number.
    """

    __slots__ = ("allow_unknown", "out")

    def __init__(self, out: list[Violation], allow_unknown: bool) -> None:
        self.out = out
        self.allow_unknown = allow_unknown

    def add(self, path: str, rule: str, message: str, element: str) -> None:
        self.out.append(Violation(path, rule, message, element))

    def root(self, el: etree._Element, content: Element | Scalar, path: str) -> None:
        if isinstance(content, Scalar):
            self.scalar(el, content, path)
        else:
            self.element(el, content, path)

    def element(self, el: etree._Element, content: Element, path: str) -> None:
        text = el.text
        if text is not None and not text.isspace():
            self.stray_text(path, text, _local(el))
        counts: dict[str, int] = {}
        children = content.children
        for child in el:
            tag = _local(child)
            tail = child.tail
            if tail is not None and not tail.isspace():
                self.stray_text(path, tail, tag)
            spec = children.get(tag)
            if spec is None:
                self.unknown(content, path, tag)
                continue
            seen = counts[tag] = counts.get(tag, 0) + 1
            if seen > 1 and not spec.repeat:
                if seen == 2:
                    self.add(
                        f"{path}/{tag}",
                        "repeated",
                        f"{where(f'{path}/{tag}')} occurs more than once",
                        tag,
                    )
                continue
            inner = spec.content
            if isinstance(inner, Element):
                self.element(child, inner, _item_path(path, tag, spec.repeat, seen))
            elif len(child) or _scalar_problem(child.text or "", inner) is not None:
                self.scalar(child, inner, _item_path(path, tag, spec.repeat, seen))
        self.occurrences(content, path, counts)
        for name, spec in children.items():
            if spec.unique and counts.get(name, 0) > 1:
                self.duplicates(el, name, path)

    def stray_text(self, path: str, text: str, element: str) -> None:
        message = f"{where(path)} holds text {quote(text.strip())}; expected only elements"
        self.add(path, "type", message, element)

    def unknown(self, content: Element, path: str, tag: str) -> None:
        if content.open or self.allow_unknown:
            return
        allowed = ", ".join(sorted(content.children)) or "none"
        here = f"{path}/{tag}"
        self.add(
            here, "unknown-element", f"{where(here)} is not allowed here (allowed: {allowed})", tag
        )

    def occurrences(self, content: Element, path: str, counts: dict[str, int]) -> None:
        for name in content.required:
            if name not in counts:
                here = f"{path}/{name}"
                self.add(here, "required", f"{where(here)} is required", name)
        for name, spec in content.children.items():
            if spec.repeat and (name in counts or name not in content.required):
                self.items(name, spec, path, counts.get(name, 0))

    def items(self, name: str, spec: Child, path: str, count: int) -> None:
        if count < spec.min_items:
            message = f"{where(path)} needs at least {spec.min_items} {name} (has {count})"
            self.add(path, "min-items", message, name)
        if spec.max_items is not None and count > spec.max_items:
            message = f"{where(path)} has {count} {name}; at most {spec.max_items} allowed"
            self.add(path, "max-items", message, name)

    def duplicates(self, el: etree._Element, name: str, path: str) -> None:
        seen: set[str] = set()
        for index, child in enumerate(el.iterchildren(name), start=1):
            value = (child.text or "").strip()
            if value in seen:
                item = f"{path}/{name}[{index}]"
                self.add(item, "duplicate", f"{where(item)} repeats {quote(value)}", name)
            seen.add(value)

    def scalar(self, el: etree._Element, scalar: Scalar, path: str) -> None:
        if len(el):
            self.add(path, "type", f"{where(path)} holds elements; expected text", _local(el))
            return
        problem = _scalar_problem(el.text or "", scalar)
        if problem is not None:
            rule, detail = problem
            self.add(path, rule, f"{where(path)} {detail}", _local(el))


def _item_path(path: str, tag: str, repeat: bool, seen: int) -> str:
    return f"{path}/{tag}[{seen}]" if repeat else f"{path}/{tag}"


def _scalar_problem(text: str, scalar: Scalar) -> tuple[str, str] | None:
    """(rule, message tail) for the first constraint `text` breaks, or None."""
    value = text.strip()
    syntax = _TYPE_SYNTAX.get(scalar.type)
    if syntax is not None and not syntax.fullmatch(value):
        return "type", f"is {quote(value)}, not {_TYPE_NAMES[scalar.type]}"
    if scalar.enum is not None:
        if value in scalar.enum:
            return None
        return "enum", f"is {quote(value)}; allowed: {', '.join(sorted(scalar.enum))}"
    if value in scalar.keywords:
        return None
    if scalar.max_length is not None and len(text) > scalar.max_length:
        return "max-length", f"is longer than {scalar.max_length} characters"
    if scalar.min_length is not None and len(text) < scalar.min_length:
        return "min-length", f"is shorter than {scalar.min_length} characters"
    if scalar.pattern is not None and scalar.pattern.search(value) is None:
        return "pattern", f"is {quote(value)}, not {scalar.pattern_label}"
    return None


def _local(el: etree._Element) -> str:
    return el.tag if isinstance(el.tag, str) else ""
