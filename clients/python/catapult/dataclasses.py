"""The dataclass-style client: betterproto2 messages and stubs for ``catapult.v1``.

Install with ``pip install 'catapult-client[dataclasses]'``. The messages are plain dataclasses
(``v1.Model(name=..., tags=[...])``, ``datetime`` timestamps, ``to_dict()``/``from_dict()``), and
the stubs have snake_case methods. betterproto2's sync stubs take no call metadata, so the channel
that :func:`connect` returns adds the API key to every call with an interceptor, which also turns
failures into the typed :mod:`catapult.errors`::

    from catapult.dataclasses import connect, protobuf, v1

    with connect("localhost:50051", api_key=KEY) as channel:
        models = v1.ModelServiceStub(channel)
        model = models.create_model(
            v1.CreateModelRequest(
                model=v1.Model(
                    name="llama-3-7b-companyA",
                    storage_path="s3://ml-models/companyA/llama-3-7b/",
                    metadata=protobuf.Struct.from_dict({"accuracy": 0.95}),
                )
            )
        )

This layer is the generated code and no more: ``catapult.Client`` adds retries, automatic
request ids, pagination and name lookups. Generated into ``catapult.betterproto`` (so its
``google`` package does not shadow the real one) by ``clients/python/generate.sh``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

try:
    import betterproto2  # noqa: F401 -- only to fail early with the install hint
except ImportError as missing:  # pragma: no cover - depends on the environment
    raise ImportError(
        "catapult.dataclasses needs betterproto2: pip install 'catapult-client[dataclasses]'"
    ) from missing

from catapult._channel import auth_metadata, channel_options, check_target, config_from_env, credentials
from catapult.betterproto.catapult import v1
from catapult.betterproto.google import protobuf
from catapult.errors import from_rpc_error

__all__ = ["ApiKeyInterceptor", "connect", "connect_from_env", "protobuf", "v1"]


@dataclass(frozen=True)
class _CallDetails(grpc.ClientCallDetails):
    method: str
    timeout: float | None
    metadata: Sequence[tuple[str, str | bytes]] | None
    credentials: Any
    wait_for_ready: bool | None
    compression: Any


class ApiKeyInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Adds ``x-api-key`` to every unary call and raises a :class:`catapult.CatapultError`
    subclass (with the ErrorInfo reason) when a call fails."""

    def __init__(self, api_key: str | None) -> None:
        self._metadata = auth_metadata(api_key)

    def intercept_unary_unary(
        self, continuation: Callable[[Any, Any], Any], client_call_details: Any, request: Any
    ) -> Any:
        details = _CallDetails(
            method=client_call_details.method,
            timeout=client_call_details.timeout,
            metadata=[*(client_call_details.metadata or ()), *self._metadata],
            credentials=client_call_details.credentials,
            wait_for_ready=client_call_details.wait_for_ready,
            compression=client_call_details.compression,
        )
        outcome = continuation(details, request)
        error = outcome.exception()
        if isinstance(error, grpc.RpcError):
            raise from_rpc_error(error) from error
        return outcome


def connect(
    target: str,
    *,
    api_key: str | None = None,
    tls: bool | grpc.ChannelCredentials = False,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A grpc channel for the betterproto2 stubs (``v1.ModelServiceStub(channel)``, …) that sends
    ``api_key`` with every call. Use it as a context manager, or ``close()`` it."""
    creds = credentials(tls)
    opts = channel_options(options)
    target = check_target(target)
    channel = (
        grpc.insecure_channel(target, options=opts)
        if creds is None
        else grpc.secure_channel(target, creds, options=opts)
    )
    return grpc.intercept_channel(channel, ApiKeyInterceptor(api_key))


def connect_from_env(*, options: Sequence[tuple[str, Any]] = ()) -> grpc.Channel:
    """:func:`connect` configured by ``CATAPULT_ADDR``, ``CATAPULT_API_KEY`` and ``CATAPULT_TLS``."""
    config = config_from_env()
    return connect(config.target, api_key=config.api_key, tls=config.tls, options=options)
