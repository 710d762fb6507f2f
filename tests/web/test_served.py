"""`catapult up` serves the built console through its Envoy, on the API's port: every console
path gets the app (deep links work on a fresh load), hashed assets are cached for good and
gzipped; without a build, the banner says how to make one."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.stack import Stack

from .stack import running_stack


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def test_the_console_is_served_on_the_api_port(stack: Stack) -> None:
    assert f"console:    {stack.base_url}/" in stack.output()
    for path in ("/", "/models/0b8c1d2e-0000-4000-8000-000000000000", "/deployments?environment=production"):
        status, headers, body = get(stack.base_url + path)
        assert (status, headers["content-type"]) == (200, "text/html; charset=utf-8"), path
        assert b'<div id="root"></div>' in body, path

    script = re.search(rb'src="(/assets/[^"]+\.js)"', get(stack.base_url + "/")[2])
    assert script, "index.html names no script"
    status, headers, _ = get(stack.base_url + script.group(1).decode(), **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert "immutable" in headers["cache-control"]
    assert headers.get("content-encoding") == "gzip"


def test_without_a_build_the_banner_says_how_to_make_one(tmp_path: Path, postgres_url: str) -> None:
    empty = tmp_path / "no-build"
    empty.mkdir()
    with running_stack(tmp_path / "stack", postgres_url, web_dir=str(empty)) as stack:
        assert "console:    not built: `make install` builds it" in stack.output(), stack.context()
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(stack.base_url + "/")
        assert refused.value.code == 404
