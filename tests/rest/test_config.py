"""The Envoy config: the committed default is the generator's output, its services come from the
descriptor set, and `catapult envoy-config` writes configs Envoy accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from catapult_server import envoy
from catapult_server.interceptors import METHODS, WRITE_METHODS
from catapult_server.server import SERVICE_NAMES
from tests.support.paths import CATAPULT
from tests.support.rest import envoy_validate


def http_connection_manager(config: dict[str, Any]) -> dict[str, Any]:
    listener = config["static_resources"]["listeners"][0]
    found: dict[str, Any] = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return found


def http_filter(config: dict[str, Any], name: str) -> dict[str, Any]:
    for item in http_connection_manager(config)["http_filters"]:
        if item["name"] == name:
            found: dict[str, Any] = item["typed_config"]
            return found
    raise AssertionError(f"no {name} filter")


def test_the_committed_envoy_yaml_is_the_generators_output() -> None:
    committed = envoy.DEFAULT_CONFIG_PATH.read_text()
    expected = envoy.render(envoy.EnvoyConfig(), envoy.REPO_ENVOY_DIR / envoy.DESCRIPTOR_FILE)
    assert committed == expected, (
        "envoy/envoy.yaml is out of date: run `make generate` "
        "(or `.venv/bin/catapult envoy-config --output envoy/envoy.yaml`) and commit it"
    )
    result = envoy_validate("-c", str(envoy.DEFAULT_CONFIG_PATH))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_transcoded_services_are_read_from_the_descriptor() -> None:
    config = envoy.build(envoy.EnvoyConfig(), envoy.REPO_ENVOY_DIR / envoy.DESCRIPTOR_FILE)
    transcoder = http_filter(config, envoy.TRANSCODER)
    assert transcoder["services"] == sorted(SERVICE_NAMES)
    assert transcoder["print_options"]["preserve_proto_field_names"] is True
    assert transcoder["convert_grpc_status"] is True
    assert all(transcoder["request_validation_options"].values())
    # gRPC-Web becomes gRPC first; the compressor sees responses last, after the Lua filter has
    # rewritten Envoy's errors; the Lua filter (strips /api) and the body cap come before the
    # transcoder; the router last.
    names = [f["name"] for f in http_connection_manager(config)["http_filters"]]
    assert names == [
        envoy.GRPC_WEB,
        envoy.COMPRESSOR,
        envoy.LUA,
        envoy.BUFFER,
        envoy.TRANSCODER,
        envoy.ROUTER,
    ]
    # The upstream speaks HTTP/2 and is health-checked with grpc.health.v1.
    cluster = config["static_resources"]["clusters"][0]
    options = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert "http2_protocol_options" in options["explicit_http_config"]
    assert "grpc_health_check" in cluster["health_checks"][0]
    # Never strip grpc-status (errors would turn into empty 200s).
    assert "grpc-status" not in yaml.safe_dump(http_connection_manager(config)["route_config"])


def api_route_for(routes: list[dict[str, Any]], path: str, headers: dict[str, str]) -> dict[str, Any]:
    """The first route whose path and header matchers take a gRPC call of `path` (the matchers
    this config uses: path, prefix, a header present with a non-empty value)."""
    for route in routes:
        match = route["match"]
        if match.get("path", path) != path or not path.startswith(match.get("prefix", "")):
            continue
        if all(headers.get(h["name"]) for h in match.get("headers", [])):
            return route
    raise AssertionError(f"no route for {path}")


def test_retries_follow_each_methods_idempotency_level_in_the_protos() -> None:
    """Read from the generated code's descriptors, which the config generator does not read: reads
    (NO_SIDE_EFFECTS or IDEMPOTENT) may be retried whenever they fail, creates only with an
    idempotency-key, other writes only when they never reached a server; watch streams never time
    out."""
    config = envoy.build(envoy.EnvoyConfig(), envoy.REPO_ENVOY_DIR / envoy.DESCRIPTOR_FILE)
    routes = http_connection_manager(config)["route_config"]["virtual_hosts"][0]["routes"]
    may_have_run = {"unavailable", "reset"}
    never_ran = {"connect-failure", "refused-stream", "retriable-headers"}
    for path, method in METHODS.items():
        route = api_route_for(routes, path, {})["route"]
        policy = route["retry_policy"]
        conditions = set(policy["retry_on"].split(","))
        assert policy["retriable_headers"] == [
            {"name": "catapult-unprocessed", "string_match": {"exact": "true"}}
        ]
        assert policy["num_retries"] == 2 and policy["retry_host_predicate"], path
        if path not in WRITE_METHODS:
            assert conditions == may_have_run | never_ran, path
        else:
            assert conditions == never_ran, path
            with_key = api_route_for(routes, path, {"idempotency-key": "k-1"})["route"]["retry_policy"]
            creates = "request_id" in method.input_type.fields_by_name
            assert set(with_key["retry_on"].split(",")) == (may_have_run if creates else set()) | never_ran, (
                path
            )
            assert api_route_for(routes, path, {"idempotency-key": ""})["route"]["retry_policy"] == policy
        if method.server_streaming:
            assert route["timeout"] == "0s" and "per_try_timeout" not in policy, path
        elif conditions & may_have_run:
            assert route["timeout"] == "60s" and policy["per_try_timeout"] == "15s", path
    cluster = config["static_resources"]["clusters"][0]
    assert cluster["outlier_detection"]["max_ejection_percent"] == 50
    (thresholds,) = cluster["circuit_breakers"]["thresholds"]
    assert thresholds["retry_budget"]["budget_percent"]["value"] == 20.0


def test_envoy_config_command_writes_a_config_for_another_deployment(tmp_path: Path) -> None:
    output = tmp_path / "deploy" / "envoy.yaml"
    site = tmp_path / "site"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text("<!doctype html>")
    (site / "assets" / "app-1a2b3c.js").write_text("export {};")
    result = subprocess.run(
        [
            CATAPULT,
            "envoy-config",
            "--output",
            str(output),
            "--http-port",
            "9090",
            "--upstream",
            "catapult-1.internal:50051",
            "--upstream",
            "10.0.0.7:50051",
            "--no-admin",
            "--descriptor",
            str(envoy.REPO_ENVOY_DIR / envoy.DESCRIPTOR_FILE),
            "--openapi",
            str(envoy.REPO_ENVOY_DIR / envoy.OPENAPI_FILE),
            "--max-request-bytes",
            "65536",
            "--static-dir",
            str(site),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(output.read_text())
    assert "admin" not in config
    assert config["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] == 9090
    cluster = config["static_resources"]["clusters"][0]
    assert cluster["type"] == "STRICT_DNS"  # a host name among the upstreams
    endpoints = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert [e["endpoint"]["address"]["socket_address"] for e in endpoints] == [
        {"address": "catapult-1.internal", "port_value": 50051},
        {"address": "10.0.0.7", "port_value": 50051},
    ]
    assert http_filter(config, envoy.BUFFER)["max_request_bytes"] == 65536
    served = [
        (route["match"].get("path"), route["direct_response"]["body"]["filename"])
        for route in http_connection_manager(config)["route_config"]["virtual_hosts"][0]["routes"]
        if "direct_response" in route and str(site) in route["direct_response"]["body"]["filename"]
    ]
    assert ("/assets/app-1a2b3c.js", str(site / "assets" / "app-1a2b3c.js")) in served
    assert (None, str(site / "index.html")) in served  # the fallback for every other GET
    assert "--upstream catapult-1.internal:50051" in output.read_text()  # the header says how it was made
    checked = envoy_validate("-c", str(output))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_envoy_config_command_rejects_bad_settings() -> None:
    for flags in (["--upstream", "no-port"], ["--http-port", "70000"], ["--static-dir", "/no/such/dir"]):
        result = subprocess.run(
            [CATAPULT, "envoy-config", *flags], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("catapult: "), result.stderr
