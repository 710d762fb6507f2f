"""Every filter is in the URL: applying it changes the URL and the list, opening that URL restores
both (the control shows the value), and the back button undoes it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import Keys
from .console import sign_in
from .seed import Seeded


@dataclass(frozen=True)
class FilterCase:
    path: str
    label: str
    kind: str  # "text", "select", "flag", "datetime"
    value: str
    query: tuple[tuple[str, str], ...]  # what the URL must carry
    shows: str  # text visible in the list once filtered
    hides: str | None  # text in the unfiltered list, gone once filtered (None: the filter adds)
    value_of: Callable[[Seeded], str] | None = None  # a value known only after seeding


CASES = [
    FilterCase(
        "/", "Search names", "text", "qwen", (("search", "qwen"),), "qwen-2-72b-companyC", "mistral-7b"
    ),
    FilterCase(
        "/", "Company", "text", "CompanyB", (("company", "CompanyB"),), "mistral-7b-companyB", "qwen-2"
    ),
    FilterCase(
        "/",
        "Tags (all of)",
        "text",
        "production, chatbot",
        (("tag", "production"), ("tag", "chatbot")),
        "qwen-2-72b-companyC",
        "llama-3-70b-companyA",
    ),
    FilterCase(
        "/", "Base model", "text", "mistral", (("base_model", "mistral"),), "mistral-7b-companyB", "qwen-2"
    ),
    FilterCase(
        "/", "Parameters", "text", "70B", (("parameter_count", "70B"),), "llama-3-70b-companyA", "mistral-7b"
    ),
    FilterCase(
        "/deployments",
        "Environment",
        "text",
        "staging",
        (("environment", "staging"),),
        "https://api.companyA.staging/v1/llama",
        "https://api.companyC.prod/v1/qwen",
    ),
    FilterCase(
        "/deployments",
        "Include history (terminated, failed, superseded)",
        "flag",
        "",
        (("history", "1"),),
        "https://api.companyB.prod/v1/mistral",
        None,
    ),
    FilterCase(
        "/deployments",
        "Company (customer)",
        "text",
        "CompanyC",
        (("company", "CompanyC"),),
        "https://api.companyC.prod/v1/qwen",
        "https://api.companyA.prod/v1/llama",
    ),
    FilterCase(
        "/deployments",
        "Cluster",
        "text",
        "k8s-prod-eu-1",
        (("cluster", "k8s-prod-eu-1"),),
        "https://api.companyA.prod/v1/llama-70b",
        "https://api.companyC.prod/v1/qwen",
    ),
    FilterCase(
        "/deployments",
        "Model name",
        "text",
        "mistral-7b-companyB",
        (("model", "mistral-7b-companyB"),),
        "https://api.companyB.dev/v1/mistral",
        "https://api.companyC.prod/v1/qwen",
    ),
    FilterCase(
        "/deployments",
        "Status",
        "select",
        "terminated",
        (("status", "terminated"),),
        "https://api.companyB.prod/v1/mistral",
        "https://api.companyC.prod/v1/qwen",
    ),
    FilterCase(
        "/deployments",
        "Live as of (UTC)",
        "datetime",
        "2000-01-01T00:00",
        (("as_of", "2000-01-01T00:00:00.000Z"),),
        "Nothing matching these filters was live at that moment.",
        "https://api.companyC.prod/v1/qwen",
    ),
    FilterCase(
        "/admin/audit",
        "Action",
        "select",
        "terminate",
        (("action", "terminate"),),
        "terminate deployment",
        "create model",
    ),
    FilterCase(
        "/admin/audit",
        "Resource type",
        "select",
        "model",
        (("resource_type", "model"),),
        "create model",
        "create deployment",
    ),
    FilterCase(
        "/admin/audit",
        "Resource id",
        "text",
        "",
        (("resource_id", "<model>"),),
        "create model",
        "create release",
        value_of=lambda seeded: seeded.model_ids["qwen-2-72b-companyC"],
    ),
    FilterCase(
        "/admin/audit",
        "API key name",
        "text",
        "bootstrap-admin",
        (("key", "bootstrap-admin"),),
        "create model",
        None,
    ),
    FilterCase(
        "/admin/audit",
        "At or after (UTC)",
        "datetime",
        "2099-01-01T00:00",
        (("after", "2099-01-01T00:00:00.000Z"),),
        "No changes match these filters.",
        "create model",
    ),
    FilterCase(
        "/admin/audit",
        "Before (UTC)",
        "datetime",
        "2000-01-01T00:00",
        (("before", "2000-01-01T00:00:00.000Z"),),
        "No changes match these filters.",
        "create model",
    ),
]


def _control(page: Page, case: FilterCase) -> Locator:
    return page.get_by_role("search").get_by_label(case.label, exact=True)


def _query(page: Page) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(page.url).query)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.path}:{c.label}" for c in CASES])
def test_filter_lives_in_the_url(page: Page, keys: Keys, seeded: Seeded, case: FilterCase) -> None:
    value = case.value_of(seeded) if case.value_of else case.value
    expected_query = [(name, value if v == "<model>" else v) for name, v in case.query]
    sign_in(page, keys.admin, case.path)
    main = page.get_by_role("main")
    shown, hidden = main.get_by_text(case.shows).filter(visible=True), None
    expect(main.get_by_role("table").or_(main.get_by_role("list", name="Models")).first).to_be_visible()
    if case.hides is not None:
        hidden = main.get_by_text(case.hides).filter(visible=True)
        expect(hidden.first).to_be_visible()

    control = _control(page, case)
    if case.kind == "select":
        control.select_option(value)
    elif case.kind == "flag":
        control.check()
    else:
        control.fill(value)
        control.press("Enter")

    expect(page).to_have_url(re.compile(re.escape(case.path) + r"\?"))
    assert _query(page) == expected_query
    expect(shown.first).to_be_visible()
    if hidden is not None:
        expect(hidden).to_have_count(0)

    # Back undoes the filter, forward redoes it.
    filtered_url = page.url
    page.go_back()
    expect(page).to_have_url(re.compile(re.escape(case.path) + "$"))
    _expect_control_empty(page, case)
    page.go_forward()
    expect(page).to_have_url(filtered_url)
    expect(shown.first).to_be_visible()

    # The URL alone restores the filter: a fresh load shows the same list and the value.
    page.goto(filtered_url)
    expect(shown.first).to_be_visible()
    if hidden is not None:
        expect(hidden).to_have_count(0)
    if case.kind == "flag":
        expect(_control(page, case)).to_be_checked()
    else:
        expect(_control(page, case)).to_have_value(value)


def _expect_control_empty(page: Page, case: FilterCase) -> None:
    if case.kind == "flag":
        expect(_control(page, case)).not_to_be_checked()
    else:
        expect(_control(page, case)).to_have_value("")
