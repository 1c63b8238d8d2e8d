"""The vendored OpenAPI excerpt as data: operations, their body schemas and their examples.

Owns reading `numbers_v2.excerpt.yml` (once, lazily, through `importlib.resources`, with
`yaml.CSafeLoader` when libyaml is there) and looking things up in it. Knows nothing of XML.
Pure apart from that one read of a packaged file; imports nothing from the rest of `orchestrator`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import yaml

__all__ = [
    "XML_MEDIA_TYPE",
    "Example",
    "Operation",
    "documented_statuses",
    "load_spec",
    "operation",
    "operation_examples",
    "resolve_ref",
]

XML_MEDIA_TYPE = "application/xml"
SPEC_FILE = "numbers_v2.excerpt.yml"
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")

Schema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Example:
    """One XML example body of the excerpt, as published.

    `status` is None for a request body; `name` is the example's key (e.g. "example",
    "eventCallbackSubscription", "Simple response").
    """

    operation_id: str
    direction: Literal["request", "response"]
    status: int | None
    media_type: str
    body: bytes
    name: str


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the excerpt: where it lives and its raw OpenAPI object."""

    operation_id: str
    method: str
    path: str
    raw: Schema


@functools.cache
def load_spec() -> Schema:
    """The parsed excerpt (read on first use, then cached; callers must not mutate it)."""
    text = resources.files(__package__).joinpath(SPEC_FILE).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: Schema = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, chosen above
    return spec


@functools.cache
def _operations() -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    for path, item in load_spec()["paths"].items():
        for method in _HTTP_METHODS:
            raw = item.get(method)
            if raw is not None:
                found[raw["operationId"]] = Operation(raw["operationId"], method.upper(), path, raw)
    return found


def operation(operation_id: str) -> Operation:
    """The operation with this `operationId`; ValueError naming the known ones otherwise."""
    try:
        return _operations()[operation_id]
    except KeyError:
        known = ", ".join(sorted(_operations()))
        raise ValueError(
            f"unknown operationId {operation_id!r}; the excerpt has: {known}"
        ) from None


def resolve_ref(ref: str) -> Schema:
    """The object a local `$ref` (`#/components/...`) points at in the unpatched excerpt."""
    node: Any = load_spec()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} does not point at an object")
    return node


def _response_objects(op: Operation) -> dict[int, Schema]:
    responses: dict[int, Schema] = {}
    for status, response in op.raw.get("responses", {}).items():
        if "$ref" in response:
            response = resolve_ref(response["$ref"])
        responses[int(status)] = response
    return responses


def documented_statuses(operation_id: str) -> tuple[int, ...]:
    """The HTTP statuses the excerpt documents for an operation, ascending."""
    return tuple(sorted(_response_objects(operation(operation_id))))


def _request_object(op: Operation) -> Schema | None:
    body = op.raw.get("requestBody")
    if body is not None and "$ref" in body:
        body = resolve_ref(body["$ref"])
    return body


def media(operation_id: str, status: int | None) -> Schema | None:
    """The content object of a request (`status` None) or a documented response, by media type.

    Returns the `content` mapping (media type -> media object), or None when the message has
    no content at all. Raises ValueError for an unknown operation or an undocumented status.
    """
    op = operation(operation_id)
    if status is None:
        body = _request_object(op)
        if body is None:
            raise ValueError(f"{operation_id} takes no request body")
        content: Schema | None = body.get("content")
        return content
    responses = _response_objects(op)
    if status not in responses:
        documented = ", ".join(str(s) for s in sorted(responses))
        raise ValueError(
            f"{operation_id} does not document status {status} (documented: {documented})"
        )
    content = responses[status].get("content")
    return content


def _examples_of(
    operation_id: str, direction: Literal["request", "response"], status: int | None
) -> list[Example]:
    content = media(operation_id, status) or {}
    xml = content.get(XML_MEDIA_TYPE) or {}
    return [
        Example(
            operation_id=operation_id,
            direction=direction,
            status=status,
            media_type=XML_MEDIA_TYPE,
            body=str(example["value"]).encode("utf-8"),
            name=name,
        )
        for name, example in (xml.get("examples") or {}).items()
    ]


@functools.cache
def _all_examples() -> tuple[Example, ...]:
    found: list[Example] = []
    for op in _operations().values():
        if _request_object(op) is not None:
            found += _examples_of(op.operation_id, "request", None)
        for status in sorted(_response_objects(op)):
            found += _examples_of(op.operation_id, "response", status)
    return tuple(found)


def operation_examples() -> list[Example]:
    """Every `application/xml` request and response example of the excerpt's operations.

    In the excerpt's order (paths, then request before responses by status). The four
    toll-free-verification webhook operations speak JSON and have no XML examples.
    """
    return list(_all_examples())
