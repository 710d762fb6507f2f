"""Keyset paging: "Next" follows the server's page token, which goes into the URL; the URL of a
later page opens that page; "Previous" and the back button return."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.support.stack import Stack

from .conftest import Keys
from .console import sign_in

CARDS_PER_PAGE = 24


def test_models_page_through_their_pages(page: Page, keys: Keys, stack: Stack) -> None:
    company = f"PagingCo-{uuid.uuid4().hex[:6]}"
    with stack.client() as client:
        names = [
            client.create_model(f"{company}-model-{i:02}", storage_path="s3://paging/", company=company).name
            for i in range(CARDS_PER_PAGE + 6)
        ]
    newest_first = names[::-1]
    sign_in(page, keys.admin, f"/?company={company}")
    cards = page.get_by_role("list", name="Models").get_by_role("heading")
    pager = page.get_by_role("navigation", name="Models pages")

    expect(cards).to_have_text(newest_first[:CARDS_PER_PAGE])
    expect(pager).to_contain_text("Page 1")
    pager.get_by_role("link", name="Next →").click()

    expect(page).to_have_url(re.compile(rf"\?company={company}&page=[\w-]+"))
    expect(cards).to_have_text(newest_first[CARDS_PER_PAGE:])
    expect(pager).to_contain_text("Page 2")
    expect(pager.get_by_role("link", name="Next →")).to_have_count(0)  # the last page

    page_two = page.url
    page.goto(page_two)
    expect(cards).to_have_text(newest_first[CARDS_PER_PAGE:])

    pager.get_by_role("link", name="← Previous").click()
    expect(page).to_have_url(re.compile(rf"\?company={company}$"))
    expect(cards).to_have_text(newest_first[:CARDS_PER_PAGE])
    page.go_back()
    expect(page).to_have_url(page_two)
    expect(cards).to_have_text(newest_first[CARDS_PER_PAGE:])
