"""Every page of the console, signed in as an admin on the seeded stack: it shows the seeded
data, axe-core finds no serious or critical accessibility violation, and its screenshot is saved
(the README's come from here: `make screenshots`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from .conftest import Keys
from .console import accessibility_violations, screenshot, sign_in
from .seed import SHARED_CHECKSUM, Seeded


@dataclass(frozen=True)
class PageCase:
    name: str
    path: Callable[[Seeded], str]
    heading: str
    shows: tuple[str, ...] = ()


LLAMA = "llama-3-7b-companyA"

PAGES = [
    PageCase(
        "dashboard",
        lambda s: "/",
        "Models",
        (LLAMA, "qwen-2-72b-companyC", "Recent changes", "live deployments", "environments live"),
    ),
    PageCase(
        "model-detail",
        lambda s: f"/models/{s.model_ids[LLAMA]}",
        LLAMA,
        (
            "https://api.companyA.prod/v1/llama",
            "The environment matrix",
            "Release timeline",
            "1.0.0 (deprecated)",
            "inference-1.2.0",
        ),
    ),
    PageCase(
        "release-detail",
        lambda s: f"/releases/{s.release_ids[LLAMA + '@1.2.0']}",
        "1.2.0",
        ("inference-1.2.0-py311.whl", "https://api.companyA.staging/v1/llama", "companyA-1-2-0"),
    ),
    PageCase(
        "deployments",
        lambda s: "/deployments",
        "Live deployments",
        ("https://api.companyC.prod/v1/qwen", "https://api.companyB.dev/v1/mistral", "k8s-prod-us-west-2"),
    ),
    PageCase(
        "deployment-detail",
        lambda s: f"/deployments/{s.deployment_ids['https://api.companyA.prod/v1/llama']}",
        "production",
        ("https://api.companyA.prod/v1/llama", "History of this endpoint", "nvidia-a100", "Live since"),
    ),
    PageCase(
        "blast-radius",
        lambda s: f"/blast-radius?q={SHARED_CHECKSUM}",
        "Blast radius",
        ("2 releases carry it", "llama-3-70b-companyA", "https://api.companyA.prod/v1/llama-70b"),
    ),
    PageCase(
        "blast-radius-by-digest",
        lambda s: "/blast-radius?q=sha256:llama-3-7b-companyA-1-2-0",
        "Blast radius",
        (
            "1 release carries it",
            "https://api.companyA.prod/v1/llama",
            "https://api.companyA.staging/v1/llama",
        ),
    ),
    PageCase("api-keys", lambda s: "/admin/keys", "API keys", ("bootstrap-admin", "Create a key")),
    PageCase("audit-log", lambda s: "/admin/audit", "Audit log", ("create model", "terminate deployment")),
    PageCase("create-model", lambda s: "/models/new", "Register a model", ("Storage path",)),
    PageCase(
        "create-release",
        lambda s: f"/releases/new?model={s.model_ids[LLAMA]}",
        "Record a release",
        (f"Of {LLAMA}", "Quantization"),
    ),
    PageCase(
        "record-deployment",
        lambda s: f"/deployments/new?release={s.release_ids[LLAMA + '@1.0.0']}",
        "Record a deployment",
        ("(deprecated)", "Deploy this deprecated release anyway"),
    ),
    PageCase("not-found", lambda s: "/no/such/page", "Page not found", ("Back to the models",)),
    PageCase(
        "missing-model",
        lambda s: "/models/00000000-0000-0000-0000-000000000000",
        "",
        ("not found",),
    ),
]


@pytest.mark.parametrize("case", PAGES, ids=[case.name for case in PAGES])
def test_page_shows_its_data_accessibly(page: Page, keys: Keys, seeded: Seeded, case: PageCase) -> None:
    sign_in(page, keys.admin, case.path(seeded))
    main = page.get_by_role("main")
    if case.heading:
        expect(page.get_by_role("heading", level=1)).to_contain_text(case.heading)
    for text in case.shows:
        expect(main.get_by_text(text).filter(visible=True).first).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
    assert accessibility_violations(page) == []
    screenshot(page, case.name)


def test_sign_in_page_is_accessible(page: Page) -> None:
    page.goto("/sign-in")
    expect(page.get_by_label("API key")).to_be_visible()
    assert accessibility_violations(page) == []
    screenshot(page, "sign-in")


def test_docs_is_an_interactive_api_reference(page: Page) -> None:
    page.goto("/docs")
    expect(page.get_by_role("link", name="/api/openapi.json")).to_be_visible()
    page.get_by_role("button", name="get /v1/models", exact=True).click()
    expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    assert accessibility_violations(page) == []
    screenshot(page, "docs")
