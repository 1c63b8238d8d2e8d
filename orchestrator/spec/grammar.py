"""The XML grammar of a body, compiled once from the excerpt's OpenAPI schemas into small nodes.

Owns the OpenAPI -> XML mapping (written out in `orchestrator.spec.validator`'s docstring):
an object is an element whose children are its properties; a one-property object `{X: S}` is
Bandwidth's idiom for "the element X of type S"; an array with a plural name wraps its items,
one with a singular name repeats them in place (`xml.wrapped` decides when given); elements
named in `E164_ELEMENTS` hold E.164 numbers. Nodes are plain mutable objects
shared between bodies (compiled lazily and cached by the caller); nothing here reads XML.
Imports nothing from the rest of `orchestrator`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CUSTOM_VALUE",
    "Body",
    "Child",
    "Element",
    "Grammar",
    "Scalar",
    "SchemaError",
    "compile_scalar",
]

Schema = dict[str, Any]

CUSTOM_VALUE = "{custom value}"
"""An enum member meaning "or any value": the listed words are keywords, not a closed set."""

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_SCALAR_TYPES = ("string", "integer", "number", "boolean")


class SchemaError(ValueError):
    """The mapping cannot turn a schema into XML (an override is missing): a bug, not input."""


@dataclass(slots=True, eq=False)
class Scalar:
    """A text-only element: its type and the constraints on its text.

    `enum` is a closed set of values; `keywords` are values accepted as they are by an open
    enum (`{custom value}`), any other value then meeting the length and pattern constraints.
    """

    type: str = "string"
    enum: frozenset[str] | None = None
    keywords: frozenset[str] = frozenset()
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_label: str = ""


@dataclass(slots=True, eq=False)
class Child:
    """How an element may occur inside its parent.

    `repeat` marks an array item (any number of occurrences, bounded by `min_items` /
    `max_items`; `unique` refuses equal texts); otherwise the element occurs at most once.
    """

    content: Scalar | Element
    repeat: bool = False
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False


@dataclass(slots=True, eq=False)
class Element:
    """An element with child elements (an OpenAPI object); order of children is free.

    `open` tolerates children the schema does not name (only where an override says the
    schema under-describes a response block bwmigrate never reads).
    """

    children: dict[str, Child] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    open: bool = False


@dataclass(frozen=True, slots=True)
class Body:
    """One acceptable document: its root element's name and content."""

    root: str
    content: Element | Scalar


def _xml(schema: Schema) -> Schema:
    xml: Schema = schema.get("xml") or {}
    return xml


def _name(raw: Schema, resolved: Schema, default: str) -> str:
    """An element's name: `xml.name` beside a `$ref`, or where it points, or `default`."""
    return str(_xml(raw).get("name") or _xml(resolved).get("name") or default)


def _is_array(schema: Schema) -> bool:
    return schema.get("type") == "array" or "items" in schema


def _is_object(schema: Schema) -> bool:
    return "properties" in schema or schema.get("type") == "object"


def is_plural(name: str) -> bool:
    """Bandwidth's naming of wrappers: a plural (`Errors`, not `Address`) or a `...List`."""
    return name.endswith("List") or (name.endswith("s") and not name.endswith("ss"))


class Grammar:
    """Compiles the body schemas of one (patched) spec, sharing nodes between bodies.

    `spec` is the document `$ref`s resolve in; elements named in `e164_names` whose schema is
    a scalar get the `e164` scalar instead.
    """

    def __init__(self, spec: Schema, *, e164_names: Collection[str], e164: Scalar) -> None:
        self._spec = spec
        self._e164_names = frozenset(e164_names)
        self._e164 = e164
        self._memo: dict[int, Element | Scalar] = {}  # by schema identity

    # --- schema plumbing -----------------------------------------------------------------

    def resolve(self, schema: Schema) -> tuple[Schema, str | None]:
        """Follow `$ref`s and merge `allOf`; also the last component name seen."""
        component: str | None = None
        hops = 0
        while "$ref" in schema:
            ref = str(schema["$ref"])
            component = ref.rpartition("/")[2]
            node: Any = self._spec
            for part in ref.removeprefix("#/").split("/"):
                node = node[part]
            schema = node
            hops += 1
            if hops > 32:
                raise SchemaError(f"$ref cycle through {ref}")
        if "allOf" in schema:
            schema = self._merge_all_of(schema)
        return schema, component

    def _merge_all_of(self, schema: Schema) -> Schema:
        merged: Schema = {k: v for k, v in schema.items() if k != "allOf"}
        properties: Schema = dict(merged.get("properties") or {})
        required: list[str] = list(merged.get("required") or [])
        for part in schema["allOf"]:
            resolved, _ = self.resolve(part)
            properties.update(resolved.get("properties") or {})
            required += resolved.get("required") or []
            for key, value in resolved.items():
                merged.setdefault(key, value)
        merged["properties"] = properties
        merged["required"] = required
        return merged

    def element_schema(self, schema: Schema) -> tuple[str, Schema] | None:
        """`(X, S)` when `schema` is the one-property object `{X: S}` with S not an array.

        X is the property's `xml.name` when it has one, else the property's name.
        """
        properties = schema.get("properties") or {}
        if len(properties) != 1:
            return None
        ((name, inner),) = properties.items()
        resolved, _ = self.resolve(inner)
        if _is_array(resolved):
            return None
        return _name(inner, resolved, str(name)), inner

    # --- bodies and contents -------------------------------------------------------------

    def body(self, schema: Schema) -> tuple[Body, ...]:
        """The acceptable documents for a body schema (one per `oneOf` alternative)."""
        try:
            return self._body(schema)
        except SchemaError:
            self._memo.clear()  # no half-built node may outlive a failed compile
            raise

    def _body(self, schema: Schema) -> tuple[Body, ...]:
        resolved, component = self.resolve(schema)
        if "oneOf" in resolved:
            return tuple(body for alt in resolved["oneOf"] for body in self._body(alt))
        name = _xml(resolved).get("name")
        if name:
            return (Body(str(name), self.content(resolved)),)
        element = self.element_schema(resolved)
        if element is not None:
            return (Body(element[0], self.named_content(*element)),)
        name = resolved.get("title") or component
        if not name:
            raise SchemaError("a body schema names no root element (no xml.name, title or $ref)")
        return (Body(str(name), self.content(resolved)),)

    def named_content(self, name: str, schema: Schema) -> Element | Scalar:
        """The content of an element called `name` (E.164 elements get the E.164 scalar)."""
        content = self.content(schema)
        if name in self._e164_names and isinstance(content, Scalar):
            return self._e164
        return content

    def content(self, schema: Schema) -> Element | Scalar:
        resolved, _ = self.resolve(schema)
        key = id(resolved)
        known = self._memo.get(key)
        if known is not None:
            return known
        if _is_array(resolved):
            raise SchemaError("an array can only be the value of a property")
        if not _is_object(resolved):
            scalar = compile_scalar(resolved)
            self._memo[key] = scalar
            return scalar
        element = Element(open=bool(resolved.get("x-open")))
        self._memo[key] = element  # before the children: schemas may be recursive
        names: dict[str, str] = {}
        for prop, prop_schema in (resolved.get("properties") or {}).items():
            names[str(prop)] = self._add_property(element.children, str(prop), prop_schema)
        element.required = tuple(names.get(r, r) for r in resolved.get("required") or ())
        return element

    def _add_property(self, children: dict[str, Child], prop: str, schema: Schema) -> str:
        """Add the element(s) a property stands for; returns the element name it occurs as."""
        resolved, _ = self.resolve(schema)
        if _is_array(resolved):
            return self._add_array(children, prop, resolved)
        name = _name(schema, resolved, prop)
        element = self.element_schema(resolved)
        if element is not None and element[0] == name:  # `TelephoneNumbers: $ref TelephoneNumbers`
            resolved = element[1]
        children[name] = Child(self.named_content(name, resolved))
        return name

    def _add_array(self, children: dict[str, Child], prop: str, array: Schema) -> str:
        items, component = self.resolve(array["items"])
        if _xml(array).get("wrapped", is_plural(prop)):
            item_name, item_content = self._item(prop, items, component)
            wrapper = Element(children={item_name: _items_child(item_content, array)})
            children[prop] = Child(wrapper)
            return prop
        item_name = _name(array["items"], items, prop)
        element = self.element_schema(items)
        if element is not None and element[0] == item_name:
            items = element[1]
        children[item_name] = _items_child(self.named_content(item_name, items), array)
        return item_name

    def _item(
        self, prop: str, items: Schema, component: str | None
    ) -> tuple[str, Element | Scalar]:
        """The name and content of a wrapped array's item element."""
        name = _xml(items).get("name")
        if name:
            return str(name), self.named_content(str(name), items)
        element = self.element_schema(items)
        if element is not None:
            return element[0], self.named_content(*element)
        name = items.get("title") or component
        if not name:
            raise SchemaError(f"cannot name the items of array {prop!r}: give them an xml.name")
        return str(name), self.named_content(str(name), items)


def _items_child(content: Element | Scalar, array: Schema) -> Child:
    max_items = array.get("maxItems")
    return Child(
        content,
        repeat=True,
        min_items=int(array.get("minItems", 0)),
        max_items=None if max_items is None else int(max_items),
        unique=bool(array.get("uniqueItems", False)),
    )


def compile_scalar(schema: Schema) -> Scalar:
    """A text element's constraints from an OpenAPI scalar schema."""
    kind = schema.get("type", "string")
    scalar = Scalar(type=kind if kind in _SCALAR_TYPES else "string")
    values = [_enum_text(v) for v in schema.get("enum") or ()]
    if CUSTOM_VALUE in values:
        scalar.keywords = frozenset(v for v in values if v != CUSTOM_VALUE)
    elif values:
        scalar.enum = frozenset(values)
    scalar.min_length = schema.get("minLength")
    scalar.max_length = schema.get("maxLength")
    pattern = schema.get("pattern")
    if pattern is None and schema.get("format") == "uuid":
        pattern = _UUID
        scalar.pattern_label = "a UUID"
    if pattern is not None:
        scalar.pattern = re.compile(str(pattern))
        scalar.pattern_label = str(schema.get("x-pattern-label") or scalar.pattern_label or pattern)
    return scalar


def _enum_text(value: object) -> str:
    if isinstance(value, bool):  # YAML 1.1 reads unquoted on/off/true as booleans
        return "true" if value else "false"
    return str(value)
