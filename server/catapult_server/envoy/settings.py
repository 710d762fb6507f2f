"""What varies between deployments of the Envoy in front of Catapult, and where its files are."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# The repository's envoy/ directory: the descriptor set and the OpenAPI document live there
# (CATAPULT_ENVOY_DIR points elsewhere in an unusual install).
REPO_ENVOY_DIR = Path(os.environ.get("CATAPULT_ENVOY_DIR") or Path(__file__).resolve().parents[3] / "envoy")
DEFAULT_CONFIG_PATH = REPO_ENVOY_DIR / "envoy.yaml"
DESCRIPTOR_FILE = "catapult_descriptor.pb"
OPENAPI_FILE = "openapi.swagger.json"

# REST request bodies above this many bytes get 413. The server's own gRPC limit is 4 MiB and a
# resource's metadata is at most 64 KiB, so 1 MiB leaves room for any valid request.
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class EnvoyConfig:
    """What varies between deployments of the Envoy in front of Catapult."""

    listen_port: int = 8080
    listen_host: str = "0.0.0.0"
    # host:port of each gRPC server process; requests are balanced over the healthy ones.
    upstreams: tuple[str, ...] = ("127.0.0.1:50051",)
    # Envoy's admin interface (stats, /ready). 0 lets the OS pick a free port (read it from
    # --admin-address-path); None turns the admin interface off.
    admin_port: int | None = 9901
    admin_host: str = "127.0.0.1"
    # Paths Envoy reads at start-up; relative ones are relative to Envoy's working directory.
    descriptor_path: str = f"envoy/{DESCRIPTOR_FILE}"
    openapi_path: str = f"envoy/{OPENAPI_FILE}"
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    # A built web app (index.html, assets/…) served on every path outside the API. Its files are
    # listed when the config is generated and read by Envoy when it starts, so a rebuilt app
    # needs a regenerated config and an Envoy restart. None: no web app.
    static_dir: str | None = None
    # Or a built web app served from this directory as Envoy finds it when it runs (a path in its
    # container image), each file read when asked for: the config names no file, so it does not
    # change when the app is rebuilt (a Kubernetes ConfigMap stays as it is). Relative paths are
    # relative to Envoy's working directory.
    web_root: str | None = None
    # The address Envoy connects to the servers from. The servers believe the x-forwarded-for
    # Envoy sets only from the proxies they trust (CATAPULT_TRUSTED_PROXIES); on one machine a
    # loopback address of its own (127.0.0.2) tells Envoy from any other local client. None: the
    # system's choice.
    source_address: str | None = None

    def __post_init__(self) -> None:
        for name, port in (("listen_port", self.listen_port), ("admin_port", self.admin_port)):
            if port is not None and not 0 <= port <= 65535:
                raise ValueError(f"{name} must be 0..65535, got {port}")
        if not self.upstreams:
            raise ValueError("at least one upstream host:port is needed")
        for upstream in self.upstreams:
            parse_address(upstream)
        if self.max_request_bytes < 1:
            raise ValueError(f"max_request_bytes must be positive, got {self.max_request_bytes}")
        if self.static_dir is not None and not Path(self.static_dir).is_dir():
            raise ValueError(f"static_dir {self.static_dir!r} is not a directory")
        if self.static_dir is not None and self.web_root is not None:
            raise ValueError("a web app is served from a static_dir or a web_root, not both")
        if self.web_root == "":
            raise ValueError("web_root must be a directory path")


def parse_address(address: str) -> tuple[str, int]:
    """("host", port) of "host:port" or "[v6]:port"."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]"), int(port)


def local_config(
    listen_host: str,
    listen_port: int,
    upstreams: Sequence[str],
    envoy_dir: Path = REPO_ENVOY_DIR,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    static_dir: Path | None = None,
    web_root: Path | None = None,
) -> EnvoyConfig:
    """A config for an Envoy started on this machine (`catapult up`, tests): absolute paths to
    the repository's descriptor and OpenAPI document, admin on an OS-chosen loopback port."""
    return EnvoyConfig(
        listen_host=listen_host,
        listen_port=listen_port,
        upstreams=tuple(upstreams),
        admin_port=0,
        admin_host="127.0.0.1",
        descriptor_path=str(envoy_dir / DESCRIPTOR_FILE),
        openapi_path=str(envoy_dir / OPENAPI_FILE),
        max_request_bytes=max_request_bytes,
        static_dir=None if static_dir is None else str(static_dir.resolve()),
        web_root=None if web_root is None else str(web_root.resolve()),
        source_address=LOCAL_PROXY_ADDRESS if all(_is_loopback_v4(u) for u in upstreams) else None,
    )


# Envoy's own address on this machine under `catapult up` (any 127.0.0.0/8 address is loopback).
LOCAL_PROXY_ADDRESS = "127.0.0.2"


def _is_loopback_v4(upstream: str) -> bool:
    host, _ = parse_address(upstream)
    return host.startswith("127.")
