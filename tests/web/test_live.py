"""What is live, as the console shows it: the deployments page follows the watch stream (a
deployment recorded through the SDK appears, and the one it superseded leaves, without a reload),
"Live as of" shows what served at a past moment, and the model page's environment matrix."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Locator, Page, expect

import catapult
from tests.support.stack import Stack

from .conftest import Keys
from .console import accessibility_violations, screenshot, sign_in

# The budget: a write shows up in an open console within 2 s.
LIVE_UPDATE_BUDGET_MS = 2_000


@dataclass
class Customer:
    """A company of its own with one model and two releases, so a test's lists hold only what
    it recorded."""

    company: str
    model_id: str
    releases: dict[str, str]  # version → id

    def deploy(self, client: catapult.Client, version: str, endpoint: str) -> catapult.Deployment:
        return client.record_deployment(
            self.releases[version],
            environment="production",
            cluster="k8s-live-test",
            endpoint_url=endpoint,
            status="success",
        )


@pytest.fixture
def customer(stack: Stack) -> Iterator[Customer]:
    company = f"Live{uuid.uuid4().hex[:8]}"
    with stack.client() as client:
        model = client.create_model(
            f"watched-{company.lower()}", storage_path="s3://ml/watched/", company=company
        )
        releases = {v: client.create_release(model.id, v, quantization="fp16").id for v in ("1.0.0", "1.1.0")}
    yield Customer(company, model.id, releases)


def rows(page: Page) -> Locator:
    return page.get_by_role("table", name=re.compile("What serves where")).locator("tbody tr")


def test_a_deployment_appears_and_the_one_it_superseded_leaves_without_a_reload(
    page: Page, keys: Keys, stack: Stack, customer: Customer
) -> None:
    endpoint = f"https://{customer.company.lower()}.example.test/v1/chat"
    sign_in(page, keys.reader, f"/deployments?{urlencode({'company': customer.company})}")
    expect(page.get_by_text("Nothing live matches these filters.")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Live: changes appear as they happen")).to_be_visible()
    page.evaluate("() => { window.notReloaded = true; }")

    with stack.client() as client:
        first = customer.deploy(client, "1.0.0", endpoint)
        written = time.monotonic()
        expect(rows(page)).to_have_count(1, timeout=LIVE_UPDATE_BUDGET_MS)
        appeared_ms = (time.monotonic() - written) * 1000
        expect(rows(page).first).to_contain_text("1.0.0")
        expect(rows(page).first).to_contain_text(endpoint)

        second = customer.deploy(client, "1.1.0", endpoint)  # supersedes the first
        written = time.monotonic()
        expect(rows(page).first).to_contain_text("1.1.0", timeout=LIVE_UPDATE_BUDGET_MS)
        expect(rows(page)).to_have_count(1, timeout=LIVE_UPDATE_BUDGET_MS)
        replaced_ms = (time.monotonic() - written) * 1000
        assert second.replaces_id == first.id

    assert page.evaluate("() => window.notReloaded === true"), "the page was reloaded"
    print(f"live update: appeared in {appeared_ms:.0f} ms, superseded in {replaced_ms:.0f} ms")
    assert accessibility_violations(page) == []

    # With the history, the superseded one stays, terminated, under its successor.
    page.get_by_label("Include history (terminated, failed, superseded)").check()
    history = page.get_by_role("table", name=re.compile("Every deployment")).locator("tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(1)).to_contain_text("terminated")


def test_live_as_of_shows_what_served_at_a_past_moment(
    page: Page, keys: Keys, stack: Stack, customer: Customer
) -> None:
    endpoint = f"https://{customer.company.lower()}.example.test/v1/asof"
    with stack.client() as client:
        first = customer.deploy(client, "1.0.0", endpoint)
        time.sleep(1.0)  # the two live intervals a second apart: the moment between is unambiguous
        second = customer.deploy(client, "1.1.0", endpoint)
    first_live = first.live_since.ToDatetime(tzinfo=UTC)
    second_live = second.live_since.ToDatetime(tzinfo=UTC)
    between = first_live + (second_live - first_live) / 2

    moment = between.isoformat().replace("+00:00", "Z")
    sign_in(page, keys.reader, f"/deployments?{urlencode({'company': customer.company, 'as_of': moment})}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Live at")
    past = page.get_by_role("table", name=re.compile("What served where at that moment")).locator("tbody tr")
    expect(past).to_have_count(1)
    expect(past.first).to_contain_text("1.0.0")  # superseded since, live then
    # The control shows the moment (to the minute, in UTC); a past moment is not followed.
    expect(page.get_by_label("Live as of (UTC)")).to_have_value(between.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_role("status").filter(has_text="Live:")).to_have_count(0)
    assert accessibility_violations(page) == []
    screenshot(page, "deployments-as-of")

    # Before the first was live, nothing was; now, the second is.
    before = (first_live - timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    page.goto(f"/deployments?{urlencode({'company': customer.company, 'as_of': before})}")
    expect(page.get_by_text("Nothing matching these filters was live at that moment.")).to_be_visible()
    page.goto(f"/deployments?{urlencode({'company': customer.company})}")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("1.1.0")


def test_the_model_page_shows_its_environment_matrix(
    page: Page, keys: Keys, stack: Stack, customer: Customer
) -> None:
    with stack.client() as client:
        customer.deploy(client, "1.1.0", f"https://{customer.company.lower()}.example.test/v1/prod")
        client.record_deployment(
            customer.releases["1.0.0"], environment="staging", cluster="k8s-stage", status="success"
        )
    sign_in(page, keys.reader, f"/models/{customer.model_id}")
    matrix = page.get_by_role("table", name=re.compile("The environment matrix"))
    # Environments in the order the proto suggests them (production first).
    expect(matrix.get_by_role("columnheader")).to_have_text(["production", "staging"])
    cells = matrix.locator("tbody td")
    expect(cells.nth(0)).to_contain_text("1.1.0")
    expect(cells.nth(0)).to_contain_text(f"https://{customer.company.lower()}.example.test/v1/prod")
    expect(cells.nth(0)).to_contain_text("since")
    expect(cells.nth(1)).to_contain_text("1.0.0")
    expect(cells.nth(1)).to_contain_text("k8s-stage")
