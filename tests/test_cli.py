"""The `catapult` command as a new user runs it: real subprocesses, real embedded PostgreSQL."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import grpc
import pytest

from catapult.v1 import model_pb2, model_service_pb2
from tests.support.paths import CATAPULT
from tests.support.polling import wait_until
from tests.support.stack import Stack, Stacks, alive, cli_env


def test_up_bootstraps_a_key_and_keeps_data_across_restarts(tmp_path: Path, stacks: Stacks) -> None:
    data_dir = tmp_path / "stack"
    first = stacks.start(Stack(data_dir))
    assert "Catapult" in first.output()
    key_file = data_dir / "admin-key"
    assert str(key_file.resolve()) in first.output()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    auth = (("x-api-key", key),)
    model = model_pb2.Model(name="survives-restart", storage_path="s3://m/")
    first.models().CreateModel(model_service_pb2.CreateModelRequest(model=model), metadata=auth)
    assert first.stop() == 0

    second = stacks.start(Stack(data_dir, grpc_port=first.grpc_port))
    assert "from the first start" in second.output()
    assert key_file.read_text().strip() == key, "the bootstrap key is made once"
    found = second.models().GetModelByName(
        model_service_pb2.GetModelByNameRequest(name="survives-restart"), metadata=auth
    )
    assert found.storage_path == "s3://m/"
    assert second.stop() == 0


def test_two_stacks_run_side_by_side(tmp_path: Path, stacks: Stacks) -> None:
    a = stacks.start(Stack(tmp_path / "a"))
    b = stacks.start(Stack(tmp_path / "b"))
    key_a, key_b = a.admin_key, b.admin_key
    assert key_a != key_b
    a.models().CreateModel(
        model_service_pb2.CreateModelRequest(model=model_pb2.Model(name="only-in-a", storage_path="s3://a/")),
        metadata=(("x-api-key", key_a),),
    )
    listed = b.models().ListModels(model_service_pb2.ListModelsRequest(), metadata=(("x-api-key", key_b),))
    assert [m.name for m in listed.models] == []
    with pytest.raises(grpc.RpcError) as wrong_stack:
        b.models().ListModels(model_service_pb2.ListModelsRequest(), metadata=(("x-api-key", key_a),))
    assert wrong_stack.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert a.stop() == 0
    assert b.stop() == 0


def test_api_key_commands_against_a_data_dir(tmp_path: Path, stacks: Stacks) -> None:
    data_dir = tmp_path / "keys"
    stack = stacks.start(Stack(data_dir))

    def catapult(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CATAPULT, *args, "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=60,
        )

    created = catapult("api-key", "create", "--name", "ci", "--role", "reader")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert created.stdout == key + "\n", "only the key is printed, so KEY=$(catapult api-key create …) works"
    assert key.startswith("ctp_")
    listed = stack.models().ListModels(model_service_pb2.ListModelsRequest(), metadata=(("x-api-key", key),))
    assert list(listed.models) == []

    table = catapult("api-key", "list")
    assert table.returncode == 0, table.stderr
    assert "ci" in table.stdout and "reader" in table.stdout and key not in table.stdout

    duplicate = catapult("api-key", "create", "--name", "ci")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr

    revoked = catapult("api-key", "revoke", "ci")
    assert revoked.returncode == 0, revoked.stderr

    def rejected() -> bool:
        try:
            stack.models().ListModels(model_service_pb2.ListModelsRequest(), metadata=(("x-api-key", key),))
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
            return True
        return False

    wait_until(rejected, 10, "a revoked key kept working", interval=0.2)
    assert stack.stop() == 0


def test_serve_refuses_to_start_without_a_pepper() -> None:
    result = subprocess.run(
        [CATAPULT, "serve", "--database-url", "postgresql://nobody@localhost/none"],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    assert result.returncode == 2
    assert "CATAPULT_KEY_PEPPER" in result.stderr


def test_workers_share_the_port_and_survive_one_another(tmp_path: Path, stacks: Stacks) -> None:
    import psutil

    stack = stacks.start(Stack(tmp_path / "workers", "--workers", "3"))
    auth = (("x-api-key", stack.admin_key),)
    workers = [
        p
        for p in psutil.Process(stack.process.pid).children()
        if any("spawn_main" in part for part in p.cmdline())
    ]
    assert len(workers) == 3, [p.cmdline() for p in workers]
    listening = {
        c.pid
        for c in psutil.net_connections("tcp")
        if c.laddr and c.laddr.port == stack.grpc_port and c.status == "LISTEN"
    }
    assert {w.pid for w in workers} <= listening, "every worker listens on the one gRPC port"

    workers[0].kill()  # a crashed worker: the others keep serving new connections
    wait_until(lambda: not alive(workers[0].pid), 10, "the killed worker is still there", interval=0.05)
    for _ in range(5):
        listed = stack.models().ListModels(model_service_pb2.ListModelsRequest(), metadata=auth)
        assert list(listed.models) == []
    assert stack.stop() == 0
    assert not any(alive(w.pid) for w in workers), "stopping `up` stops every worker"
