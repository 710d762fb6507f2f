"""The contract's field rules, read from the proto descriptors: `google.api.field_behavior`
(REQUIRED, OUTPUT_ONLY, IMMUTABLE) and `catapult.v1.rules` (lengths, patterns, vocabularies,
ranges; proto/catapult/v1/field_rules.proto). The validators (validation.py), the database
column lengths and CHECK constraints (db/schema.py) and the OpenAPI document's constraints
(openapi.py) all read them from here, so each rule is written once, in the proto."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from catapult.v1 import field_rules_pb2

_BEHAVIOR: Any = field_behavior_pb2.field_behavior
_RULES: Any = field_rules_pb2.rules


@dataclass(frozen=True)
class OrderBy:
    fields: tuple[str, ...]
    default: str


@dataclass(frozen=True)
class Rules:
    """Everything the contract says about one field."""

    required: bool = False
    output_only: bool = False
    immutable: bool = False
    max_len: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    url: bool = False
    uuid: bool = False
    max_items: int | None = None
    max_json_bytes: int | None = None
    order_by: OrderBy | None = None
    default: str = ""

    @property
    def compiled_pattern(self) -> re.Pattern[str] | None:
        return _compile(self.pattern) if self.pattern else None


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def field_of(message: type[Message] | Descriptor, name: str) -> FieldDescriptor:
    descriptor = message if isinstance(message, Descriptor) else message.DESCRIPTOR
    return cast(FieldDescriptor, descriptor.fields_by_name[name])


def fields(message: type[Message] | Descriptor) -> list[FieldDescriptor]:
    """A message's fields, in declaration order."""
    descriptor = message if isinstance(message, Descriptor) else message.DESCRIPTOR
    return cast(list[FieldDescriptor], list(descriptor.fields))


def _declared(field: FieldDescriptor) -> field_rules_pb2.FieldRules:
    return cast(field_rules_pb2.FieldRules, field.GetOptions().Extensions[_RULES])


@cache
def rules_of(field: FieldDescriptor) -> Rules:
    """The rules of a field, with a `same_as` reference resolved to the rules it names (the
    field's own behaviours stay its own: a filter is never required because its column is)."""
    behaviors = set(field.GetOptions().Extensions[_BEHAVIOR])
    declared = _declared(field)
    if declared.same_as:
        declared = _declared(_resolve(field, declared.same_as))
    return Rules(
        required=field_behavior_pb2.REQUIRED in behaviors,
        output_only=field_behavior_pb2.OUTPUT_ONLY in behaviors,
        immutable=field_behavior_pb2.IMMUTABLE in behaviors,
        max_len=declared.max_len or None,
        pattern=declared.pattern or None,
        choices=tuple(declared.choices),
        examples=tuple(declared.examples),
        minimum=declared.min if declared.HasField("min") else None,
        maximum=declared.max if declared.HasField("max") else None,
        url=declared.url,
        uuid=declared.uuid,
        max_items=declared.max_items or None,
        max_json_bytes=declared.max_json_bytes or None,
        order_by=(
            OrderBy(tuple(declared.order_by.fields), declared.order_by.default)
            if declared.HasField("order_by")
            else None
        ),
        default=declared.default,
    )


def _resolve(field: FieldDescriptor, full_name: str) -> FieldDescriptor:
    message_name, _, field_name = full_name.rpartition(".")
    message = descriptor_pool.Default().FindMessageTypeByName(message_name)
    target = message.fields_by_name.get(field_name)
    if target is None:
        raise LookupError(f"{field.full_name}: same_as names no field: {full_name!r}")
    if _declared(target).same_as:
        raise LookupError(f"{field.full_name}: same_as {full_name!r} is itself a reference")
    return target


def rules(message: type[Message], name: str) -> Rules:
    """The rules of message.name, e.g. rules(model_pb2.Model, "company")."""
    return rules_of(field_of(message, name))


def max_len(message: type[Message], name: str) -> int:
    """A string field's length limit (for a column's length); a field without one is a bug."""
    limit = rules(message, name).max_len
    if limit is None:
        raise LookupError(f"{message.DESCRIPTOR.full_name}.{name} declares no max_len")
    return limit


def choices(message: type[Message], name: str) -> tuple[str, ...]:
    """A closed vocabulary (for a CHECK constraint, a CLI's choices, a client's constants)."""
    values = rules(message, name).choices
    if not values:
        raise LookupError(f"{message.DESCRIPTOR.full_name}.{name} declares no choices")
    return values
