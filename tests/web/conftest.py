"""Browser tests: Debian's Chromium driven by Playwright against a real `catapult up` (server,
Envoy serving the built console and the API on one port) with seeded data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.support.stack import Stack

from .seed import Seeded, seed
from .stack import running_stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's own timeouts: generous for a 2-core machine running the whole stack and Chromium.
EXPECT_TIMEOUT_MS = 10_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@dataclass(frozen=True)
class Keys:
    admin: str
    writer: str
    reader: str


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's Chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[Stack]:
    """One stack for the session, seeded once; tests that write make their own names."""
    with running_stack(tmp_path_factory.mktemp("console-stack"), postgres_url) as stack:
        yield stack


@pytest.fixture(scope="session")
def seeded(stack: Stack) -> Seeded:
    with stack.client() as client:
        return seed(client)


@pytest.fixture(scope="session")
def keys(stack: Stack) -> Keys:
    with stack.client() as client:
        writer = client.create_api_key("console-writer", role="writer").secret
        reader = client.create_api_key("console-reader", role="reader").secret
    return Keys(admin=stack.admin_key, writer=writer, reader=reader)


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    """A fresh tab in a fresh context (empty sessionStorage: signed out) on the stack's origin."""
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()
