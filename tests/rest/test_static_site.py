"""A built web app served by Envoy from a directory (`catapult envoy-config --static-dir` or
`--web-root`): each
file with its content type and caching, gzip for text, index.html for every other GET so the
app's own links work, /docs as the app's API reference, and the API as it was."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from catapult_server.server import CatapultServer
from tests.support.errors import assert_status_body, detail
from tests.support.rest import Rest, envoy_in_front

INDEX = b"<!doctype html><title>Catapult</title><script src=/assets/app-abc123.js></script>"
APP_JS = b"export const registry = 'catapult';\n" * 200
DOCS = b"<!doctype html><title>API reference</title>"
# Over Envoy's 4 MiB default cap on a direct response: the cap follows the largest file.
BIG = b"\x89PNG" + bytes(5 * 1024 * 1024)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "assets").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "app-abc123.js").write_bytes(APP_JS)
    (root / "assets" / "poster-0f0f0f.png").write_bytes(BIG)
    (root / "docs" / "index.html").write_bytes(DOCS)
    (root / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (root / ".DS_Store").write_bytes(b"not served")
    return root


@pytest.fixture(params=["static_dir", "web_root"])
async def web(
    server: CatapultServer, writer_key: str, site: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Rest]:
    """Envoy serving `site`: each file listed in its config (--static-dir, `catapult up`), or read
    from the directory when asked for (--web-root, the Kubernetes ConfigMap). Clients see no
    difference."""
    listed = request.param == "static_dir"
    async with envoy_in_front(
        server.port,
        tmp_path / "envoy",
        writer_key,
        static_dir=site if listed else None,
        web_root=None if listed else site,
    ) as through_envoy:
        yield through_envoy


async def test_each_file_is_served_with_its_type_and_caching(web: Rest) -> None:
    for path, content, content_type, cache in (
        ("/", INDEX, "text/html; charset=utf-8", "no-cache"),
        ("/index.html", INDEX, "text/html; charset=utf-8", "no-cache"),
        (
            "/assets/app-abc123.js",
            APP_JS,
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        ("/assets/poster-0f0f0f.png", BIG, "image/png", "public, max-age=31536000, immutable"),
        ("/favicon.ico", b"\x00\x00\x01\x00", "image/x-icon", "no-cache"),
    ):
        reply = await web.get(path, key="")
        assert (reply.status, reply.headers["content-type"], reply.headers["cache-control"]) == (
            200,
            content_type,
            cache,
        ), f"{path}: {reply}"
        assert reply.body == content, path
        assert "content-encoding" not in reply.headers, "gzip for a client that did not ask"


async def test_text_is_gzipped_for_clients_that_accept_it(web: Rest) -> None:
    gzipped = await web.get("/assets/app-abc123.js", key="", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers.get("content-encoding") == "gzip", str(gzipped)
    assert gzip.decompress(gzipped.body) == APP_JS
    assert len(gzipped.body) < len(APP_JS) / 10
    image = await web.get("/favicon.ico", key="", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in image.headers, "images are compressed already"


async def test_every_other_get_is_the_app_so_its_links_work(web: Rest) -> None:
    for path in ("/models/123", "/deployments?environment=production", "/models/123/releases/", "/apiary"):
        reply = await web.get(path, key="")
        assert (reply.status, reply.body) == (200, INDEX), f"{path}: {reply}"
        assert reply.headers["cache-control"] == "no-cache"
    assert (await web.call("HEAD", "/models/123", key="")).status == 200
    # Other methods are not the app's: the JSON error of an unknown route.
    posted = await web.post("/models/123", {}, key="")
    assert detail(assert_status_body(posted, 404, 5), "ErrorInfo")["reason"] == "ROUTE_NOT_FOUND"
    # Hidden files stay hidden (the app's index answers instead).
    assert (await web.get("/.DS_Store", key="")).body == INDEX


async def test_docs_is_the_apps_api_reference(web: Rest) -> None:
    for path in ("/docs", "/docs/", "/api/docs"):
        reply = await web.get(path, key="")
        assert (reply.status, reply.body) == (200, DOCS), f"{path}: {reply}"


async def test_the_api_is_unaffected(web: Rest) -> None:
    assert await web.ok("GET", "/api/v1/models") == {"models": [], "next_page_token": ""}
    assert (await web.ok("GET", "/v1/models"))["models"] == []
    assert (await web.ok("GET", "/api/health", key=""))["status"] == "ok"
    assert "paths" in await web.ok("GET", "/api/openapi.json", key="")
    for path in ("/v1/nothing", "/api/v1/nothing", "/api/anything", "/health/deep"):
        reply = await web.get(path)
        assert detail(assert_status_body(reply, 404, 5), "ErrorInfo")["reason"] == "ROUTE_NOT_FOUND", path
    missing_key = await web.get("/api/v1/models", key="")
    assert detail(assert_status_body(missing_key, 401, 16), "ErrorInfo")["reason"] == "API_KEY_MISSING"


async def test_a_web_root_is_read_when_asked_and_never_outside_itself(
    server: CatapultServer, site: Path, tmp_path: Path
) -> None:
    """The point of --web-root: a rebuilt app (new hashed files) is served by the same config.
    Paths that climb out of the directory get the app's index, never the file they name."""
    (tmp_path / "secret.txt").write_bytes(b"not for the web")
    async with envoy_in_front(server.port, tmp_path / "envoy", web_root=site) as web:
        (site / "assets" / "app-def456.js").write_bytes(b"export {};")
        rebuilt = await web.get("/assets/app-def456.js")
        assert (rebuilt.status, rebuilt.body) == (200, b"export {};"), str(rebuilt)
        for path in (
            "/../secret.txt",
            "/assets/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/assets/..%2f..%2fsecret.txt",
            "/.DS_Store",
        ):
            reply = await web.get(path)
            assert (reply.status, reply.body) == (200, INDEX), f"{path}: {reply}"
