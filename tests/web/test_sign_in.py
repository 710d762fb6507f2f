"""Signing in and out with an API key: the key stays in the tab (sessionStorage), never in a URL;
a rejected key sends the person back to sign-in with the server's own message."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.support.stack import Stack

from .conftest import Keys
from .console import sign_in


def test_sign_in_lands_where_the_person_was_going_and_sign_out_forgets_the_key(
    page: Page, keys: Keys
) -> None:
    sign_in(page, keys.admin, "/deployments?environment=production")

    expect(page).to_have_url(re.compile(r"/deployments\?environment=production$"))
    expect(page.get_by_role("heading", name="Live deployments")).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text("bootstrap-admin")
    assert keys.admin not in page.url
    assert page.evaluate("() => sessionStorage.getItem('catapult.apiKey')") == keys.admin

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.getItem('catapult.apiKey')") is None
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2F$"))


def test_a_wrong_key_is_refused_with_the_servers_message(page: Page) -> None:
    page.goto("/")
    page.get_by_label("API key").fill("ctp_notakey0_" + "x" * 43)
    page.get_by_role("button", name="Sign in").click()

    error = page.get_by_role("alert")
    expect(error).to_contain_text(re.compile("API key", re.IGNORECASE))
    expect(page.get_by_label("API key")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    assert page.evaluate("() => sessionStorage.getItem('catapult.apiKey')") is None


# How long a revocation takes to reach every server process: the key cache's lifetime (2 s).
KEY_CACHE_SECONDS = 2


def test_a_key_revoked_while_signed_in_returns_to_sign_in_with_the_servers_message(
    page: Page, stack: Stack
) -> None:
    with stack.client() as admin:
        created = admin.create_api_key("revoked-while-signed-in", role="reader")
        sign_in(page, created.secret, "/blast-radius")
        admin.revoke_api_key(created.api_key.id)
    time.sleep(KEY_CACHE_SECONDS + 1)  # every process refuses it now: the next page load asks
    page.goto("/blast-radius")
    expect(page.get_by_role("alert")).to_contain_text("revoked")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fblast-radius$"))
    assert page.evaluate("() => sessionStorage.getItem('catapult.apiKey')") is None


def test_a_page_following_changes_is_signed_out_when_its_key_is_revoked(page: Page, stack: Stack) -> None:
    """The deployments page holds a watch stream open; the server cuts it off when the key is
    revoked, and the tab returns to sign-in with the server's message, without a reload."""
    with stack.client() as admin:
        created = admin.create_api_key("revoked-while-watching", role="reader")
        sign_in(page, created.secret, "/deployments")
        expect(
            page.get_by_role("status").filter(has_text="Live: changes appear as they happen")
        ).to_be_visible()
        admin.revoke_api_key(created.api_key.id)
    expect(page.get_by_role("alert")).to_contain_text("revoked", timeout=15_000)
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Fdeployments$"))
