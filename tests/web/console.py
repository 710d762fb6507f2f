"""What the browser tests do with the console: sign in as a person would, check a page with
axe-core, save its screenshot."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.paths import REPO

AXE_SCRIPT = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
# Every page's screenshot lands here (build/ is git-ignored); `make screenshots` copies the ones
# the README shows to docs/console.
SCREENSHOT_DIR = REPO / "build" / "web-screenshots"
BLOCKING_IMPACTS = {"serious", "critical"}


def sign_in(page: Page, key: str, path: str = "/") -> None:
    """Open `path` signed out, land on the sign-in form, sign in, and end up at `path`."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    result: dict[str, Any] = page.evaluate("() => window.axe.run(document, { resultTypes: ['violations'] })")
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
