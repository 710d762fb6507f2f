"""What the sync and async clients share about connecting: the target, TLS, the API key,
channel options and the CATAPULT_* environment."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

DEFAULT_TIMEOUT = 30.0
"""Seconds a call may take, retries included, unless the client or the call says otherwise."""

# grpc's own reconnect backoff starts at 1 s and grows to 120 s, so a channel whose server
# restarted can keep failing fast for seconds after the server is back, longer than our retries
# wait. A tighter cap lets the channel find the server again within the retry window.
_DEFAULT_OPTIONS: dict[str, Any] = {
    "grpc.initial_reconnect_backoff_ms": 250,
    "grpc.max_reconnect_backoff_ms": 5000,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def check_target(target: str) -> str:
    """A gRPC target ("host:port", "dns:///host:port", "unix:/path"); an http(s) URL is a mistake."""
    if not target:
        raise ValueError("target must be the server's gRPC address, e.g. 'localhost:50051'")
    if target.startswith(("http://", "https://")):
        raise ValueError(
            f"{target!r} is a URL; Catapult speaks gRPC: pass 'host:port' (and tls=True for TLS)"
        )
    return target


def channel_options(options: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The client's default channel options, overridden by the caller's."""
    merged = dict(_DEFAULT_OPTIONS)
    merged.update(dict(options))
    return list(merged.items())


def credentials(tls: bool | grpc.ChannelCredentials) -> grpc.ChannelCredentials | None:
    """None for a plaintext channel; TLS with the default roots for True; or the caller's credentials."""
    if tls is True:
        return grpc.ssl_channel_credentials()
    if tls is False:
        return None
    return tls


def auth_metadata(api_key: str | None) -> tuple[tuple[str, str], ...]:
    """The call metadata that carries the API key."""
    return (("x-api-key", api_key),) if api_key else ()


IDEMPOTENCY_KEY = "idempotency-key"
"""The metadata a create's request_id travels in too (the server checks they agree)."""


@dataclass(frozen=True)
class EnvConfig:
    target: str
    api_key: str | None
    tls: bool


def config_from_env(environ: Mapping[str, str] | None = None) -> EnvConfig:
    """CATAPULT_ADDR (required), CATAPULT_API_KEY and CATAPULT_TLS (1/true/yes/on) from the environment."""
    env = os.environ if environ is None else environ
    target = env.get("CATAPULT_ADDR", "").strip()
    if not target:
        raise ValueError("CATAPULT_ADDR is not set: set it to the server's gRPC address, e.g. host:50051")
    tls_text = env.get("CATAPULT_TLS", "").strip().lower()
    if tls_text not in _TRUE | _FALSE:
        raise ValueError(f"CATAPULT_TLS must be one of 1/true/yes/on or 0/false/no/off, got {tls_text!r}")
    return EnvConfig(
        target=check_target(target),
        api_key=env.get("CATAPULT_API_KEY", "").strip() or None,
        tls=tls_text in _TRUE,
    )
