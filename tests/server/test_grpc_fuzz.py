"""Fuzzing every RPC over native gRPC: random bytes, and messages whose fields hold random and
out-of-range values (huge and negative numbers, long and odd Unicode, NUL, lone surrogates'
replacements, NaN in a Struct, timestamps at and past the ends of time). Whatever a request
holds, the answer is a status a client can act on — never INTERNAL or UNKNOWN."""

from __future__ import annotations

import random
import uuid
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from catapult_server.interceptors import SERVICES
from catapult_server.rules import fields
from catapult_server.server import CatapultServer
from tests.support.api import auth

CASES_PER_METHOD = 25
SEED = 20261129
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}

STRINGS = [
    "",
    " ",
    "a\x00b",
    "é" * 300,
    "\u202e\u0301\ufeff",
    "x" * 5000,
    "production",
    "1.0.0",
    "https://api.example.com/v1",
    "00000000-0000-0000-0000-000000000000",
    "null",
    "' OR 1=1 --",
    "%s%n%x",
    "../../etc/passwd",
    "\ud7ff\ue000\U0010ffff",
]
INTEGERS = [0, -1, 1, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63), 999999]
SECONDS = [0, -62_135_596_800, -62_135_596_801, 253_402_300_799, 253_402_300_800, 2**40, -(2**40)]


def _value(field: FieldDescriptor, rng: random.Random, depth: int) -> Any:
    if field.type == FieldDescriptor.TYPE_STRING:
        return rng.choice([*STRINGS, str(uuid.uuid4())])
    if field.type == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64):
        return rng.choice(INTEGERS)
    if field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32):
        return rng.choice([i for i in INTEGERS if -(2**31) <= i < 2**31])
    if field.type in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64):
        return rng.choice([i for i in INTEGERS if 0 <= i < 2**32])
    return None


def _fill(message: Message, rng: random.Random, depth: int = 0) -> None:
    for field in fields(type(message)):
        if rng.random() < 0.3:
            continue
        name = field.message_type.full_name if field.message_type is not None else ""
        target = getattr(message, field.name)
        if name == "google.protobuf.Timestamp":
            target.seconds, target.nanos = (
                rng.choice(SECONDS),
                rng.choice([0, 999_999_999, -1, 1_000_000_000]),
            )
        elif name == "google.protobuf.Struct":
            target.update(
                {rng.choice(STRINGS) or "k": rng.choice([float("nan"), 1e308, "v", None, [1, {"a": []}]])}
            )
        elif name == "google.protobuf.FieldMask":
            target.paths.extend(rng.sample(["name", "id", "status", "etag", "nope", "*", "metadata"], 2))
        elif field.message_type is not None:
            if depth < 2:
                _fill(target, rng, depth + 1)
        elif field.is_repeated:
            target.extend(_value(field, rng, depth) for _ in range(rng.choice([1, 3, 70])))
        else:
            value = _value(field, rng, depth)
            if value is not None:
                setattr(message, field.name, value)


def _requests(method: MethodDescriptor, rng: random.Random) -> list[bytes]:
    cls = message_factory.GetMessageClass(method.input_type)
    payloads = [bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 7, 64, 300]))) for _ in range(5)]
    for _ in range(CASES_PER_METHOD - len(payloads)):
        message = cls()
        _fill(message, rng)
        payloads.append(message.SerializeToString())
    return payloads


async def test_no_request_gets_internal_or_unknown(server: CatapultServer, admin_key: str) -> None:
    rng = random.Random(SEED)
    failures = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        for service in SERVICES:
            for method in service.methods:
                call = channel.unary_unary(
                    f"/{service.full_name}/{method.name}",
                    request_serializer=lambda b: b,
                    response_deserializer=lambda b: b,
                )
                for payload in _requests(method, rng):
                    try:
                        await call(payload, metadata=auth(admin_key), timeout=30)
                    except grpc.aio.AioRpcError as error:
                        if error.code() in NEVER:
                            failures.append(
                                f"{method.name} {payload[:60]!r}: {error.code().name} {error.details()}"
                            )
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:20])
