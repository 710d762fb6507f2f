"""Keyset pagination (AIP-158): opaque page tokens over (order column, id), never OFFSET.

A token carries the last row's sort key and a fingerprint of the filters and order it was
minted for; a token replayed with other filters is rejected rather than silently paging
through a different result."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from catapult_server.errors import InvalidArgument, InvalidPageToken

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Order:
    column: str
    descending: bool


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument.field("page_size", "must not be negative")
    if requested > MAX_PAGE_SIZE:
        raise InvalidArgument.field("page_size", f"must be at most {MAX_PAGE_SIZE} (got {requested})")
    return requested or DEFAULT_PAGE_SIZE


def parse_order_by(order_by: str, allowed: Sequence[str], default: str) -> Order:
    """ "created_at desc" → Order; only whitelisted columns."""
    words = (order_by.strip() or default).split()
    column = words[0] if words else ""
    direction = words[1].lower() if len(words) > 1 else "asc"
    if column not in allowed or len(words) > 2 or direction not in ("asc", "desc"):
        options = ", ".join(f'"{c}", "{c} desc"' for c in allowed)
        raise InvalidArgument.field("order_by", f"must be one of {options} (got {order_by!r})")
    return Order(column, direction == "desc")


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


def apply(
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
        seek = tuple_(last_value, last_id)
        query = query.where(key < seek if order.descending else key > seek)
    if order.descending:
        query = query.order_by(sort_column.desc(), id_column.desc())
    else:
        query = query.order_by(sort_column.asc(), id_column.asc())
    return query.limit(size + 1)


def next_token(
    rows: Sequence[Mapping[str, Any]], size: int, sort_key: str, filters: Mapping[str, Any], order: Order
) -> tuple[Sequence[Mapping[str, Any]], str]:
    """The page's rows and the token for the next page ("" on the last page)."""
    if len(rows) <= size:
        return rows, ""
    page = rows[:size]
    last = page[-1]
    return page, encode_token(last[sort_key], last["id"], filters, order)
