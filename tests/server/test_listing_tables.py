"""Each List RPC's filters are a table checked against its request message at import: a filter
field without a predicate (it would be bound to page tokens but never applied to the SQL), or
a predicate naming no field, stops the server from starting."""

from __future__ import annotations

from typing import Any

import pytest

from catapult.v1 import deployment_service_pb2
from catapult_server.interceptors import SERVICES
from catapult_server.listing import ContractError, Listing, equals
from catapult_server.services import api_keys, artifacts, audit_logs, deployments, models, releases

LISTINGS: list[Listing[Any, Any]] = [
    models.LISTING,
    releases.LISTING,
    artifacts.LISTING,
    deployments.LISTING,
    api_keys.LISTING,
    audit_logs.LISTING,
]


def test_every_list_rpc_has_a_complete_table() -> None:
    list_requests = {m.input_type.full_name for s in SERVICES for m in s.methods if m.name.startswith("List")}
    assert {listing.request.DESCRIPTOR.full_name for listing in LISTINGS} == list_requests


def test_a_filter_field_without_a_predicate_is_refused() -> None:
    table = dict(deployments.LISTING.filters)
    del table["endpoint_url"]
    with pytest.raises(ContractError, match=r"without a predicate \['endpoint_url'\]"):
        Listing(
            deployment_service_pb2.ListDeploymentsRequest,
            deployment_service_pb2.ListDeploymentsResponse,
            deployments.LISTING.resource,
            filters=table,
            order_columns=deployments.LISTING.order_columns,
        )


def test_a_predicate_naming_no_field_is_refused() -> None:
    d = deployments.LISTING.resource.table
    table = {**deployments.LISTING.filters, "replica_count": equals(d.c.replicas)}
    with pytest.raises(ContractError, match=r"naming no field \['replica_count'\]"):
        Listing(
            deployment_service_pb2.ListDeploymentsRequest,
            deployment_service_pb2.ListDeploymentsResponse,
            deployments.LISTING.resource,
            filters=table,
            order_columns=deployments.LISTING.order_columns,
        )


def test_order_columns_must_match_the_proto() -> None:
    columns = {"deployed_at": deployments.LISTING.order_columns["deployed_at"]}
    with pytest.raises(ContractError, match="order_by fields"):
        Listing(
            deployment_service_pb2.ListDeploymentsRequest,
            deployment_service_pb2.ListDeploymentsResponse,
            deployments.LISTING.resource,
            filters=deployments.LISTING.filters,
            order_columns=columns,
        )
