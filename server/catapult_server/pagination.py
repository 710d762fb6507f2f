"""Keyset pagination (AIP-158): opaque page tokens over (order column, id), never OFFSET.

A token carries the last row's sort key and a fingerprint of the filters and order it was
minted for; a token replayed with other filters is rejected rather than silently paging
through a different result. page_size's range is a rule in the proto (validated before this)."""

from __future__ import annotations

import base64
import hashlib
import hmac
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


class PageTokens:
    """Mints and checks page tokens. A token is its payload (the last row's sort key, the
    fingerprint of the filters and order) and an HMAC-SHA256 of it under the server's page-token
    secret, which every replica shares: a token from any replica works on any other, and a
    forged or altered one is refused before anything in it is used."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"catapult page tokens\0" + secret.encode()).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(
        self, last_sort_value: Any, last_id: uuid.UUID, filters: Mapping[str, Any], order: Order
    ) -> str:
        payload = json.dumps(
            {"k": [_encode_value(last_sort_value), str(last_id)], "f": _fingerprint(filters, order)},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def decode(
        self, token: str, filters: Mapping[str, Any], order: Order, sort_type: type
    ) -> tuple[Any, uuid.UUID]:
        """The last row's (sort value, id); INVALID_ARGUMENT (INVALID_PAGE_TOKEN) for a token this
        server did not issue, or one issued for other filters or another order."""
        try:
            encoded_payload, encoded_signature = token.split(".")
            payload, signature = _unb64(encoded_payload), _unb64(encoded_signature)
        except ValueError:
            raise InvalidPageToken("is not a page token this server issued") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidPageToken("is not a page token this server issued")
        try:
            content = json.loads(payload)
            (sort_value, last_id), fingerprint = content["k"], content["f"]
            if sort_type is datetime:
                sort_value = datetime.fromisoformat(sort_value["t"])
            if not isinstance(sort_value, sort_type):
                raise TypeError(sort_value)
            key = (sort_value, uuid.UUID(last_id))
        except (ValueError, KeyError, TypeError):  # signed, so only a token of an older format
            raise InvalidPageToken("is not a page token this server issued") from None
        if fingerprint != _fingerprint(filters, order):
            raise InvalidPageToken(
                "was issued for other filters or another order_by; start from the first page"
            )
        return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seek(
    query: Select[Any],
    sort_column: ColumnElement[Any],
    id_column: ColumnElement[Any],
    order: Order,
    size: int,
    after: tuple[Any, uuid.UUID] | None,
) -> Select[Any]:
    """Order, seek past the row `after` names (its sort value and id), and fetch one extra row
    to know whether a next page exists."""
    if after is not None:
        key, last = tuple_(sort_column, id_column), tuple_(*after)
        query = query.where(key < last if order.descending else key > last)
    if order.descending:
        query = query.order_by(sort_column.desc(), id_column.desc())
    else:
        query = query.order_by(sort_column.asc(), id_column.asc())
    return query.limit(size + 1)


async def fetch_page(
    db: Database,
    tokens: PageTokens,
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
    sort_column = columns[order.column]
    after = None
    if request.page_token:
        after = tokens.decode(request.page_token, filters, order, sort_column.type.python_type)
    paged = seek(query, sort_column, id_column, order, size, after)
    async with db.read() as conn:
        rows = (await conn.execute(paged)).mappings().all()
    if len(rows) <= size:
        return rows, ""
    page = rows[:size]
    last = page[-1]
    # The sort column's value in the row: its own key ("version" orders by version_key), or for
    # an expression of a column (Listing.sort_columns), the column's.
    sort_key = getattr(sort_column, "key", None) or order.column
    if sort_key not in last:
        sort_key = next(iter(sort_column.base_columns)).key
    return page, tokens.encode(last[sort_key], last["id"], filters, order)
