"""The console's budgets, measured in Chromium: the JavaScript a first visit loads is at most
300 KB gzipped, and with 1,000 models and 10,000 deployments the dashboard and the deployments
page show their first page within 1.5 s of navigation. The numbers go to build/web-budgets.json."""

from __future__ import annotations

import gzip
import statistics
from collections.abc import Iterator

import asyncpg
import pytest
from playwright.sync_api import Page, Response, expect

from bench.seed import grow_deployments, seed_catalogue
from tests.support.database import asyncpg_dsn, blocking
from tests.support.paths import REPO, record_figure
from tests.support.stack import Stack

from .console import sign_in
from .stack import running_stack

INITIAL_JS_BUDGET = 300 * 1024
FIRST_PAGE_BUDGET_MS = 1500
MODELS, RELEASES_PER_MODEL, DEPLOYMENTS = 1000, 10, 10_000
RESULTS = REPO / "build" / "web-budgets.json"


def test_initial_javascript_is_within_budget(page: Page) -> None:
    scripts: list[Response] = []
    page.on(
        "response",
        lambda response: scripts.append(response) if response.request.resource_type == "script" else None,
    )
    page.goto("/")
    expect(page.get_by_label("API key")).to_be_visible()

    assert scripts, "the first visit loaded no script"
    gzipped = sum(len(gzip.compress(response.body(), compresslevel=9)) for response in scripts)
    record_figure(RESULTS, "initial_js_gzip_bytes", gzipped)
    assert gzipped <= INITIAL_JS_BUDGET, (
        f"{gzipped / 1024:.0f} KB gzipped > {INITIAL_JS_BUDGET / 1024:.0f} KB"
    )


@pytest.fixture(scope="module")
def big_stack(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[Stack]:
    """A stack holding 1,000 models, 10,000 releases and 10,000 deployments, written with SQL as
    `make bench` seeds (the API would take minutes)."""
    with running_stack(tmp_path_factory.mktemp("budget-stack"), postgres_url) as stack:
        blocking(fill(stack.settings["database_url"]))  # off Playwright's event loop
        yield stack


async def fill(database_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await seed_catalogue(conn, MODELS, RELEASES_PER_MODEL)
        await grow_deployments(conn, DEPLOYMENTS)
    finally:
        await conn.close()


# When the first row of the list is in the DOM, in ms since the navigation started.
FIRST_ROW_SHOWN = "selector => document.querySelector(selector) ? performance.now() : null"


@pytest.mark.parametrize(
    ("path", "first_row"),
    [("/", "ul.cards > li"), ("/deployments", "table tbody tr")],
    ids=["dashboard", "deployments"],
)
def test_first_page_shows_within_budget(page: Page, big_stack: Stack, path: str, first_row: str) -> None:
    sign_in(page, big_stack.admin_key, f"{big_stack.base_url}{path}")
    timings = []
    for _ in range(3):
        page.reload(wait_until="commit")
        shown = page.wait_for_function(FIRST_ROW_SHOWN, arg=first_row, polling="raf", timeout=10_000)
        timings.append(round(shown.json_value()))
    median = statistics.median(timings)
    record_figure(
        RESULTS, f"first_page_ms{path.replace('/', '_') or '_'}", {"runs": timings, "median": median}
    )
    assert median <= FIRST_PAGE_BUDGET_MS, f"{path}: first page after {timings} ms"
