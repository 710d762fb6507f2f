"""The `catapult` command as a new user runs it: real subprocesses, real embedded PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from catapult.v1 import model_pb2, model_service_pb2, model_service_pb2_grpc

CATAPULT = str(Path(sys.executable).parent / "catapult")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATAPULT_")}
    return env


class Stack:
    """`catapult up` running in the background until stopped with Ctrl-C (SIGINT)."""

    def __init__(self, data_dir: Path, port: int, *extra: str) -> None:
        self.data_dir, self.port = data_dir, port
        self.log = data_dir.parent / f"up-{port}.log"
        # Each stack's Envoy on a free port of its own (the default, 8080, would collide).
        args = [
            "--data-dir",
            str(data_dir),
            "--grpc-port",
            str(port),
            "--http-port",
            str(free_port()),
            *extra,
        ]
        self.proc = subprocess.Popen(
            [CATAPULT, "up", *args],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            env=cli_env(),
        )
        deadline = time.monotonic() + 60
        while "Catapult" not in self.output() or "is up" not in self.output():
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)

    def models(self) -> model_service_pb2_grpc.ModelServiceStub:
        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        return model_service_pb2_grpc.ModelServiceStub(channel)


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    started: list[Stack] = []
    yield started
    for stack in started:
        if stack.proc.poll() is None:
            stack.proc.kill()
            stack.proc.wait()


def test_up_bootstraps_a_key_and_keeps_data_across_restarts(tmp_path: Path, stacks: list[Stack]) -> None:
    data_dir = tmp_path / "stack"
    port = free_port()
    first = Stack(data_dir, port)
    stacks.append(first)
    key_file = data_dir / "admin-key"
    assert str(key_file.resolve()) in first.output()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    auth = (("x-api-key", key),)
    model = model_pb2.Model(name="survives-restart", storage_path="s3://m/")
    first.models().CreateModel(model_service_pb2.CreateModelRequest(model=model), metadata=auth)
    assert first.stop() == 0

    second = Stack(data_dir, port)
    stacks.append(second)
    assert "from the first start" in second.output()
    assert key_file.read_text().strip() == key, "the bootstrap key is made once"
    found = second.models().GetModelByName(
        model_service_pb2.GetModelByNameRequest(name="survives-restart"), metadata=auth
    )
    assert found.storage_path == "s3://m/"
    assert second.stop() == 0


def test_two_stacks_run_side_by_side(tmp_path: Path, stacks: list[Stack]) -> None:
    a = Stack(tmp_path / "a", free_port())
    stacks.append(a)
    b = Stack(tmp_path / "b", free_port())
    stacks.append(b)
    key_a = (tmp_path / "a" / "admin-key").read_text().strip()
    key_b = (tmp_path / "b" / "admin-key").read_text().strip()
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


def test_api_key_commands_against_a_data_dir(tmp_path: Path, stacks: list[Stack]) -> None:
    data_dir = tmp_path / "keys"
    stack = Stack(data_dir, free_port())
    stacks.append(stack)

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
    deadline = time.monotonic() + 10
    while True:
        try:
            stack.models().ListModels(model_service_pb2.ListModelsRequest(), metadata=(("x-api-key", key),))
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
            break
        assert time.monotonic() < deadline, "a revoked key kept working"
        time.sleep(0.2)
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


def test_workers_share_the_port_and_survive_one_another(tmp_path: Path, stacks: list[Stack]) -> None:
    import psutil

    stack = Stack(tmp_path / "workers", free_port(), "--workers", "3")
    stacks.append(stack)
    key = (tmp_path / "workers" / "admin-key").read_text().strip()
    auth = (("x-api-key", key),)
    workers = [
        p
        for p in psutil.Process(stack.proc.pid).children()
        if any("spawn_main" in part for part in p.cmdline())
    ]
    assert len(workers) == 3, [p.cmdline() for p in workers]
    listening = {
        c.pid
        for c in psutil.net_connections("tcp")
        if c.laddr and c.laddr.port == stack.port and c.status == "LISTEN"
    }
    assert {w.pid for w in workers} <= listening, "every worker listens on the one gRPC port"

    def gone(process: psutil.Process) -> bool:
        try:  # a dead worker stays a zombie until the parent reaps it
            return bool(process.status() == psutil.STATUS_ZOMBIE)
        except psutil.NoSuchProcess:
            return True

    workers[0].kill()  # a crashed worker: the others keep serving new connections
    deadline = time.monotonic() + 10
    while not gone(workers[0]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for _ in range(5):
        listed = stack.models().ListModels(model_service_pb2.ListModelsRequest(), metadata=auth)
        assert list(listed.models) == []
    assert stack.stop() == 0
    assert all(gone(w) for w in workers), "stopping `up` stops every worker"
