"""Envoy's access log shows each request as the client sent it: a REST GET is a GET of its REST
path, although the transcoder has made it a gRPC POST by the time the line is written."""

from __future__ import annotations

import asyncio

from tests.support.polling import poll_until
from tests.support.rest import Rest


async def log_line(rest: Rest, needle: str) -> str:
    """The access log line containing `needle`, once Envoy has written it."""
    proxy = rest.proxy
    assert proxy is not None

    async def find() -> str | None:
        log = await asyncio.to_thread(proxy.log)
        return next((line for line in log.splitlines() if needle in line), None)

    return await poll_until(find, within=10, interval=0.1)


async def test_the_access_log_shows_the_clients_method_and_path(rest: Rest) -> None:
    await rest.ok("GET", "/api/v1/models", query={"company": "log-check"})
    line = await log_line(rest, "company=log-check")
    assert '"GET /api/v1/models?company=log-check HTTP/1.1" 200' in line, line
    assert "/catapult.v1.ModelService/ListModels" in line, line  # and the gRPC call it became


async def test_envoys_own_replies_are_logged_as_sent_with_their_reason(rest: Rest) -> None:
    await rest.get("/api/v1/models", query={"page_size": "log-check"})
    line = await log_line(rest, "page_size=log-check")
    assert '"GET /api/v1/models?page_size=log-check HTTP/1.1" 400' in line, line
    assert "grpc_json_transcode_failure" in line, line  # why Envoy answered itself
