"""Puts the proto's field rules into the OpenAPI document protoc-gen-openapiv2 writes.

protoc-gen-openapiv2 knows `google.api.field_behavior` but not `catapult.v1.rules`, so after it
runs (`make generate`), this adds each rule as the JSON Schema keyword that states it —
maxLength, pattern, enum, minimum, maximum, maxItems, format: uuid — to the definitions, the
inline request bodies and the query and path parameters. REST clients, generated SDKs and
fuzzers (schemathesis) then see the same limits the server enforces.

Proto3 has no "unset" for strings: "" means not given, and the transcoder prints it in every
response. So a field's pattern and enum accept "" unless the field is REQUIRED.

    python -m catapult_server.openapi envoy/openapi.swagger.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from catapult_server.interceptors import SERVICES
from catapult_server.rules import Rules, fields, rules_of

# An absolute URL: a scheme and a host (the `url` rule).
URL_PATTERN = r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#\s]+\S*"


def schema_rules(rules: Rules, field: FieldDescriptor, *, may_be_empty: bool) -> dict[str, Any]:
    """The JSON Schema keywords stating a field's rules."""
    out: dict[str, Any] = {}
    item: dict[str, Any] = {}
    if rules.required and field.type == FieldDescriptor.TYPE_STRING and not may_be_empty:
        item["minLength"] = 1  # REQUIRED: not empty, and not only white space (the pattern below)
        item["pattern"] = r"\S"
    if rules.max_items is not None:
        out["maxItems"] = rules.max_items
    if rules.max_len is not None:
        item["maxLength"] = rules.max_len
    optional = "?" if may_be_empty else ""
    if rules.pattern:
        item["pattern"] = f"^(?:{rules.pattern}){optional}$"
    if rules.url:
        item["pattern"] = f"^(?:{URL_PATTERN}){optional}$"
    if rules.choices:
        item["enum"] = ([""] if may_be_empty else []) + list(rules.choices)
    if rules.uuid:
        item["format"] = "uuid"
    if rules.order_by is not None:
        names = "|".join(re.escape(f) for f in rules.order_by.fields)
        item["pattern"] = f"^(?:({names})( (asc|desc))?)?$"
        item["default"] = rules.order_by.default
    if rules.examples:
        item["x-examples"] = list(rules.examples)
    if rules.default:
        item["default"] = rules.default
    if rules.minimum is not None:
        out["minimum"] = rules.minimum
    if rules.maximum is not None:
        out["maximum"] = rules.maximum
    if rules.max_json_bytes is not None:
        out["x-max-json-bytes"] = rules.max_json_bytes
    if field.is_repeated:
        return {**out, "items": item} if item else out
    return {**out, **item}


def _apply(schema: dict[str, Any], field: FieldDescriptor, *, in_request: bool) -> None:
    """Add `field`'s rules to its schema (a property or a parameter), in place."""
    rules = rules_of(field)
    keywords = schema_rules(rules, field, may_be_empty=in_request or not rules.required)
    items = keywords.pop("items", None)
    schema.update(keywords)
    if items:
        schema.setdefault("items", {}).update(items)


def _apply_to_properties(schema: dict[str, Any], message: Descriptor, *, in_request: bool) -> None:
    properties = schema.get("properties", {})
    for field in fields(message):
        if field.name in properties:
            _apply(properties[field.name], field, in_request=in_request)


def _field_at(message: Descriptor, path: str) -> FieldDescriptor | None:
    """The field a dotted parameter name ("deployment.id", "page_size") names."""
    field: FieldDescriptor | None = None
    for part in path.split("."):
        found = {f.name: f for f in fields(message)}.get(part)
        if found is None:
            return None
        field = found
        if found.message_type is not None:
            message = found.message_type
    return field


def _flatten_path_parameters(document: dict[str, Any]) -> None:
    """`{model.id}` → `{model_id}` in path templates and parameter names. The names are the
    document's own (the URL is the same); dotted ones are not names OpenAPI tools agree on, and
    fuzzers such as schemathesis cannot fill them in."""
    paths: dict[str, Any] = {}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    parameter["name"] = parameter["name"].replace(".", "_")
        paths[re.sub(r"\{([a-z_]+)\.([a-z_]+)\}", r"{\1_\2}", path)] = operations
    document["paths"] = paths


def _as_server_sent_events(operation: dict[str, Any], event: Descriptor) -> None:
    """A watch, as Envoy serves it to REST clients: not one JSON body wrapped in {result, error}
    (protoc-gen-openapiv2's guess) but a stream of server-sent events, one `data:` line each."""
    operation["produces"] = ["text/event-stream"]
    operation["responses"]["200"] = {
        "description": (
            f"Server-sent events that do not end: each `data:` line is one {event.name} as JSON. "
            "Ask with `Accept: text/event-stream`."
        ),
        "schema": {"$ref": f"#/definitions/{event.name}"},
    }


def add_rules(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every field rule added (in place, and returned), its path parameters
    named plainly, its watches described as the event streams they are."""
    messages = {
        message.name: message
        for service in SERVICES
        for method in service.methods
        for message in (method.input_type, method.output_type)
    }
    methods = {f"{service.name}_{method.name}": method for service in SERVICES for method in service.methods}
    # Resource messages reached only through a request's field (Model through CreateModelRequest).
    for message in list(messages.values()):
        for field in fields(message):
            if field.message_type is not None and field.message_type.full_name.startswith("catapult.v1."):
                messages.setdefault(field.message_type.name, field.message_type)
    for name, schema in document.get("definitions", {}).items():
        if name in messages:
            _apply_to_properties(schema, messages[name], in_request=False)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            # Additional bindings (the /v1/images aliases) get a numbered operationId.
            method = methods.get(re.sub(r"\d+$", "", operation.get("operationId", "")))
            if method is None:
                continue
            if method.server_streaming:
                _as_server_sent_events(operation, method.output_type)
            for parameter in operation.get("parameters", []):
                named = _field_at(method.input_type, parameter["name"])
                if named is None:
                    continue
                if parameter.get("in") == "body":
                    inline = parameter.get("schema", {})
                    if "properties" in inline and named.message_type is not None:
                        _apply_to_properties(inline, named.message_type, in_request=True)
                else:
                    _apply(parameter, named, in_request=True)
    _flatten_path_parameters(document)
    return document


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    document = add_rules(json.loads(path.read_text()))
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
