"""Keyset pagination (AIP-158): opaque page tokens over (order column, id), never OFFSET.

A token carries the last row's sort key and a fingerprint of the filters and order it was
minted for; a token replayed with other filters is rejected rather than silently paging
through a different result. page_size's range is a rule in the proto (validated before this)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from catapult_server.database import Database
from catapult_server.errors import InvalidArgument, InvalidPageToken
from catapult_server.rules import OrderBy

DEFAULT_PAGE_SIZE = 50
PAGING_FIELDS = ("page_size", "page_token", "order_by")


@dataclass(frozen=True)
class Order:
    column: str
    descending: bool


def parse_order_by(order_by: str, allowed: OrderBy) -> Order:
    """ "created_at desc" → Order; only the fields the proto allows."""
    words = (order_by.strip() or allowed.default).split()
    column = words[0] if words else ""
    direction = words[1].lower() if len(words) > 1 else "asc"
    if column not in allowed.fields or len(words) > 2 or direction not in ("asc", "desc"):
        options = ", ".join(f'"{c}", "{c} desc"' for c in allowed.fields)
        raise InvalidArgument.field("order_by", f"must be one of {options} (got {order_by[:64]!r})")
    return Order(column, direction == "desc")


def filter_values(request: Message) -> dict[str, Any]:
    """Every filter of a List request (all its fields but paging), for the token's fingerprint:
    read from the message, so a filter added to the proto is bound to tokens without more code."""
    out: dict[str, Any] = {}
    for name in request.DESCRIPTOR.fields_by_name:
        if name in PAGING_FIELDS:
            continue
        value = getattr(request, name)
        if hasattr(value, "ToJsonString"):
            value = value.ToJsonString() if request.HasField(name) else ""
        elif not isinstance(value, (str, int, bool)):
            value = list(value)
        out[name] = value
    return out


def _fingerprint(filters: Mapping[str, Any], order: Order) -> str:
    canonical = json.dumps([sorted(filters.items()), order.column, order.descending], default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "t" in value:
        return datetime.fromisoformat(value["t"])
    return value


def encode_token(last_sort_value: Any, last_id: uuid.UUID, filters: Mapping[str, Any], order: Order) -> str:
    payload = {"k": [_encode_value(last_sort_value), str(last_id)], "f": _fingerprint(filters, order)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, filters: Mapping[str, Any], order: Order) -> tuple[Any, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        sort_value, last_id = payload["k"]
        fingerprint = payload["f"]
        key = (_decode_value(sort_value), uuid.UUID(last_id))
    except (ValueError, KeyError, TypeError):
        raise InvalidPageToken("is not a page token this server issued") from None
    if fingerprint != _fingerprint(filters, order):
        raise InvalidPageToken("was issued for other filters or another order_by; start from the first page")
    return key


def seek(
    query: Select[Any],
    sort_column: ColumnElement[Any],
    id_column: ColumnElement[Any],
    order: Order,
    size: int,
    token: str,
    filters: Mapping[str, Any],
) -> Select[Any]:
    """Order, seek past the token's row, and fetch one extra row to know if a next page exists."""
    if token:
        last_value, last_id = decode_token(token, filters, order)
        key = tuple_(sort_column, id_column)
        after = tuple_(last_value, last_id)
        query = query.where(key < after if order.descending else key > after)
    if order.descending:
        query = query.order_by(sort_column.desc(), id_column.desc())
    else:
        query = query.order_by(sort_column.asc(), id_column.asc())
    return query.limit(size + 1)


async def fetch_page(
    db: Database,
    query: Select[Any],
    columns: Mapping[str, ColumnElement[Any]],
    id_column: ColumnElement[Any],
    request: Any,
    allowed: OrderBy,
) -> tuple[Sequence[Mapping[str, Any]], str]:
    """One keyset page of `query` (already filtered) and the next page token ("" on the last)."""
    filters = filter_values(request)
    size = request.page_size or DEFAULT_PAGE_SIZE
    order = parse_order_by(getattr(request, "order_by", ""), allowed)
    paged = seek(query, columns[order.column], id_column, order, size, request.page_token, filters)
    async with db.read() as conn:
        rows = (await conn.execute(paged)).mappings().all()
    if len(rows) <= size:
        return rows, ""
    page = rows[:size]
    last = page[-1]
    # The sort column's value in the row: its own key ("version" orders by version_key).
    sort_key = getattr(columns[order.column], "key", order.column)
    return page, encode_token(last[sort_key], last["id"], filters, order)
