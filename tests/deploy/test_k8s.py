"""The Kubernetes manifests (deploy/k8s), checked without a cluster against what they run: the
images the Dockerfile builds (as docker compose names them), the `catapult` command line's own
parser, the Envoy config `make generate` writes (in the real envoy binary, and in front of real
servers behind a stand-in for the headless Service's DNS), and the README's commands.

deploy/k8s/manifests_test.go decodes every object kustomize builds strictly against the
Kubernetes API types and checks the objects against each other (selectors, ports, probes,
secrets, the grace period); this module reads the manifest files as written."""

from __future__ import annotations

import asyncio
import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from catapult_server import cli, envoy
from tests.support.paths import REPO
from tests.support.rest import envoy_validate, request

from .files import load_compose, make_generate_writes, parse_dockerfile
from .loopback import Replicas, ServiceDns, deployed_envoy, served_by

K8S = REPO / "deploy" / "k8s"
KUSTOMIZATION = yaml.safe_load((K8S / "kustomization.yaml").read_text())
ENVOY_BOOTSTRAP = K8S / "envoy-bootstrap.yaml"
DOCKERFILE = parse_dockerfile()
STAGES = {"catapult-server": DOCKERFILE.stage("server"), "catapult-envoy": DOCKERFILE.stage("envoy")}
HEADLESS_SERVICE = "catapult-server"
UPSTREAM_NAME = HEADLESS_SERVICE  # the name tests/deploy/conftest.py's DNS answers for


def objects() -> list[dict[str, Any]]:
    """Every object of the kustomization's resources, as written."""
    found = []
    for resource in KUSTOMIZATION["resources"]:
        found += [doc for doc in yaml.safe_load_all((K8S / resource).read_text()) if doc]
    return found


def workload(kind: str, name: str) -> dict[str, Any]:
    for item in objects():
        if item["kind"] == kind and item["metadata"]["name"] == name:
            return item
    raise AssertionError(f"no {kind} {name} in deploy/k8s")


def pod(kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = workload(kind, name)["spec"]["template"]["spec"]
    return spec


def container(kind: str, name: str) -> dict[str, Any]:
    (only,) = pod(kind, name)["containers"]
    assert isinstance(only, dict)
    return only


WORKLOADS = (("Deployment", "catapult-server"), ("Job", "catapult-migrate"), ("Deployment", "catapult-envoy"))
SERVER, MIGRATE, ENVOY = (container(kind, name) for kind, name in WORKLOADS)


def bootstrap() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ENVOY_BOOTSTRAP.read_text())
    return loaded


def test_the_envoy_configmap_is_what_make_generate_writes_and_loads_in_envoy(tmp_path: Path) -> None:
    (generator,) = KUSTOMIZATION["configMapGenerator"]
    assert generator["files"] == [f"envoy.yaml={ENVOY_BOOTSTRAP.name}"]
    assert ENVOY_BOOTSTRAP.read_text() == make_generate_writes(ENVOY_BOOTSTRAP, tmp_path), (
        "deploy/k8s/envoy-bootstrap.yaml is out of date: run `make generate` and commit it"
    )
    result = envoy_validate("-c", str(ENVOY_BOOTSTRAP))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_images_are_the_dockerfiles_as_docker_compose_builds_and_names_them() -> None:
    compose = load_compose()["services"]
    built = {
        service["image"].split(":")[0]: service["build"]["target"]
        for service in compose.values()
        if "build" in service
    }
    assert built == {"catapult-server": "server", "catapult-envoy": "envoy"}
    assert {image["name"] for image in KUSTOMIZATION["images"]} == set(built)
    assert (SERVER["image"], MIGRATE["image"], ENVOY["image"]) == (
        "catapult-server",
        "catapult-server",
        "catapult-envoy",
    )
    for kind, name in WORKLOADS:
        spec = pod(kind, name)
        user = STAGES[spec["containers"][0]["image"]].last("USER").args.split(":")
        assert [str(spec["securityContext"]["runAsUser"]), str(spec["securityContext"]["runAsGroup"])] == user


def parse_in(item: dict[str, Any], args: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """`args` parsed by the catapult command's parser in the container's environment: the
    image's ENV, then the container's plain values (a secret's value is the parser's no concern)."""
    for name, value in STAGES[item["image"]].env().items():
        monkeypatch.setenv(name, value)
    for variable in item.get("env", []):
        monkeypatch.setenv(variable["name"], variable.get("value", "secret-from-the-secret-not-here"))
    return cli.build_parser().parse_args(args)


def test_the_commands_are_ones_the_catapult_command_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    assert STAGES["catapult-server"].last("ENTRYPOINT").exec_form() == ["catapult"]
    serve = parse_in(SERVER, SERVER["args"], monkeypatch)
    assert serve.func is cli.cmd_serve
    assert serve.grpc_port == SERVER["ports"][0]["containerPort"]
    assert parse_in(MIGRATE, MIGRATE["args"], monkeypatch).func is cli.cmd_migrate
    assert "command" not in SERVER and "command" not in MIGRATE, "the image's entrypoint is `catapult`"
    # The README's first admin key, made inside a server pod with the pod's own settings.
    (first_admin,) = re.findall(r"kubectl .*exec .*deploy/catapult-server -- (catapult .*)", readme())
    words = shlex.split(first_admin)
    created = parse_in(SERVER, words[1:], monkeypatch)
    assert created.func is cli.cmd_api_key_create and created.role == "admin"


def readme() -> str:
    return (REPO / "README.md").read_text()


def test_the_envoy_container_runs_the_configmap_as_the_image_runs_its_config() -> None:
    assert STAGES["catapult-envoy"].last("ENTRYPOINT").exec_form() == ["envoy"]
    args = ENVOY["args"]
    mount = next(m for m in ENVOY["volumeMounts"] if m["name"] == "config")
    assert args[args.index("-c") + 1] == f"{mount['mountPath']}/envoy.yaml"
    # Its relative paths resolve in the image's WORKDIR: the descriptor set, the OpenAPI document
    # and the web console the Dockerfile puts there.
    image = STAGES["catapult-envoy"]
    workdir = image.workdir()
    transcoder = yaml.safe_dump(bootstrap())
    for repo_path in (f"envoy/{envoy.DESCRIPTOR_FILE}", f"envoy/{envoy.OPENAPI_FILE}"):
        assert repo_path in transcoder
        assert image.image_path(repo_path) == workdir / repo_path, repo_path
    assert "web_root: web/dist" in transcoder
    assert "--from=web-build /src/web/dist web/dist" in [i.args for i in image.all("COPY")]
    # The container's arguments, with the real binary, in validate mode.
    local = [str(ENVOY_BOOTSTRAP) if arg == args[args.index("-c") + 1] else arg for arg in args]
    result = envoy_validate(*local)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_ports_and_probes_are_the_images_and_the_configs() -> None:
    config = bootstrap()
    listener = config["static_resources"]["listeners"][0]["address"]["socket_address"]
    admin = config["admin"]["address"]["socket_address"]
    assert [p["containerPort"] for p in ENVOY["ports"]] == [listener["port_value"]]
    assert admin["address"] == "127.0.0.1", "the admin interface can stop Envoy: the pod's loopback only"
    ready_url = f"'http://{admin['address']}:{admin['port_value']}/ready'"
    assert ready_url in ENVOY["readinessProbe"]["exec"]["command"][2]
    assert (
        f"{admin['address']}:{admin['port_value']}/drain_listeners"
        in ENVOY["lifecycle"]["preStop"]["exec"]["command"][2]
    )
    assert set(STAGES["catapult-envoy"].last("EXPOSE").args.split()) == {
        str(listener["port_value"]),
        str(admin["port_value"]),
    }
    server_port = SERVER["ports"][0]["containerPort"]
    assert str(server_port) == STAGES["catapult-server"].env()["CATAPULT_GRPC_PORT"]
    assert STAGES["catapult-server"].last("EXPOSE").args.split() == [str(server_port)]
    (cluster,) = config["static_resources"]["clusters"]
    (endpoint,) = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert cluster["type"] == "STRICT_DNS"
    assert endpoint["endpoint"]["address"]["socket_address"] == {
        "address": HEADLESS_SERVICE,
        "port_value": server_port,
    }
    service = workload("Service", HEADLESS_SERVICE)
    assert service["spec"]["clusterIP"] == "None"
    assert [p["port"] for p in service["spec"]["ports"]] == [server_port]


def test_the_installation_the_readme_describes_uses_these_names() -> None:
    text = readme()
    assert "kubectl apply -k deploy/k8s" in text
    secret = re.search(
        r"kubectl -n catapult create secret generic catapult (.*?)\nkubectl apply -k deploy/k8s", text, re.S
    )
    assert secret, "the README does not show how to create the Secret"
    keys = set(re.findall(r"--from-literal=([a-z-]+)=", secret.group(1)))
    referenced = {
        variable["valueFrom"]["secretKeyRef"]["key"]
        for item in (SERVER, MIGRATE)
        for variable in item["env"]
        if "valueFrom" in variable
    }
    assert keys == referenced == {"database-url", "key-pepper", "page-token-secret"}
    assert "kubectl -n catapult delete job catapult-migrate --ignore-not-found" in text


# --- the Kubernetes Envoy in front of real servers ----------------------------------------------------


async def test_the_k8s_envoy_balances_over_the_pods_of_the_headless_service_and_serves_the_console(
    tmp_path: Path, service_dns: ServiceDns, replicas: Replicas
) -> None:
    async with deployed_envoy(ENVOY_BOOTSTRAP, service_dns, replicas, tmp_path) as (proxy, port):
        assert await served_by(proxy, port, 20) == {"127.0.0.1": 10, "127.0.0.2": 10}
        index = (REPO / "web" / "dist" / "index.html").read_bytes()
        for path in ("/", "/models/123"):
            console = await asyncio.to_thread(request, port, "GET", path)
            assert (console.status, console.body) == (200, index), path
        asset = next(PurePosixPath(p.name) for p in (REPO / "web" / "dist" / "assets").iterdir())
        served = await asyncio.to_thread(request, port, "GET", f"/assets/{asset}")
        assert served.status == 200 and served.headers["cache-control"].endswith("immutable")
