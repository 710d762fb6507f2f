"""Every write the console offers, as a writer (or an admin for keys) would make it: first with a
mistake, which the server names and the form shows at the field, then right. Destructive actions
ask first."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.support.api import unique
from tests.support.stack import Stack

from .conftest import Keys
from .console import sign_in
from .seed import Seeded

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def field(page: Page, label: str) -> Locator:
    """A form field by its label (required ones are labelled "Name *")."""
    return page.get_by_role("main").get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


def field_error(page: Page, label: str) -> Locator:
    """The error shown at a form field: the text its aria-describedby points to."""
    control = field(page, label)
    expect(control).to_have_attribute("aria-invalid", "true")
    return page.locator(f"#{control.get_attribute('id')}-error".replace(":", "\\:"))


def submit(page: Page, name: str) -> None:
    page.get_by_role("button", name=name).click()


def test_register_a_model(page: Page, keys: Keys) -> None:
    sign_in(page, keys.writer, "/")
    page.get_by_role("link", name="Register a model").click()
    field(page, "Storage path").fill("s3://ml-models/new/")
    submit(page, "Register model")

    expect(page.get_by_role("alert")).to_contain_text("model.name")
    expect(field_error(page, "Name")).to_contain_text("required")

    name = unique("console-model")
    field(page, "Name").fill(name)
    field(page, "Tags").fill("production, console")
    field(page, "Metadata").fill('{"gpu_type": "nvidia-h100"}')
    submit(page, "Register model")

    expect(page).to_have_url(re.compile(rf"/models/{UUID}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_label("Metadata as JSON")).to_contain_text('"gpu_type": "nvidia-h100"')
    expect(page.get_by_role("list", name="Tags")).to_have_text(re.compile("production.*console"))


def test_record_a_release_of_a_model(page: Page, keys: Keys, seeded: Seeded) -> None:
    sign_in(page, keys.writer, f"/models/{seeded.model_ids['gpt-4-distill-companyB']}")
    page.get_by_role("link", name="Record a release").click()
    expect(page.get_by_role("main")).to_contain_text("Of gpt-4-distill-companyB")
    field(page, "Quantization").fill("FP 16")
    submit(page, "Record release")

    expect(field_error(page, "Version")).to_contain_text("required")
    expect(field_error(page, "Quantization")).to_contain_text("FP 16")  # the server quotes what it refused

    field(page, "Version").fill("2.0.0")
    field(page, "Quantization").fill("int8")
    field(page, "Size bytes").fill("15000000000")
    submit(page, "Record release")

    expect(page).to_have_url(re.compile(rf"/releases/{UUID}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("2.0.0 int8")
    expect(page.get_by_role("main")).to_contain_text("15.0 GB")


def test_record_a_deployment_then_terminate_it(page: Page, keys: Keys, seeded: Seeded) -> None:
    release_id = seeded.release_ids["gpt-4-distill-companyB@1.2.0"]
    endpoint = f"https://api.companyB.prod/v1/{unique('distill')}"
    sign_in(page, keys.writer, f"/releases/{release_id}")
    page.get_by_role("link", name="Record a deployment").click()
    field(page, "Environment").fill("Moon Base")
    field(page, "Replicas").fill("-1")
    submit(page, "Record deployment")

    expect(field_error(page, "Environment")).to_contain_text("Moon Base")
    expect(field_error(page, "Replicas")).to_be_visible()

    field(page, "Environment").fill("production")
    field(page, "Replicas").fill("2")
    field(page, "Endpoint url").fill(endpoint)
    submit(page, "Record deployment")

    expect(page).to_have_url(re.compile(rf"/deployments/{UUID}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("production success live")

    # Terminating asks first; Cancel changes nothing.
    page.get_by_role("button", name="Terminate").click()
    dialog = page.get_by_role("dialog", name=re.compile("Terminate gpt-4-distill-companyB 1.2.0"))
    expect(dialog).to_contain_text(endpoint)
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_contain_text("success")

    page.get_by_role("button", name="Terminate").click()
    dialog.get_by_role("button", name="Terminate").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("terminated")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("live")
    expect(page.get_by_role("button", name="Terminate")).to_have_count(0)


def test_deploying_a_deprecated_release_needs_force(page: Page, keys: Keys, seeded: Seeded) -> None:
    sign_in(page, keys.writer, f"/deployments/new?release={seeded.release_ids['llama-3-7b-companyA@1.0.0']}")
    field(page, "Environment").fill("staging")
    submit(page, "Record deployment")
    expect(page.get_by_role("alert")).to_contain_text("deprecated")
    expect(page).to_have_url(re.compile("/deployments/new"))

    field(page, "Deploy this deprecated release anyway (force)").check()
    submit(page, "Record deployment")
    expect(page).to_have_url(re.compile(rf"/deployments/{UUID}$"))


def test_deprecate_and_reactivate_a_release(page: Page, keys: Keys, seeded: Seeded) -> None:
    sign_in(page, keys.writer, f"/releases/{seeded.release_ids['qwen-2-72b-companyC@1.1.0']}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("active")

    page.get_by_role("button", name="Deprecate").click()
    dialog = page.get_by_role("dialog", name="Deprecate qwen-2-72b-companyC 1.1.0?")
    dialog.get_by_role("button", name="Deprecate").click()
    expect(heading).to_contain_text("deprecated")

    page.get_by_role("button", name="Reactivate").click()
    page.get_by_role("dialog").get_by_role("button", name="Reactivate").click()
    expect(heading).to_contain_text("active")


def test_create_an_api_key_shows_it_once(page: Page, keys: Keys, stack: Stack) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, keys.admin, "/admin/keys")
    submit(page, "Create key")
    expect(field_error(page, "Name")).to_contain_text("required")

    name = unique("ci-deployer")
    field(page, "Name").fill(name)
    field(page, "Role").select_option("writer")
    submit(page, "Create key")

    secret = page.get_by_test_id("new-key-secret")
    expect(secret).to_have_text(re.compile(r"^ctp_\w{8}_\S+$"))
    shown = secret.inner_text()
    assert shown not in page.url
    with stack.client(shown) as client:
        assert (client.caller().api_key_name, client.caller().role) == (name, "writer")
    page.get_by_role("button", name="Copy the new key").click()
    expect(page.get_by_role("button", name="Copy the new key")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == shown

    page.get_by_role("button", name="I have stored it").click()
    expect(secret).to_have_count(0)
    keys_table = page.get_by_role("table", name=re.compile("Keys, newest first"))
    expect(keys_table.get_by_role("row", name=re.compile(name))).to_contain_text("writer")
    page.reload()
    expect(keys_table).to_contain_text(name)
    assert shown not in page.content()


def test_revoke_an_api_key_after_confirming(page: Page, keys: Keys, stack: Stack) -> None:
    name = unique("to-revoke")
    with stack.client() as client:
        client.create_api_key(name, role="reader")
    sign_in(page, keys.admin, "/admin/keys")
    row = page.get_by_role("row", name=re.compile(name))
    row.get_by_role("button", name=f"Revoke {name}").click()
    page.get_by_role("dialog", name=f"Revoke {name}?").get_by_role("button", name="Revoke").click()
    expect(row).to_have_count(0)  # revoked keys are listed only on request

    field(page, "Show revoked keys").check()
    expect(page).to_have_url(re.compile(r"\?revoked=1$"))
    expect(page.get_by_role("row", name=re.compile(name))).to_contain_text("revoked")
