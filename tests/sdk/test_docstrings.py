"""The SDK's docstrings state the proto's vocabularies as the proto does: a method's argument
that is a field with a closed vocabulary lists exactly its choices; one with an open vocabulary
gives examples the proto suggests; an order_by lists exactly the orders the proto allows."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

from google.protobuf.descriptor import Descriptor

import catapult
from catapult import _rpcs
from catapult_server.rules import Rules, fields, rules_of

QUOTED = re.compile(r'``"([^"`]*)"``')


def _arguments(doc: str) -> dict[str, str]:
    """name → text of each entry of a Google-style "Args:" section ("a, b: text" names both)."""
    section = doc.split("Args:", 1)[1] if "Args:" in doc else ""
    section = re.split(r"\n\s*(Returns|Raises|Yields):", section)[0]
    entries: dict[str, str] = {}
    for match in re.finditer(r"^\s{12}([a-z_, ]+): (.*(?:\n\s{16}.*)*)", section, re.MULTILINE):
        for name in match.group(1).split(","):
            entries[name.strip()] = match.group(2)
    return entries


def _request_fields(message: Descriptor) -> dict[str, Rules]:
    """A request's fields and those of the resource it carries, by name."""
    found = {}
    for field in fields(message):
        if field.message_type is not None and field.message_type.full_name.startswith("catapult.v1."):
            found.update({inner.name: rules_of(inner) for inner in fields(field.message_type)})
        found[field.name] = rules_of(field)
    return found


def _documented() -> Iterator[tuple[str, str, str, Rules]]:
    """(method, argument, its docstring text, the rules of the field it sets)."""
    for name, method in inspect.getmembers(catapult.AsyncClient, inspect.isfunction):
        source = inspect.getsource(method)
        used = [getattr(_rpcs, rpc) for rpc in re.findall(r"\brpcs\.([A-Z_]+)\b", source)]
        if not used or not method.__doc__:
            continue
        known = _request_fields(used[0].request.DESCRIPTOR)
        for argument, text in _arguments(method.__doc__).items():
            if argument in known:
                yield name, argument, text, known[argument]


def test_docstrings_state_the_proto_vocabularies() -> None:
    checked, problems = 0, []
    for method, argument, text, rules in _documented():
        said = [value for value in QUOTED.findall(text) if value]
        if rules.choices:
            checked += 1
            if sorted(said) != sorted(rules.choices):
                problems.append(f"{method}({argument}): lists {said}, the proto allows {list(rules.choices)}")
        elif rules.examples:
            checked += 1
            # Values listed are suggestions of an open vocabulary, and must be called that.
            if said and ("any lowercase token" not in text or not set(said) <= set(rules.examples)):
                problems.append(
                    f"{method}({argument}): {text!r} vs the proto's examples {list(rules.examples)}"
                )
        elif rules.order_by is not None:
            checked += 1
            allowed = {f for name in rules.order_by.fields for f in (name, f"{name} desc")}
            if set(said) != allowed:
                problems.append(
                    f"{method}({argument}): lists {sorted(said)}, the proto allows {sorted(allowed)}"
                )
    assert checked >= 10, "the docstrings were not found (a broken parser would pass vacuously)"
    assert not problems, "\n".join(problems)
