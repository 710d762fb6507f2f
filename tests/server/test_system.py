"""SystemService: what is running, and whether it can serve."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from catapult.v1 import system_service_pb2
from tests.support.api import Stubs, auth
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
