"""Request validation, built from the contract's field rules (rules.py) at start-up.

The interceptor checks every catapult.v1 request before its servicer runs: each field against
its rules, every problem reported at once as INVALID_ARGUMENT with a BadRequest naming each
field (`model.name`, `page_size`). The checks are compiled once per request type into a list of
small functions, so validating a request costs a few attribute reads per field.

Two shapes of request carry a resource:
- a Create request (no `update_mask`): every REQUIRED field of the resource must be given;
- an Update request (`update_mask`): the resource's `id` is required, the mask may name only
  fields a client can change, and the fields the update writes (the mask's, or without one
  those set) are checked — a REQUIRED field cannot be cleared.
Besides the declared rules, every string is checked for NUL characters, every Timestamp for
the range the proto allows, and every Struct for JSON PostgreSQL can store: values no declared
rule anticipates but no database accepts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from catapult_server.errors import FieldViolation, InvalidArgument
from catapult_server.resources import struct_to_dict
from catapult_server.rules import Rules, fields, rules_of

# A check of one field of a message: the violations it finds.
Check = Callable[[Message], list[FieldViolation]]

TIMESTAMP = "google.protobuf.Timestamp"
STRUCT = "google.protobuf.Struct"
FIELD_MASK = "google.protobuf.FieldMask"
# google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_799
# JSON nested deeper than this is no metadata a person wrote. (Past about 30 levels the protobuf
# runtime refuses to parse the request at all, which the interceptor reports as invalid too.)
MAX_STRUCT_DEPTH = 20


class RequestValidator:
    """The checks of one request message type."""

    def __init__(self, descriptor: Descriptor) -> None:
        self.checks: list[Check] = []
        is_update = "update_mask" in descriptor.fields_by_name
        for field in fields(descriptor):
            if _is_resource(field):
                if is_update:
                    self.checks.append(_update_checks(field))
                else:
                    self.checks.append(_create_checks(field))
            elif _message_name(field) == FIELD_MASK:
                continue  # checked with the resource it masks (_update_checks)
            else:
                self.checks.append(_field_check(field, field.name, enforce_required=True))

    def check(self, request: Message) -> None:
        """Raise InvalidArgument listing every violation, or return."""
        violations: list[FieldViolation] = []
        for check in self.checks:
            found = check(request)
            if found:
                violations.extend(found)
        if violations:
            raise InvalidArgument(violations)


@cache
def validator_for(descriptor: Descriptor) -> RequestValidator:
    return RequestValidator(descriptor)


def _is_resource(field: FieldDescriptor) -> bool:
    """A catapult.v1 message carried by a request (the resource of a Create or an Update)."""
    return field.message_type is not None and field.message_type.full_name.startswith("catapult.v1.")


def _resource_type(field: FieldDescriptor) -> Descriptor:
    assert field.message_type is not None, f"{field.full_name} is a message field"
    return field.message_type


def _message_name(field: FieldDescriptor) -> str:
    return field.message_type.full_name if field.message_type is not None else ""


def _create_checks(field: FieldDescriptor) -> Check:
    """The resource of a Create: present, every writable field checked, REQUIRED ones given."""
    name = field.name
    inner = [
        _field_check(f, f"{name}.{f.name}", enforce_required=True)
        for f in fields(_resource_type(field))
        if not rules_of(f).output_only
    ]

    def check(request: Message) -> list[FieldViolation]:
        if not request.HasField(name):
            return [FieldViolation(name, "is required")]
        resource = getattr(request, name)
        return [v for c in inner for v in c(resource)]

    return check


def _update_checks(field: FieldDescriptor) -> Check:
    """The resource of an Update with its update_mask (AIP-134)."""
    name = field.name
    resource_fields = {f.name: f for f in fields(_resource_type(field))}
    writable = {f for f, descriptor in resource_fields.items() if not rules_of(descriptor).output_only}
    mutable = {f for f in writable if not rules_of(resource_fields[f]).immutable}
    checks = {f: _field_check(resource_fields[f], f"{name}.{f}", enforce_required=True) for f in writable}
    id_check = _field_check(resource_fields["id"], f"{name}.id", enforce_required=True, required=True)

    def check(request: Message) -> list[FieldViolation]:
        if not request.HasField(name):
            return [FieldViolation(name, "is required")]
        resource = getattr(request, name)
        violations = id_check(resource)
        paths = list(getattr(request, "update_mask").paths)  # noqa: B009 - an Update request's mask
        if paths == ["*"]:
            chosen: Iterable[str] = mutable
        elif paths:
            chosen = []
            for path in paths:
                if path not in writable:
                    listed = ", ".join(sorted(mutable))
                    violations.append(
                        FieldViolation(
                            "update_mask", f"{path!r} is not a field that can be updated ({listed})"
                        )
                    )
                elif path not in mutable:
                    violations.append(FieldViolation("update_mask", f"{path!r} cannot change after creation"))
                else:
                    chosen.append(path)
        else:
            # Without a mask, the fields set are the update (immutable ones may come back
            # unchanged from a read-modify-write client: the repository compares them).
            chosen = [f for f in writable if _is_set(resource, resource_fields[f])]
        for f in chosen:
            violations.extend(checks[f](resource))
        return violations

    return check


def _is_set(message: Message, field: FieldDescriptor) -> bool:
    if field.message_type is not None and not field.is_repeated:
        return message.HasField(field.name)
    return bool(getattr(message, field.name))


def _field_check(
    field: FieldDescriptor, path: str, *, enforce_required: bool, required: bool | None = None
) -> Check:
    """The check of one field, by its type and rules."""
    rules = rules_of(field)
    must_be_given = enforce_required and (rules.required if required is None else required)
    name = field.name
    message_type = _message_name(field)
    if message_type == TIMESTAMP:
        return _timestamp_check(name, path, must_be_given)
    if message_type == STRUCT:
        return _struct_check(name, path, rules)
    if field.is_repeated and field.type == FieldDescriptor.TYPE_STRING:
        return _strings_check(name, path, rules)
    if field.type == FieldDescriptor.TYPE_STRING:
        problem = _string_problem(rules, must_be_given)

        def check_string(message: Message) -> list[FieldViolation]:
            found = problem(getattr(message, name))
            if not found:
                return []
            return [FieldViolation(path, f"{found}; {rules.hint}" if rules.hint else found)]

        return check_string
    if field.type in _INTEGER_TYPES and (rules.minimum is not None or rules.maximum is not None):
        return _number_check(name, path, rules)
    return _no_check


def _no_check(message: Message) -> list[FieldViolation]:
    return []


_INTEGER_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
}


def _string_problem(rules: Rules, must_be_given: bool) -> Callable[[str], str | None]:
    """A function telling what is wrong with a string value, or None."""
    pattern = rules.compiled_pattern
    choices = frozenset(rules.choices)

    def problem(value: str) -> str | None:
        if not value:  # proto3: "" is "not given"; only REQUIRED minds
            return "is required" if must_be_given else None
        if must_be_given and not value.strip():
            return "is required (white space is not a value)"
        if "\x00" in value:
            return "must not contain the NUL character (U+0000)"
        if rules.max_len is not None and len(value) > rules.max_len:
            return f"must be at most {rules.max_len} characters (got {len(value)})"
        if rules.uuid:
            try:
                uuid.UUID(value)
            except ValueError:
                return f"must be a UUID (got {_shown(value)})"
        if choices and value not in choices:
            return f"must be one of {', '.join(rules.choices)} (got {_shown(value)})"
        if pattern is not None and not pattern.fullmatch(value):
            return f"must match {rules.pattern} (got {_shown(value)})"
        if rules.url and not _absolute_url(value):
            return f"must be an absolute URL such as https://host/path (got {_shown(value)})"
        return None

    return problem


def _absolute_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed "[" where an IPv6 host would be
        return False
    return bool(parts.scheme and parts.netloc)


def _shown(value: str) -> str:
    """A value quoted for an error message, cut short: the message goes into logs and UIs."""
    return repr(value[:64])


def _strings_check(name: str, path: str, rules: Rules) -> Check:
    element = _string_problem(rules, must_be_given=False)

    def check(message: Message) -> list[FieldViolation]:
        values = getattr(message, name)
        if rules.max_items is not None and len(values) > rules.max_items:
            return [FieldViolation(path, f"must have at most {rules.max_items} items (got {len(values)})")]
        for value in values:
            found = element(value) if value.strip() else "must not be blank"
            if found:
                return [FieldViolation(path, f"each item {found}")]
        return []

    return check


def _number_check(name: str, path: str, rules: Rules) -> Check:
    def check(message: Message) -> list[FieldViolation]:
        value = getattr(message, name)
        if rules.minimum is not None and value < rules.minimum:
            return [FieldViolation(path, f"must be at least {rules.minimum} (got {value})")]
        if rules.maximum is not None and value > rules.maximum:
            return [FieldViolation(path, f"must be at most {rules.maximum} (got {value})")]
        return []

    return check


def _timestamp_check(name: str, path: str, must_be_given: bool) -> Check:
    def check(message: Message) -> list[FieldViolation]:
        if not message.HasField(name):
            return [FieldViolation(path, "is required")] if must_be_given else []
        value = getattr(message, name)
        if not MIN_SECONDS <= value.seconds <= MAX_SECONDS or not 0 <= value.nanos < 1_000_000_000:
            return [FieldViolation(path, "must be a time between 0001-01-01 and 9999-12-31 (UTC)")]
        return []

    return check


def _struct_check(name: str, path: str, rules: Rules) -> Check:
    def check(message: Message) -> list[FieldViolation]:
        if not message.HasField(name):
            return []
        problem = _json_problem(struct_to_dict(getattr(message, name)), rules)
        return [FieldViolation(path, problem)] if problem else []

    return check


def _json_problem(value: dict[str, Any], rules: Rules) -> str | None:
    if _depth(value) > MAX_STRUCT_DEPTH:
        return f"must not nest deeper than {MAX_STRUCT_DEPTH} levels"
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return "must be JSON: NaN and Infinity are not JSON numbers"
    if "\\u0000" in text:
        return "must not contain the NUL character (U+0000)"
    if rules.max_json_bytes is not None and len(text) > rules.max_json_bytes:
        return f"must be at most {rules.max_json_bytes} bytes as JSON (got {len(text)})"
    return None


def _depth(value: Any) -> int:
    """How deeply a JSON value nests (iteratively: the value may be deeper than the stack)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return deepest
