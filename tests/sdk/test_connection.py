"""Connecting: from_env, context managers, timeouts per client and per call, TLS, bad targets."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

import catapult
from tests.support.ports import refusing_port
from tests.support.sdk import ConnectFn


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in ("CATAPULT_ADDR", "CATAPULT_API_KEY", "CATAPULT_TLS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


async def test_sync_client_from_env(monkeypatch: pytest.MonkeyPatch, target: str, writer_key: str) -> None:
    _env(monkeypatch, CATAPULT_ADDR=target, CATAPULT_API_KEY=writer_key, CATAPULT_TLS="false")

    def scenario() -> tuple[str, str]:
        with catapult.Client.from_env() as client:
            assert client.target == target
            model = client.create_model("from-env", storage_path="s3://e/")
            return model.id, client.get_model("from-env").id

    created, found = await asyncio.to_thread(scenario)
    assert created == found


async def test_async_client_from_env(monkeypatch: pytest.MonkeyPatch, target: str, writer_key: str) -> None:
    _env(monkeypatch, CATAPULT_ADDR=target, CATAPULT_API_KEY=writer_key)
    async with catapult.AsyncClient.from_env(timeout=5) as client:
        assert (await client.create_model("from-env", storage_path="s3://e/")).name == "from-env"
        assert [m.name async for m in client.list_models()] == ["from-env"]


async def test_from_env_without_a_key_reaches_only_health(
    monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    _env(monkeypatch, CATAPULT_ADDR=target)
    async with catapult.AsyncClient.from_env() as client:
        assert (await client.health()).status == "ok"
        with pytest.raises(catapult.UnauthenticatedError):
            await client.info()


def test_from_env_rejects_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch)
    with pytest.raises(ValueError, match="CATAPULT_ADDR"):
        catapult.Client.from_env()
    _env(monkeypatch, CATAPULT_ADDR="localhost:50051", CATAPULT_TLS="maybe")
    with pytest.raises(ValueError, match="CATAPULT_TLS"):
        catapult.Client.from_env()
    _env(monkeypatch, CATAPULT_ADDR="http://localhost/api")
    with pytest.raises(ValueError, match="gRPC"):
        catapult.Client.from_env()


async def test_tls_from_env_speaks_tls(monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    # The test server is plaintext, so a TLS client cannot complete a handshake with it.
    _env(monkeypatch, CATAPULT_ADDR=target, CATAPULT_TLS="1")
    async with catapult.AsyncClient.from_env(retry=catapult.RetryPolicy.disabled(), timeout=5) as client:
        with pytest.raises(catapult.UnavailableError):
            await client.health()


async def test_sync_context_manager_closes_the_channel(target: str, writer_key: str) -> None:
    def scenario() -> None:
        with catapult.Client(target, api_key=writer_key) as client:
            assert client.health().status == "ok"
        with pytest.raises(ValueError, match="closed"):
            client.health()

    await asyncio.to_thread(scenario)


async def test_async_context_manager_closes_the_channel(target: str) -> None:
    async with catapult.AsyncClient(target) as client:
        assert (await client.health()).status == "ok"
    with pytest.raises(Exception, match=r"(?i)closed"):
        await client.health()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """An address that accepts TCP connections and never says a word: calls to it hang."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for writer in held:
        writer.close()
    server.close()
    with contextlib.suppress(Exception):
        await server.wait_closed()


async def test_timeouts_per_client_and_per_call(connect: ConnectFn, silent_server: str) -> None:
    client = connect(None, target=silent_server, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(catapult.DeadlineExceededError):
        await client.health()
    assert time.monotonic() - started < 3

    patient = connect(None, target=silent_server, timeout=60)
    started = time.monotonic()
    with pytest.raises(catapult.DeadlineExceededError) as err:
        await patient.health(timeout=0.3)
    assert time.monotonic() - started < 3, "the call's own timeout wins"
    assert err.value.reason == ""


async def test_connection_refused_is_unavailable(connect: ConnectFn) -> None:
    with refusing_port() as port:
        client = connect(None, target=f"127.0.0.1:{port}", retry=catapult.RetryPolicy.disabled())
        with pytest.raises(catapult.UnavailableError) as err:
            await client.health()
    assert err.value.reason == "" and err.value.message


def test_targets_that_are_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="gRPC"):
        catapult.Client("https://catapult.example.com")
    with pytest.raises(ValueError, match="address"):
        catapult.Client("")
