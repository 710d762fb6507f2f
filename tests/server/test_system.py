"""SystemService: what is running, and whether it can serve."""

from __future__ import annotations

from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory

from catapult.v1 import system_service_pb2
from tests.support.api import Stubs, auth, create_deployment, create_model, create_release, unique
from tests.support.paths import REPO


def alembic_head() -> str:
    head = ScriptDirectory.from_config(Config(str(REPO / "alembic.ini"))).get_current_head()
    assert head
    return head


async def test_get_info(stubs: Stubs, reader_key: str) -> None:
    info = await stubs.system.GetInfo(system_service_pb2.GetInfoRequest(), metadata=auth(reader_key))
    assert info.version
    assert info.api_version == "v1"
    assert info.database.reachable
    assert info.database.schema_revision == alembic_head(), "the schema the tests migrated to"
    assert info.database.server_version
    assert info.server_time.seconds > 0
    assert info.started_at.seconds > 0
    assert info.started_at.ToDatetime() <= info.server_time.ToDatetime()


async def test_health_needs_no_key(stubs: Stubs, reader_key: str) -> None:
    health = await stubs.system.Health(system_service_pb2.HealthRequest())
    assert health.status == "ok"
    info = await stubs.system.GetInfo(system_service_pb2.GetInfoRequest(), metadata=auth(reader_key))
    assert health.version == info.version


async def test_get_caller_names_the_key_and_its_role(
    stubs: Stubs, reader_key: str, writer_key: str, admin_key: str
) -> None:
    for key, name, role in (
        (reader_key, "test-reader", "reader"),
        (writer_key, "test-writer", "writer"),
        (admin_key, "test-admin", "admin"),
    ):
        caller = await stubs.system.GetCaller(system_service_pb2.GetCallerRequest(), metadata=auth(key))
        assert (caller.api_key_name, caller.role) == (name, role)
        assert caller.api_key_id


async def registry_summary(stubs: Stubs, key: str) -> dict[str, Any]:
    """The summary as numbers a test can subtract: totals, and per environment (live, models)."""
    s = await stubs.system.GetRegistrySummary(
        system_service_pb2.GetRegistrySummaryRequest(), metadata=auth(key)
    )
    return {
        "models": s.model_count,
        "releases": s.release_count,
        "companies": s.company_count,
        "live": s.live_deployment_count,
        **{e.environment: (e.live_deployment_count, e.live_model_count) for e in s.environments},
    }


async def test_registry_summary_counts_what_is_live_per_environment(
    stubs: Stubs, reader_key: str, writer_key: str
) -> None:
    before = await registry_summary(stubs, reader_key)
    company = unique("company")
    release = await create_release(
        stubs, writer_key, (await create_model(stubs, writer_key, company=company)).id
    )
    other = await create_model(stubs, writer_key, company=company)
    other_release = await create_release(stubs, writer_key, other.id)
    endpoint = f"https://{unique('summary')}.example.test/v1"
    await create_deployment(stubs, writer_key, release.id, environment="production", endpoint_url=endpoint)
    # Supersedes the first: still one live in that slot. A failed one is not live.
    await create_deployment(
        stubs, writer_key, other_release.id, environment="production", endpoint_url=endpoint
    )
    await create_deployment(stubs, writer_key, release.id, environment="staging", cluster="k8s-s")
    await create_deployment(
        stubs, writer_key, release.id, environment="staging", cluster="k8s-f", status="failed"
    )
    after = await registry_summary(stubs, reader_key)

    def added(name: str) -> Any:
        was = before.get(name, (0, 0))
        now = after[name]
        return now - was if isinstance(now, int) else (now[0] - was[0], now[1] - was[1])

    assert (added("models"), added("releases"), added("companies")) == (2, 2, 1)
    assert added("live") == 2
    assert added("production") == (1, 1)  # the other model replaced the first one's
    assert added("staging") == (1, 1)
    assert after["live"] == sum(v[0] for k, v in after.items() if isinstance(v, tuple))
