"""Every rule the protos declare is enforced by the server and stated in the OpenAPI document.

Nothing here is listed by hand: the cases are read from the descriptors. For each RPC, each
field of its request the server validates (and each field of the resource a Create or Update
carries), and each rule of that field — field_behavior REQUIRED and every catapult.v1.rules
entry — the test sends one value breaking that rule and expects INVALID_ARGUMENT with a
BadRequest naming the field; then it finds the field in the OpenAPI document and expects the
JSON Schema keyword that states the rule."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from catapult_server.interceptors import SERVICES
from catapult_server.openapi import URL_PATTERN
from catapult_server.rules import Rules, fields, rules_of
from catapult_server.server import CatapultServer
from catapult_server.validation import MIN_SECONDS
from tests.support.api import auth
from tests.support.errors import expect_error

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = json.loads((ROOT / "envoy" / "openapi.swagger.json").read_text())
UUID = "6f1c1e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"


@dataclass(frozen=True)
class Case:
    """One rule of one field of one RPC's request, and a value that breaks it."""

    method: MethodDescriptor
    path: str  # the field as a BadRequest names it: "model.name", "page_size"
    field: FieldDescriptor
    rule: str
    bad_value: Any  # None: leave the field unset (the REQUIRED rule)

    @property
    def id(self) -> str:
        return f"{self.method.name}:{self.path}:{self.rule}"


def _validated_fields(method: MethodDescriptor) -> Iterator[tuple[str, FieldDescriptor, bool]]:
    """(path, field, whether REQUIRED applies) of each field the server validates."""
    request = method.input_type
    is_update = "update_mask" in request.fields_by_name
    for field in fields(request):
        resource = field.message_type
        if resource is not None and resource.full_name.startswith("catapult.v1."):
            for inner in fields(resource):
                rules = rules_of(inner)
                if inner.name == "id" and is_update:
                    yield f"{field.name}.id", inner, True
                elif not rules.output_only:
                    # An update checks what it writes; only a create needs every REQUIRED field.
                    yield f"{field.name}.{inner.name}", inner, rules.required and not is_update
        elif resource is None or resource.full_name != "google.protobuf.FieldMask":
            yield field.name, field, rules_of(field).required


def _bad_values(field: FieldDescriptor, rules: Rules, required: bool) -> Iterator[tuple[str, Any]]:
    """(rule, a value breaking it) for every rule of the field."""
    is_string = field.type == FieldDescriptor.TYPE_STRING
    if required:
        yield "required", None
    if is_string:
        yield "no NUL characters", "a\x00b"
    if rules.max_len is not None:
        yield "max_len", "a" * (rules.max_len + 1)
    if rules.pattern:
        yield "pattern", "Not A Token!"
    if rules.choices:
        yield "choices", "not-one-of-them"
    if rules.uuid:
        yield "uuid", "not-a-uuid"
    if rules.url:
        yield "url", "not a url"
    if rules.minimum is not None:
        yield "min", rules.minimum - 1
    if rules.maximum is not None:
        yield "max", rules.maximum + 1
    if rules.max_items is not None:
        yield "max_items", ["t"] * (rules.max_items + 1)
    if rules.max_json_bytes is not None:
        yield "max_json_bytes", {"blob": "x" * rules.max_json_bytes}
    if rules.order_by is not None:
        yield "order_by", "no_such_field desc"
    if field.message_type is not None and field.message_type.full_name == "google.protobuf.Timestamp":
        yield "timestamp range", timestamp_pb2.Timestamp(seconds=MIN_SECONDS - 1)
        yield "timestamp nanos", timestamp_pb2.Timestamp(seconds=0, nanos=-1)


def cases() -> list[Case]:
    found = []
    for service in SERVICES:
        for method in service.methods:
            for path, field, required in _validated_fields(method):
                rules = rules_of(field)
                for rule, bad in _bad_values(field, rules, required):
                    found.append(Case(method, path, field, rule, bad))
    return found


CASES = cases()


def _request(case: Case) -> Message:
    """The case's request: the bad value at its path, and an id when it updates a resource."""
    request = message_factory.GetMessageClass(case.method.input_type)()
    owner: Message = request
    resource, _, name = case.path.rpartition(".")
    if resource:
        owner = getattr(request, resource)
        owner.SetInParent()  # the resource is there, even when the field under test is not
        if "update_mask" in case.method.input_type.fields_by_name and name != "id":
            setattr(owner, "id", UUID)  # noqa: B010 - the resource's id, by name
    value = case.bad_value
    if value is None:
        return request
    if case.field.is_repeated and isinstance(value, str):
        value = [value]  # a string rule of a repeated field applies to each item
    target = getattr(owner, name)
    if isinstance(value, list):
        target.extend(value)
    elif isinstance(value, dict):
        target.update(value)
    elif isinstance(value, Message):
        target.CopyFrom(value)
    else:
        setattr(owner, name, value)
    return request


def _call(channel: grpc.aio.Channel, method: MethodDescriptor) -> Callable[..., Any]:
    response = message_factory.GetMessageClass(method.output_type)
    call: Callable[..., Any] = channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=response.FromString,
    )
    return call


def test_every_rule_has_a_case() -> None:
    """The walk finds the rules (a broken walk would pass vacuously)."""
    rules = {case.rule for case in CASES}
    assert rules >= {"required", "max_len", "pattern", "choices", "uuid", "url", "min", "max", "max_items"}
    assert rules >= {"max_json_bytes", "order_by", "no NUL characters", "timestamp range"}
    assert len(CASES) > 150


@pytest.fixture
async def admin_channel(server: CatapultServer) -> Any:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield channel


async def test_the_server_enforces_every_declared_rule(
    admin_channel: grpc.aio.Channel, admin_key: str
) -> None:
    failures = []
    for case in CASES:
        call = _call(admin_channel, case.method)(_request(case), metadata=auth(admin_key))
        try:
            await expect_error(call, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", case.path)
        except AssertionError as error:
            failures.append(f"{case.id}: {error}")
    assert not failures, f"{len(failures)} of {len(CASES)} rules not enforced:\n" + "\n".join(failures)


# --- the OpenAPI document ----------------------------------------------------------------------


def _operations(method: MethodDescriptor) -> list[dict[str, Any]]:
    """The method's operations (an additional binding gets a numbered operationId)."""
    name = f"{method.containing_service.name}_{method.name}"
    return [
        operation
        for operations in OPENAPI["paths"].values()
        for operation in operations.values()
        if operation["operationId"].rstrip("0123456789") == name
    ]


def _schemas(case: Case) -> list[dict[str, Any]]:
    """Where the document states the field: its parameter, or its property in the request body
    (inline, or the resource's definition)."""
    found = []
    for operation in _operations(case.method):
        for parameter in operation.get("parameters", []):
            # A path parameter is named plainly ("model_id" for the field model.id).
            named = parameter["name"] in (case.path, case.path.replace(".", "_"))
            if named and parameter["in"] != "body":
                found.append(parameter)
            elif parameter["in"] == "body" and case.path.startswith(parameter["name"] + "."):
                schema = parameter["schema"]
                if "$ref" in schema:
                    schema = OPENAPI["definitions"][schema["$ref"].rsplit("/", 1)[1]]
                if case.field.name in schema["properties"]:  # an Update's id is a path parameter
                    prop = schema["properties"][case.field.name]
                    found.append({**prop, "_required": schema.get("required", [])})
    return found


def _states(schema: dict[str, Any], case: Case, rules: Rules) -> bool:
    item = schema.get("items", schema)
    checks: dict[str, Callable[[], bool]] = {
        "required": lambda: schema.get("required") is True or case.field.name in schema.get("_required", []),
        "no NUL characters": lambda: True,  # a generic rule of every string, stated in the README
        "max_len": lambda: item.get("maxLength") == rules.max_len,
        "pattern": lambda: str(rules.pattern) in item.get("pattern", ""),
        "choices": lambda: set(rules.choices) <= set(item.get("enum", [])),
        "uuid": lambda: item.get("format") == "uuid",
        "url": lambda: URL_PATTERN in item.get("pattern", ""),
        "min": lambda: schema.get("minimum") == rules.minimum,
        "max": lambda: schema.get("maximum") == rules.maximum,
        "max_items": lambda: schema.get("maxItems") == rules.max_items,
        "max_json_bytes": lambda: schema.get("x-max-json-bytes") == rules.max_json_bytes,
        "order_by": lambda: (
            all(f in item.get("pattern", "") for f in rules.order_by.fields) if rules.order_by else False
        ),
        "timestamp range": lambda: schema.get("format") == "date-time",
        "timestamp nanos": lambda: schema.get("format") == "date-time",
    }
    return checks[case.rule]()


def test_the_openapi_document_states_every_declared_rule() -> None:
    failures = []
    for case in CASES:
        if case.rule == "required" and "." in case.path and not case.method.name.startswith("Create"):
            continue
        schemas = _schemas(case)
        if not schemas:
            failures.append(f"{case.id}: the field is not in the document")
        elif not all(_states(schema, case, rules_of(case.field)) for schema in schemas):
            failures.append(f"{case.id}: not stated in {schemas}")
    assert not failures, f"{len(failures)} rules missing from the OpenAPI document:\n" + "\n".join(failures)
