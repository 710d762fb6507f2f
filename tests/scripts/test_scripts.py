"""The grpcurl scripts in scripts/ as a CI job runs them: real bash, the real grpcurl (server
reflection), a real server. stdout must be JSON, errors one line on stderr with the server's
message and the documented exit code.

The scripts run in a worker thread: the server under test serves on this event loop, which a
blocking subprocess call would stall."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from catapult.v1 import audit_log_service_pb2, deployment_service_pb2, release_pb2, release_service_pb2
from catapult_server.server import CatapultServer
from tests.support.api import (
    Stubs,
    auth,
    create_artifact,
    create_deployment,
    create_model,
    create_release,
    unique,
)
from tests.support.paths import REPO
from tests.support.rest import envoy_in_front
from tests.support.watch import started, watching

SCRIPTS = REPO / "scripts"
ALL_SCRIPTS = [
    "register-release.sh",
    "record-deployment.sh",
    "terminate-deployment.sh",
    "latest-release.sh",
    "live-endpoints.sh",
    "endpoint-history.sh",
    "rollout.sh",
    "watch-deployments.sh",
]

# Exit codes, the same as catapult-deploy's (scripts/catapult-common.sh documents them).
EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_REJECTED, EXIT_AUTH, EXIT_UNAVAILABLE = 2, 3, 4, 5, 6, 7


@dataclass(frozen=True)
class Target:
    """Where the scripts send their calls: the server directly, or Envoy's port in front of it."""

    addr: str
    api_key: str


@pytest.fixture(params=["direct", "through-envoy"])
async def target(
    request: pytest.FixtureRequest, server: CatapultServer, writer_key: str, tmp_path: Path
) -> AsyncIterator[Target]:
    """Each script test runs against the server directly and through Envoy's port."""
    if request.param == "direct":
        yield Target(f"127.0.0.1:{server.port}", writer_key)
        return
    async with envoy_in_front(server.port, tmp_path / "envoy") as proxy:
        yield Target(f"127.0.0.1:{proxy.port}", writer_key)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self.stderr
        return json.loads(self.stdout)

    def error_line(self) -> str:
        assert self.code != 0, self.stdout
        assert self.stdout == "", "a failure must not print a result"
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"an error should be one line on stderr: {self.stderr!r}"
        return lines[0]


async def run(script: str, *args: str, target: Target | None = None, **env: str | None) -> Run:
    """Run a script with CATAPULT_ADDR and CATAPULT_API_KEY set for target; keyword arguments
    set (or, with None, unset) further variables."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CATAPULT_")}
    if target is not None:
        environ.update(CATAPULT_ADDR=target.addr, CATAPULT_API_KEY=target.api_key)
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    done = await asyncio.to_thread(
        subprocess.run,
        [str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


async def new_release(stubs: Stubs, key: str, **fields: Any) -> tuple[str, release_pb2.Release]:
    """A fresh model (its name) with one release."""
    model = await create_model(stubs, key, company="CompanyA")
    return model.name, await create_release(stubs, key, model.id, **fields)


async def test_register_release_prints_the_release_and_is_retry_safe(
    stubs: Stubs, target: Target, admin_key: str
) -> None:
    model = await create_model(stubs, admin_key)
    args = ["--model", model.name, "--version", "1.0.0", "--quantization", "fp16", "--tag", "v1.0-fp16"]
    args += ["--digest", "sha256:abc123", "--platform", "linux/amd64", "--size-bytes", "1024"]
    args += ["--notes", 'first "release"\nwith two lines']
    release = (await run("register-release.sh", *args, target=target)).json()
    assert release["image_id"] == model.id
    assert release["model_name"] == model.name
    assert (release["version"], release["quantization"], release["tag"]) == ("1.0.0", "fp16", "v1.0-fp16")
    assert release["size_bytes"] == "1024"  # int64: a JSON string
    assert release["release_notes"] == 'first "release"\nwith two lines'
    assert release["status"] == "active"

    retried = (await run("register-release.sh", *args, target=target)).json()
    assert retried["id"] == release["id"], "a retried job gets the release, not ALREADY_EXISTS"

    # Other values for the same version and quantization are another request: ALREADY_EXISTS.
    other = await run("register-release.sh", *args[:6], "--digest", "sha256:other", target=target)
    assert other.code == EXIT_CONFLICT
    assert "ALREADY_EXISTS (RESOURCE_ALREADY_EXISTS)" in other.error_line()
    assert f'release {release["id"]} has digest "sha256:abc123", not "sha256:other"' in other.error_line()


async def test_register_release_finds_a_release_recorded_elsewhere(
    stubs: Stubs, target: Target, admin_key: str
) -> None:
    """A pipeline re-run for the same image passes even when the release was recorded some
    other way (without this request_id)."""
    model, existing = await new_release(
        stubs, admin_key, version="4.0.0", quantization="int8", digest="sha256:4"
    )
    args = ["--model", model, "--version", "4.0.0", "--quantization", "int8", "--digest", "sha256:4"]
    found = (await run("register-release.sh", *args, target=target)).json()
    assert found["id"] == existing.id
    assert found["digest"] == "sha256:4"
    assert found["model_name"] == model


async def test_record_deployment_resolves_the_release_and_is_retry_safe(
    stubs: Stubs, target: Target, admin_key: str
) -> None:
    model, plain = await new_release(stubs, admin_key, version="2.0.0")
    fp16 = await create_release(stubs, admin_key, plain.image_id, version="2.0.0", quantization="fp16")
    url = f"https://{unique('api')}.example.test/v1"
    args = ["--model", model, "--version", "2.0.0", "--environment", "production", "--endpoint", url]
    args += ["--cluster", "k8s-prod-us-west-2", "--namespace", "ml-prod", "--replicas", "3"]

    deployment = (await run("record-deployment.sh", *args, target=target)).json()
    assert deployment["release_id"] == plain.id, "no --quantization is the release without one"
    assert deployment["model_name"] == model
    assert deployment["company"] == "CompanyA"
    assert deployment["endpoint_url"] == url
    assert (deployment["status"], deployment["replicas"]) == ("success", 3)
    assert deployment["deployed_by"] == "test-writer"

    retried = (await run("record-deployment.sh", *args, target=target)).json()
    assert retried["id"] == deployment["id"]
    listed = await stubs.deployments.ListDeployments(
        deployment_service_pb2.ListDeploymentsRequest(release_id=plain.id), metadata=auth(admin_key)
    )
    assert [d.id for d in listed.deployments] == [deployment["id"]], "a retry recorded a second deployment"

    quantized = await run("record-deployment.sh", *args, "--quantization", "fp16", target=target)
    assert quantized.json()["release_id"] == fp16.id
    next_run = await run("record-deployment.sh", *args, "--run-id", "pipeline-43", target=target)
    assert next_run.json()["id"] != deployment["id"], "another run id records another deployment"
    by_id = await run(
        "record-deployment.sh",
        "--release-id",
        plain.id,
        "--environment",
        "staging",
        "--endpoint",
        url,
        target=target,
    )
    assert by_id.json()["release_id"] == plain.id


def placed(release_id: str, environment: str, endpoint: str, *options: str) -> list[str]:
    """record-deployment.sh's options for a deployment of release_id at endpoint."""
    return ["--release-id", release_id, "--environment", environment, "--endpoint", endpoint, *options]


async def test_record_deployment_says_what_it_superseded(
    stubs: Stubs, target: Target, admin_key: str
) -> None:
    model, v1 = await new_release(stubs, admin_key, version="1.0.0")
    v11 = await create_release(stubs, admin_key, v1.image_id, version="1.1.0", quantization="fp16")
    url = f"https://{unique('api')}.example.test/v1"

    first = await run("record-deployment.sh", *placed(v1.id, "production", url), target=target)
    first_id = first.json()["id"]
    assert first.stderr == (
        f"record-deployment.sh: recorded deployment {first_id}: {model} 1.0.0 in production at {url}"
        " (success); nothing was live there\n"
    )
    assert first.json()["superseded"] is None

    second = await run("record-deployment.sh", *placed(v11.id, "production", url), target=target)
    second_id = second.json()["id"]
    assert second.stderr.endswith(f"(success); superseded {first_id} (1.0.0)\n"), second.stderr
    superseded = second.json()["superseded"]
    assert (superseded["id"], superseded["status"]) == (first_id, "terminated")
    assert superseded["superseded_by_id"] == second_id
    assert second.json()["replaces_id"] == first_id

    rollback = await run(
        "record-deployment.sh", *placed(v1.id, "production", url, "--run-id", "back"), target=target
    )
    assert rollback.stderr.endswith(f"; superseded {second_id} (1.1.0 fp16)\n"), rollback.stderr
    retried = await run(
        "record-deployment.sh", *placed(v1.id, "production", url, "--run-id", "back"), target=target
    )
    assert (retried.stdout, retried.stderr) == (rollback.stdout, rollback.stderr), "a retry says the same"

    deploying = await run(
        "record-deployment.sh", *placed(v11.id, "production", url, "--status", "deploying"), target=target
    )
    assert deploying.stderr.endswith("(deploying); not live while deploying, so it superseded nothing\n")
    assert deploying.json()["superseded"] is None


async def test_a_deployment_recorded_without_a_status_is_live(
    stubs: Stubs, target: Target, admin_key: str
) -> None:
    """The scripts leave the status to the server, whose default makes the deployment live."""
    _, release = await new_release(stubs, admin_key, version="1.0.0")
    url = f"https://{unique('default')}.example.test/v1"
    recorded = (await run("record-deployment.sh", *placed(release.id, "staging", url), target=target)).json()
    assert recorded["status"] == "success"
    assert recorded["live_since"]
    live = await run("live-endpoints.sh", "--environment", "staging", "--endpoint", url, target=target)
    assert [d["id"] for d in live.json()["deployments"]] == [recorded["id"]]


async def test_endpoint_history_and_what_was_live_at_a_moment(
    stubs: Stubs, target: Target, admin_key: str
) -> None:
    model, v1 = await new_release(stubs, admin_key, version="1.0.0", digest=f"sha256:{unique('img')}")
    v2 = await create_release(stubs, admin_key, v1.image_id, version="1.1.0")
    checksum = f"sha256:{unique('whl')}"
    await create_artifact(stubs, admin_key, v2.id, checksum=checksum)
    url = f"https://{unique('prod')}.example.test/v1"
    chain = [
        (
            await run(
                "record-deployment.sh",
                *placed(release.id, "production", url, "--run-id", run_id),
                target=target,
            )
        ).json()["id"]
        for release, run_id in ((v1, "1"), (v2, "2"), (v1, "3"))
    ]

    history_run = await run(
        "endpoint-history.sh",
        "--environment",
        "production",
        "--endpoint",
        url,
        "--page-size",
        "2",
        target=target,
    )
    history = history_run.json()["deployments"]
    assert [d["id"] for d in history] == chain[::-1], "newest first, every page"
    assert [d["release_version"] for d in history] == ["1.0.0", "1.1.0", "1.0.0"]
    assert [(d["replaces_id"], d["superseded_by_id"]) for d in history] == [
        (chain[1], ""),
        (chain[0], chain[2]),
        ("", chain[1]),
    ]
    elsewhere = await run("endpoint-history.sh", "--environment", "staging", "--endpoint", url, target=target)
    assert elsewhere.json() == {"deployments": []}

    async def live_at(moment: str, *filters: str) -> list[str]:
        found = await run("live-endpoints.sh", "--at", moment, *filters, "--page-size", "1", target=target)
        return [d["id"] for d in found.json()["deployments"]]

    first, second = history[2], history[1]
    at_url = ("--environment", "production", "--endpoint", url)
    assert await live_at(first["live_since"], *at_url) == [chain[0]], "live from live_since on"
    assert first["terminated_at"] == second["live_since"]
    assert await live_at(first["terminated_at"], *at_url) == [chain[1]], "at the switch, the successor"

    # Reverse lookups: the image of 1.0.0 and the file of 1.1.0, now and when each served.
    assert await live_at(second["live_since"], "--digest", v1.digest) == []
    now = (await run("live-endpoints.sh", "--digest", v1.digest, target=target)).json()["deployments"]
    assert [d["id"] for d in now] == [chain[2]]
    assert await live_at(second["live_since"], "--artifact-checksum", checksum) == [chain[1]]
    gone = await run("live-endpoints.sh", "--artifact-checksum", checksum, target=target)
    assert gone.json() == {"deployments": []}, "1.1.0 serves nowhere since the rollback"

    await stubs.releases.UpdateRelease(
        release_service_pb2.UpdateReleaseRequest(release=release_pb2.Release(id=v1.id, status="deprecated")),
        metadata=auth(admin_key),
    )
    deprecated = await run(
        "live-endpoints.sh", "--model", model, "--release-status", "deprecated", target=target
    )
    assert [d["id"] for d in deprecated.json()["deployments"]] == [chain[2]]

    not_a_time = await run("live-endpoints.sh", "--at", "last tuesday", target=target)
    assert not_a_time.code == EXIT_USAGE
    assert "--at last tuesday: want an RFC 3339 time" in not_a_time.error_line()


async def test_rollout_shows_where_a_model_is_live(stubs: Stubs, target: Target, admin_key: str) -> None:
    model, release = await new_release(stubs, admin_key, version="2.0.0", digest="sha256:two")
    expected: dict[str, list[str]] = {}
    for environment in ("staging", "production"):
        for n in (1, 2):
            url = f"https://{environment}-{n}-{unique('r')}.example.test/v1"
            await run("record-deployment.sh", *placed(release.id, environment, url), target=target)
            expected.setdefault(environment, []).insert(0, url)  # newest first

    by_name = (await run("rollout.sh", "--model", model, target=target)).json()
    by_id = (await run("rollout.sh", "--model", release.image_id, target=target)).json()
    assert by_name == by_id
    assert (by_name["model_id"], by_name["model_name"], by_name["company"]) == (
        release.image_id,
        model,
        "CompanyA",
    )
    assert {
        e["environment"]: [d["endpoint_url"] for d in e["live"]] for e in by_name["environments"]
    } == expected
    assert [e["environment"] for e in by_name["environments"]] == ["production", "staging"], "by name"
    assert {
        (d["release_version"], d["release_digest"]) for e in by_name["environments"] for d in e["live"]
    } == {("2.0.0", "sha256:two")}

    unknown = await run("rollout.sh", "--model", unique("no-such-model"), target=target)
    assert unknown.code == EXIT_NOT_FOUND
    assert "NOT_FOUND (RESOURCE_NOT_FOUND)" in unknown.error_line()


async def test_terminate_deployment_and_redeploy(stubs: Stubs, target: Target, admin_key: str) -> None:
    model, _ = await new_release(stubs, admin_key, version="1.0.0")
    args = ["--model", model, "--version", "1.0.0", "--environment", "staging"]
    args += ["--endpoint", f"https://{unique('stg')}.example.test"]
    deployment = (await run("record-deployment.sh", *args, target=target)).json()

    terminated = (await run("terminate-deployment.sh", "--id", deployment["id"], target=target)).json()
    assert terminated["id"] == deployment["id"]
    assert terminated["status"] == "terminated"
    assert terminated["terminated_at"]
    again = (await run("terminate-deployment.sh", "--id", deployment["id"], target=target)).json()
    assert again["terminated_at"] == terminated["terminated_at"], "terminating again changes nothing"

    # The same command later is a new deployment, not a retry: the script says how to record it.
    redeploy = await run("record-deployment.sh", *args, target=target)
    assert redeploy.code == EXIT_CONFLICT
    assert deployment["id"] in redeploy.error_line()
    assert "--run-id" in redeploy.error_line()
    fresh = (await run("record-deployment.sh", *args, target=target, CATAPULT_RUN_ID="run-2")).json()
    assert fresh["status"] == "success"
    assert fresh["id"] != deployment["id"]


async def test_latest_release(stubs: Stubs, target: Target, admin_key: str) -> None:
    model, first = await new_release(stubs, admin_key, version="1.0.0", quantization="fp16")
    await create_release(stubs, admin_key, first.image_id, version="1.1.0", quantization="int8")

    assert (await run("latest-release.sh", "--model", model, target=target)).json()["version"] == "1.1.0"
    fp16 = (await run("latest-release.sh", "--model", model, "--quantization", "fp16", target=target)).json()
    assert (fp16["id"], fp16["version"]) == (first.id, "1.0.0")

    not_live = await run("latest-release.sh", "--model", model, "--environment", "production", target=target)
    assert not_live.code == EXIT_NOT_FOUND
    assert "NOT_FOUND (RESOURCE_NOT_FOUND)" in not_live.error_line()
    await run(
        "record-deployment.sh",
        "--release-id",
        first.id,
        "--environment",
        "production",
        "--endpoint",
        "https://prod.example.test",
        target=target,
    )
    live = await run("latest-release.sh", "--model", model, "--environment", "production", target=target)
    assert live.json()["id"] == first.id


async def test_live_endpoints_reads_every_page(stubs: Stubs, target: Target, admin_key: str) -> None:
    model, release = await new_release(stubs, admin_key, version="3.0.0")
    urls = [f"https://{unique('dev')}.example.test/v{i}" for i in range(5)]
    for url in urls:
        await run(
            "record-deployment.sh",
            "--release-id",
            release.id,
            "--environment",
            "development",
            "--endpoint",
            url,
            target=target,
        )
    gone = (
        await run(
            "record-deployment.sh",
            "--release-id",
            release.id,
            "--environment",
            "development",
            "--endpoint",
            "https://gone.example.test",
            target=target,
        )
    ).json()
    await run("terminate-deployment.sh", "--id", gone["id"], target=target)
    await run(
        "record-deployment.sh",
        "--release-id",
        release.id,
        "--environment",
        "development",
        "--endpoint",
        "https://failed.example.test",
        "--status",
        "failed",
        target=target,
    )

    live = (
        await run("live-endpoints.sh", "--environment", "development", "--page-size", "2", target=target)
    ).json()
    assert sorted(d["endpoint_url"] for d in live["deployments"]) == sorted(urls)
    assert {d["model_name"] for d in live["deployments"]} == {model}
    assert {d["release_version"] for d in live["deployments"]} == {"3.0.0"}

    everywhere = (await run("live-endpoints.sh", "--model", model, target=target)).json()
    assert len(everywhere["deployments"]) == 5
    nothing = (await run("live-endpoints.sh", "--environment", "production", target=target)).json()
    assert nothing == {"deployments": []}


@pytest.mark.parametrize("script", ALL_SCRIPTS)
async def test_usage(script: str) -> None:
    helped = await run(script, "-h")
    assert helped.code == 0, helped.stderr
    assert helped.stdout.startswith(f"Usage: {script} ")
    for documented in ("CATAPULT_ADDR", "CATAPULT_API_KEY", "CATAPULT_PLAINTEXT", "Exit codes", "Example"):
        assert documented in helped.stdout

    unknown = await run(script, "--no-such-option", CATAPULT_API_KEY="k")
    assert unknown.code == EXIT_USAGE
    assert "unknown option --no-such-option" in unknown.error_line()


@pytest.mark.parametrize(
    ("script", "missing"),
    [
        ("register-release.sh", "missing --model --version"),
        ("record-deployment.sh", "missing --model --version"),
        ("terminate-deployment.sh", "missing --id"),
        ("latest-release.sh", "missing --model"),
        ("endpoint-history.sh", "missing --environment --endpoint"),
        ("rollout.sh", "missing --model"),
    ],
)
async def test_missing_options_are_usage_errors(script: str, missing: str) -> None:
    result = await run(script, CATAPULT_API_KEY="k")
    assert result.code == EXIT_USAGE
    assert missing in result.error_line()


async def test_errors_carry_the_server_message(
    stubs: Stubs, target: Target, admin_key: str, reader_key: str
) -> None:
    name = unique("no-such-model")
    unknown = await run("register-release.sh", "--model", name, "--version", "1.0.0", target=target)
    assert unknown.code == EXIT_NOT_FOUND
    assert (
        unknown.error_line()
        == f"register-release.sh: NOT_FOUND (RESOURCE_NOT_FOUND): Model '{name}' not found"
    )

    deploy_unknown = await run(
        "record-deployment.sh",
        "--model",
        name,
        "--version",
        "1.0.0",
        "--environment",
        "staging",
        "--endpoint",
        "https://x.test",
        target=target,
    )
    assert deploy_unknown.code == EXIT_NOT_FOUND
    assert f"Model '{name}' not found" in deploy_unknown.error_line()

    model, release = await new_release(stubs, admin_key, version="1.0.0")
    no_such_quantization = await run(
        "record-deployment.sh",
        "--model",
        model,
        "--version",
        "1.0.0",
        "--quantization",
        "int4",
        "--environment",
        "staging",
        "--endpoint",
        "https://x.test",
        target=target,
    )
    assert no_such_quantization.code == EXIT_NOT_FOUND
    assert (
        "has no release 1.0.0 with quantization int4 (it has no quantization)"
        in no_such_quantization.error_line()
    )

    bad_environment = await run(
        "record-deployment.sh",
        "--release-id",
        release.id,
        "--environment",
        "the moon",
        "--endpoint",
        "https://x.test",
        target=target,
    )
    assert bad_environment.code == EXIT_REJECTED
    assert "INVALID_ARGUMENT (INVALID_FIELD): deployment.environment" in bad_environment.error_line()

    await stubs.releases.UpdateRelease(
        release_service_pb2.UpdateReleaseRequest(
            release=release_pb2.Release(id=release.id, status="deprecated")
        ),
        metadata=auth(admin_key),
    )
    deprecated_args = [
        "--release-id",
        release.id,
        "--environment",
        "staging",
        "--endpoint",
        "https://old.test",
    ]
    deprecated = await run("record-deployment.sh", *deprecated_args, target=target)
    assert deprecated.code == EXIT_REJECTED
    assert "FAILED_PRECONDITION (RELEASE_DEPRECATED)" in deprecated.error_line()
    assert (await run("record-deployment.sh", *deprecated_args, "--force", target=target)).json()["id"]

    bad_key = await run("latest-release.sh", "--model", model, target=Target(target.addr, "ctp_not_a_key"))
    assert bad_key.code == EXIT_AUTH
    assert "UNAUTHENTICATED (API_KEY_INVALID)" in bad_key.error_line()

    reader = await run(
        "register-release.sh", "--model", model, "--version", "9", target=Target(target.addr, reader_key)
    )
    assert reader.code == EXIT_AUTH
    assert "PERMISSION_DENIED (ROLE_NOT_ALLOWED)" in reader.error_line()

    no_key = await run("latest-release.sh", "--model", model, target=target, CATAPULT_API_KEY=None)
    assert no_key.code == EXIT_USAGE
    assert "CATAPULT_API_KEY is not set" in no_key.error_line()

    unreachable = await run(
        "latest-release.sh", "--model", model, target=Target("127.0.0.1:1", "k"), CATAPULT_CONNECT_TIMEOUT="1"
    )
    assert unreachable.code == EXIT_UNAVAILABLE
    assert "cannot reach Catapult at 127.0.0.1:1" in unreachable.error_line()


async def test_derived_request_id_is_the_go_commands(stubs: Stubs, target: Target, admin_key: str) -> None:
    """record-deployment.sh and `catapult-deploy deploy` derive the same request_id from the same
    inputs (clients/go/cmd/catapult-deploy asserts the same constant), so a job may retry a step
    with either and still record one deployment."""
    model = await create_model(stubs, admin_key, name="parity-model")
    await create_release(stubs, admin_key, model.id, version="1.0.0", quantization="fp16")
    deployment = (
        await run(
            "record-deployment.sh",
            "--model",
            "parity-model",
            "--version",
            "1.0.0",
            "--quantization",
            "fp16",
            "--environment",
            "staging",
            "--endpoint",
            "https://parity.example.test/v1",
            target=target,
        )
    ).json()
    audit = await stubs.audit_logs.ListAuditLogs(
        audit_log_service_pb2.ListAuditLogsRequest(
            resource_type="deployment", resource_id=deployment["id"], action="create"
        ),
        metadata=auth(admin_key),
    )
    # No --status: its part of the id is empty (the server's default applies).
    assert [row.request_id for row in audit.audit_logs] == ["0e70c948-b3cf-8823-8e22-0ac8f73ee571"]


class CuttingProxy:
    """A TCP proxy whose connections the test can cut, as a failing network would."""

    def __init__(self, upstream: str) -> None:
        self.upstream_host, port = upstream.rsplit(":", 1)
        self.upstream_port = int(port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def cut(self) -> None:
        """Drop every connection through the proxy; new ones are relayed as before."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        for task in (
            asyncio.create_task(pipe(reader, up_writer)),
            asyncio.create_task(pipe(up_reader, writer)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


class Watcher:
    """watch-deployments.sh running in the background, in a session of its own (so what it leaves
    behind would be found), its stdout read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, *args: str, target: Target) -> Watcher:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CATAPULT_")}
        environ.update(CATAPULT_ADDR=target.addr, CATAPULT_API_KEY=target.api_key)
        process = await asyncio.create_subprocess_exec(
            str(SCRIPTS / "watch-deployments.sh"),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environ,
            start_new_session=True,
        )
        return cls(process)

    async def lines(self, n: int, within: float = 20) -> list[str]:
        assert self.process.stdout is not None
        async with asyncio.timeout(within):
            return [(await self.process.stdout.readline()).decode().rstrip("\n") for _ in range(n)]

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
        """Signal the script; its exit code and stderr. Nothing of it may be left running."""
        self.process.send_signal(sig)
        async with asyncio.timeout(10):
            _, stderr = await self.process.communicate()
        with pytest.raises(ProcessLookupError):
            os.killpg(self.process.pid, 0)  # no grpcurl, awk or subshell left in its group
        assert self.process.returncode is not None
        return self.process.returncode, stderr.decode()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


async def first_cursor(stubs: Stubs, key: str, model: str, deploy: Callable[[], Awaitable[None]]) -> str:
    """Run deploy() while watching the model's deployments; the cursor of the change it made."""
    call = stubs.deployments.WatchDeployments(
        deployment_service_pb2.WatchDeploymentsRequest(model_name=model), metadata=auth(key)
    )
    async with watching(call) as watch:
        await started(watch)
        await deploy()
        return str((await watch.count(1))[0].cursor)


async def test_watch_deployments_prints_a_line_per_change_and_resumes(
    stubs: Stubs, target: Target, admin_key: str
) -> None:
    model, release = await new_release(stubs, admin_key, version="1.0.0", digest="sha256:w1")
    url = f"https://{unique('watch')}.example.test/v1"

    async def deploy(at: str = url, environment: str = "production") -> str:
        made = await create_deployment(
            stubs, admin_key, release.id, environment=environment, endpoint_url=at, cluster="k8s-w"
        )
        return made.id

    first: list[str] = []

    async def deploy_first() -> None:
        first.append(await deploy())

    cursor = await first_cursor(stubs, admin_key, model, deploy_first)

    async with CuttingProxy(target.addr) as proxy:
        watcher = await Watcher.start(
            "--model",
            model,
            "--cursor",
            cursor,
            "--text",
            target=Target(f"127.0.0.1:{proxy.port}", target.api_key),
        )
        try:
            second = await deploy()  # supersedes the first: two changes
            third = await deploy(f"https://{unique('other')}.example.test/v1", "staging")
            rows = [line.split("\t") for line in await watcher.lines(3)]
            # time, type, id, status, environment, cluster, endpoint, model, version, quantization,
            # digest, cursor
            assert [row[1:11] for row in rows] == [
                [
                    "superseded",
                    first[0],
                    "terminated",
                    "production",
                    "k8s-w",
                    url,
                    model,
                    "1.0.0",
                    "-",
                    "sha256:w1",
                ],
                ["created", second, "success", "production", "k8s-w", url, model, "1.0.0", "-", "sha256:w1"],
                [
                    "created",
                    third,
                    "success",
                    "staging",
                    "k8s-w",
                    rows[2][6],
                    model,
                    "1.0.0",
                    "-",
                    "sha256:w1",
                ],
            ]
            assert all(row[0].endswith("Z") and row[11] for row in rows)

            # Cut off, it resumes after the last line's cursor: nothing lost, nothing twice.
            proxy.cut()
            fourth = await deploy()  # supersedes the second
            resumed = await watcher.lines(2)
            assert [line.split("\t")[1:3] for line in resumed] == [
                ["superseded", second],
                ["created", fourth],
            ]
            code, stderr = await watcher.stop()
        finally:
            watcher.kill()
    assert code == 0, stderr
    assert f"resuming after cursor {rows[2][11]}" in stderr, stderr
    last = resumed[1].split("\t")[11]
    assert stderr.endswith(
        f"watch-deployments.sh: stopped after 5 change(s); --cursor {last} resumes after it\n"
    )


async def test_watch_deployments_prints_json_lines_and_stops_after_count(
    stubs: Stubs, target: Target, admin_key: str
) -> None:
    model, release = await new_release(stubs, admin_key, version="2.0.0")
    made: list[str] = []

    async def deploy() -> None:
        at = f"https://{unique('json')}.example.test/v1"
        made.append((await create_deployment(stubs, admin_key, release.id, endpoint_url=at)).id)

    cursor = await first_cursor(stubs, admin_key, model, deploy)
    await deploy()
    await deploy()
    done = await run(
        "watch-deployments.sh", "--model", model, "--cursor", cursor, "--count", "2", target=target
    )
    assert done.code == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e["type"], e["resource_id"], e["deployment"]["model_name"]) for e in events] == [
        ("created", made[1], model),
        ("created", made[2], model),
    ]
    assert int(events[0]["cursor"]) > int(cursor)
    last = events[1]["cursor"]
    assert (
        done.stderr == f"watch-deployments.sh: stopped after 2 change(s); --cursor {last} resumes after it\n"
    )

    bad = await run("watch-deployments.sh", "--status", "sleeping", target=target)
    assert bad.code == EXIT_REJECTED
    assert "INVALID_ARGUMENT (INVALID_FIELD): status" in bad.error_line()
    expired = await run("watch-deployments.sh", "--cursor", "yesterday", target=target)
    assert expired.code == EXIT_REJECTED
    assert "cursor" in expired.error_line()
    unreachable = await run(
        "watch-deployments.sh", target=Target("127.0.0.1:1", "k"), CATAPULT_CONNECT_TIMEOUT="1"
    )
    assert unreachable.code == EXIT_UNAVAILABLE
    assert "cannot reach Catapult at 127.0.0.1:1" in unreachable.error_line()
