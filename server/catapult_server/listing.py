"""List RPCs as tables: each filter field of a List request maps to one predicate.

A `Listing` is built at import from the request message and a table of predicates, and refuses
to exist when the two disagree: a request field that is neither paging nor in the table (it
would be folded into page tokens but never applied to the SQL), or a table row that names no
field. Adding a filter is one proto field and one row here; the field's rules (validation.py)
have checked the value before a predicate sees it.

A predicate receives the field's value already typed (a UUID for an id, an aware datetime for a
Timestamp, a list for a repeated field) and is not called when the field is not set."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Generic, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from sqlalchemy import Select, func
from sqlalchemy.sql.elements import ColumnElement

from catapult_server import pagination
from catapult_server.database import Database
from catapult_server.resources import M, Resource
from catapult_server.rules import OrderBy, field_of, rules_of

Predicate = Callable[[Any], ColumnElement[bool]]
R = TypeVar("R", bound=Message)


class ContractError(Exception):
    """The server's tables disagree with the proto contract: a bug caught at import."""


def equals(column: ColumnElement[Any]) -> Predicate:
    return lambda value: column == value


def contains_all(column: ColumnElement[Any]) -> Predicate:
    """jsonb containment (served by a GIN index): every value given must be present."""
    return lambda values: column.contains(values)


def contains_text(column: ColumnElement[Any]) -> Predicate:
    """Case-insensitive substring match, the text taken literally (no LIKE wildcards)."""

    def predicate(text: str) -> ColumnElement[bool]:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.ilike(f"%{escaped}%")

    return predicate


def at_or_after(column: ColumnElement[Any]) -> Predicate:
    return lambda moment: column >= moment


def before(column: ColumnElement[Any]) -> Predicate:
    return lambda moment: column < moment


def when_true(clause: ColumnElement[bool]) -> Predicate:
    """A boolean filter: `clause` applies when the field is true (false means no filter)."""
    return lambda _: clause


@dataclass(frozen=True)
class unless_true:
    """A boolean filter that is on by default: `clause` applies unless the field is true
    (ListApiKeys hides revoked keys unless include_revoked)."""

    clause: ColumnElement[bool]

    def __call__(self, value: Any) -> ColumnElement[bool]:
        return self.clause


def _value_reader(descriptor: FieldDescriptor) -> Callable[[Message], Any]:
    """Reads a filter field's value, typed for SQL, or None when it is not set."""
    name = descriptor.name
    if (
        descriptor.message_type is not None
        and descriptor.message_type.full_name == "google.protobuf.Timestamp"
    ):
        return lambda request: (
            getattr(request, name).ToDatetime(tzinfo=UTC) if request.HasField(name) else None
        )
    if descriptor.is_repeated:
        return lambda request: list(getattr(request, name)) or None
    if rules_of(descriptor).uuid:
        return lambda request: uuid.UUID(value) if (value := getattr(request, name)) else None
    return lambda request: getattr(request, name) or None


@dataclass(frozen=True)
class Listing(Generic[M, R]):
    """One List RPC: its request and response, the resource it lists, a predicate per filter
    field, the column behind each order_by field."""

    request: type[Message]
    response: type[R]
    resource: Resource[M]
    filters: Mapping[str, Predicate]
    order_columns: Mapping[str, ColumnElement[Any]]
    # The order of a List request without an order_by field.
    fixed_order: str = ""
    query: Select[Any] | None = None  # default: the resource's query
    # Filters that pick few rows through an index of their own (live_at: the rows live at a
    # moment, from the interval index). When one is given the page is sorted from those rows:
    # walking the order column's index instead, PostgreSQL would expect matches spread evenly
    # through it, while they cluster around the moment, and read the whole table to find them.
    sorted_when: frozenset[str] = frozenset()
    _readers: Mapping[str, Callable[[Message], Any]] = field(init=False, repr=False)
    order: OrderBy = field(init=False)

    def __post_init__(self) -> None:
        descriptor = self.request.DESCRIPTOR
        fields = {f.name for f in descriptor.fields if f.name not in pagination.PAGING_FIELDS}
        missing = sorted(fields - set(self.filters))
        unknown = sorted(set(self.filters) - fields)
        if missing or unknown:
            raise ContractError(
                f"{descriptor.full_name}: filter fields without a predicate {missing}, "
                f"predicates naming no field {unknown}"
            )
        order_field = descriptor.fields_by_name.get("order_by")
        declared = rules_of(order_field).order_by if order_field is not None else None
        order = declared or OrderBy(tuple(self.order_columns), self.fixed_order)
        if set(order.fields) != set(self.order_columns) or not order.default:
            raise ContractError(
                f"{descriptor.full_name}: order_by fields {sorted(order.fields)} (default "
                f"{order.default!r}) but order columns {sorted(self.order_columns)}"
            )
        readers = {name: _value_reader(field_of(self.request, name)) for name in self.filters}
        object.__setattr__(self, "_readers", readers)
        object.__setattr__(self, "order", order)

    def sort_columns(self, request: Message) -> Mapping[str, ColumnElement[Any]]:
        """The order columns, or (a sorted_when filter given) the same values as expressions no
        index provides, so the page is sorted rather than read in an index's order."""
        if not any(self._readers[name](request) is not None for name in self.sorted_when):
            return self.order_columns
        return {name: func.coalesce(column) for name, column in self.order_columns.items()}

    def where(self, request: Message) -> list[ColumnElement[bool]]:
        """The predicates of the filters set in `request`."""
        clauses = []
        for name, read in self._readers.items():
            value = read(request)
            predicate = self.filters[name]
            if isinstance(predicate, unless_true):
                if value is None:
                    clauses.append(predicate.clause)
            elif value is not None:
                clauses.append(predicate(value))
        return clauses

    async def page(self, db: Database, tokens: pagination.PageTokens, request: Message) -> R:
        """The response: one keyset page of the resources matching `request` (in the response's
        first field, as AIP-132 lays it out) and the next page token."""
        query = (self.query if self.query is not None else self.resource.query).where(*self.where(request))
        rows, token = await pagination.fetch_page(
            db, tokens, query, self.sort_columns(request), self.resource.table.c.id, request, self.order
        )
        items = self.response.DESCRIPTOR.fields[0].name
        return self.response(
            **{items: [self.resource.to_proto(row) for row in rows], "next_page_token": token}
        )
