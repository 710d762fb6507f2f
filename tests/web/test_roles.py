"""The console shows each key only what its role may do; the server stays the judge: a write
reached by typing its URL is refused with the server's own message."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.stack import Stack

from .conftest import Keys
from .console import sign_in
from .seed import Seeded

LLAMA = "llama-3-7b-companyA"
WRITE_CONTROLS = re.compile(
    r"^(New model|Register a model|Record a release|Record a deployment|Deprecate|Reactivate|Terminate)$"
)


def _pages(seeded: Seeded) -> list[str]:
    return [
        "/",
        f"/models/{seeded.model_ids[LLAMA]}",
        f"/releases/{seeded.release_ids[LLAMA + '@1.2.0']}",
        f"/releases/{seeded.release_ids[LLAMA + '@1.0.0']}",  # deprecated: would offer Reactivate
        "/deployments",
        f"/deployments/{seeded.deployment_ids['https://api.companyA.prod/v1/llama']}",
    ]


def test_a_reader_sees_no_write_controls(page: Page, keys: Keys, seeded: Seeded) -> None:
    paths = _pages(seeded)
    sign_in(page, keys.reader, paths[0])
    expect(page.get_by_role("banner")).to_contain_text("console-reader reader")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys")).to_have_count(0)
    for path in paths:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
        expect(page.get_by_role("link", name=WRITE_CONTROLS)).to_have_count(0)
        expect(page.get_by_role("button", name=WRITE_CONTROLS)).to_have_count(0)


def test_a_writer_writes_but_does_not_manage_keys(page: Page, keys: Keys, seeded: Seeded) -> None:
    sign_in(page, keys.writer, f"/releases/{seeded.release_ids[LLAMA + '@1.2.0']}")
    expect(page.get_by_role("button", name="Deprecate")).to_be_visible()
    expect(page.get_by_role("link", name="Record a deployment")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys")).to_have_count(0)


@pytest.mark.parametrize("role", ["reader", "writer"])
def test_key_management_forced_by_url_is_refused(page: Page, keys: Keys, role: str) -> None:
    sign_in(page, getattr(keys, role), "/admin/keys")
    expect(page.get_by_role("alert").first).to_contain_text(f"'console-{role}' is {role}")


def test_a_write_forced_by_url_is_refused_with_the_servers_message(
    page: Page, keys: Keys, stack: Stack
) -> None:
    sign_in(page, keys.reader, "/models/new")
    expect(page.get_by_role("note")).to_contain_text("reader role: the server will refuse this")
    page.get_by_label(re.compile(r"^Name")).fill("forced-by-a-reader")
    page.get_by_label(re.compile(r"^Storage path")).fill("s3://nope/")
    page.get_by_role("button", name="Register model").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "the reader key 'console-reader' cannot change the registry"
    )
    expect(page).to_have_url(re.compile("/models/new$"))
    with stack.client() as client:
        assert [m.name for m in client.list_models(search="forced-by-a-reader")] == []
