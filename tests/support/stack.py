"""`catapult up` as a user runs it (`make run`): a real subprocess with its embedded PostgreSQL,
gRPC server and Envoy, on ports and a data dir of its own so stacks run side by side."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import psutil

import catapult
from catapult.v1 import model_service_pb2_grpc
from tests.support.paths import CATAPULT
from tests.support.polling import wait_until
from tests.support.ports import free_port

# How long a start may take to print its banner: first starts run initdb and the migrations.
START_WITHIN = 90.0
STOP_WITHIN = 60.0
# The environment variable each stack's `catapult up` runs with, a value of its own: every process
# it starts inherits it (workers, Envoy, the PostgreSQL guardian, PostgreSQL itself), so the
# stack's processes are found even after `up` has died and they were left to init.
MARKER = "TESTS_CATAPULT_STACK"


def cli_env(**extra: str) -> dict[str, str]:
    """This environment without CATAPULT_* settings (the command is configured by its flags
    alone) and without XDG_RUNTIME_DIR (as in CI and containers, where libraries warn about it),
    plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATAPULT_") and k != "XDG_RUNTIME_DIR"}
    env.update(extra)
    return env


def run_catapult(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`catapult ARGS` run to completion, as a user runs it (cli_env, plus `env`)."""
    return subprocess.run(
        [CATAPULT, *args],
        capture_output=True,
        text=True,
        env=cli_env(**(env or {})),
        cwd=cwd,
        timeout=timeout,
    )


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


class Stack:
    """One `catapult up`: start() waits for its banner, stop() is Ctrl-C, cleanup() makes sure
    nothing it started is left running, whatever state the test left it in."""

    def __init__(
        self,
        data_dir: Path,
        *extra: str,
        grpc_port: int | None = None,
        http_port: int | None = None,
        cwd: Path | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        """`extra` are more flags; `settings` become CATAPULT_<NAME> variables (database_url=…
        runs it on that database instead of an embedded PostgreSQL)."""
        self.data_dir = data_dir
        self.extra = extra
        self.grpc_port = grpc_port or free_port()
        # Envoy on a free port of its own: the default, 8080, would collide with other stacks.
        self.http_port = free_port() if http_port is None else http_port
        self.cwd = cwd
        self.settings = dict(settings or {})
        self.log = data_dir.parent / f"up-{self.grpc_port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._channels: list[grpc.Channel] = []
        self.marker = uuid.uuid4().hex

    def start(self) -> Stack:
        args = ["--data-dir", str(self.data_dir), "--grpc-port", str(self.grpc_port)]
        args += ["--http-port", str(self.http_port), *self.extra]
        env = cli_env(**{f"CATAPULT_{name.upper()}": value for name, value in self.settings.items()})
        env[MARKER] = self.marker
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [CATAPULT, "up", *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
            )
        process = self.proc
        wait_until(
            lambda: "is up" in self.output() or process.poll() is not None,
            START_WITHIN,
            f"no banner within {START_WITHIN} s:\n{self.context()}",
        )
        assert process.poll() is None, f"`catapult up` exited:\n{self.context()}"
        return self

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self.proc is not None, "the stack was not started"
        return self.proc

    @property
    def admin_key(self) -> str:
        return (self.data_dir / "admin-key").read_text().strip()

    @property
    def base_url(self) -> str:
        """Envoy's: REST under /api, the web console at /."""
        return f"http://127.0.0.1:{self.http_port}"

    def client(self, key: str = "") -> catapult.Client:
        """A Python SDK client of the stack, with `key` or the admin key."""
        return catapult.Client(f"127.0.0.1:{self.grpc_port}", api_key=key or self.admin_key)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def context(self) -> str:
        """What to show when an assertion fails: the stack's output and the end of Envoy's log."""
        envoy_log = self.data_dir / "envoy.log"
        tail = envoy_log.read_text(errors="replace")[-3000:] if envoy_log.exists() else ""
        return f"{self.output()}\n--- envoy.log ---\n{tail}"

    def envoy_pid(self) -> int:
        return int((self.data_dir / "envoy.pid").read_text())

    def processes(self) -> list[psutil.Process]:
        """Every live process of this stack: `catapult up` and all it started (found by the
        marker in their environment), the embedded PostgreSQL's included."""
        found = []
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if process.environ().get(MARKER) == self.marker and alive(process.pid):
                    found.append(process)
        return found

    def started_pids(self) -> set[int]:
        """The processes `catapult up` started that run now (workers, Envoy, guardians, PostgreSQL)."""
        return {p.pid for p in self.processes()} - {self.process.pid}

    def worker_pids(self) -> list[int]:
        """The server workers of `--workers N` (multiprocessing's spawned processes)."""
        workers = []
        for child in psutil.Process(self.process.pid).children():
            with contextlib.suppress(psutil.Error):
                if any("spawn_main" in part for part in child.cmdline()) and alive(child.pid):
                    workers.append(child.pid)
        return workers

    def postmaster_pid(self) -> int | None:
        """The pid of this stack's embedded PostgreSQL while it runs."""
        postgres = self.data_dir.resolve() / "postgres"
        try:
            pid = int((postgres / "postmaster.pid").read_text().split()[0])
            # A pid file outlives a crash: make sure the pid is still this stack's PostgreSQL.
            running = str(postgres) in " ".join(psutil.Process(pid).cmdline())
        except (FileNotFoundError, ValueError, IndexError, psutil.Error):
            return None
        return pid if running and alive(pid) else None

    def models(self) -> model_service_pb2_grpc.ModelServiceStub:
        """A blocking ModelService stub on the stack's gRPC port."""
        channel = grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}")
        self._channels.append(channel)
        return model_service_pb2_grpc.ModelServiceStub(channel)

    def get(self, path: str, key: str = "") -> tuple[int, Any]:
        """GET through the stack's Envoy: (HTTP status, JSON body)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}")
        if key:
            request.add_header("X-API-Key", key)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def stop(self) -> int:
        """Ctrl-C (SIGINT); the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=STOP_WITHIN)

    def terminate(self) -> int:
        """SIGTERM, as a service manager stops it; the exit status."""
        self.process.terminate()
        return self.process.wait(timeout=STOP_WITHIN)

    def kill(self) -> None:
        """SIGKILL: `catapult up` gets no chance to stop what it started."""
        self.process.kill()
        self.process.wait()

    def cleanup(self) -> None:
        """Leave nothing running: Ctrl-C if the stack still runs, a fast shutdown of an embedded
        PostgreSQL left running, and SIGKILL for any other process of the stack still there."""
        for channel in self._channels:
            channel.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=STOP_WITHIN)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        postmaster = self.postmaster_pid()
        if postmaster is not None:
            os.kill(postmaster, signal.SIGINT)  # PostgreSQL's fast shutdown
            wait_until(lambda: not alive(postmaster), 30, f"PostgreSQL {postmaster} did not stop")
        for process in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()


@contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    """The stack started for the block and cleaned up after it, whatever happened."""
    try:
        yield stack.start()
    finally:
        stack.cleanup()


class Stacks:
    """The stacks a test started, for the `stacks` fixture to clean up."""

    def __init__(self) -> None:
        self.started: list[Stack] = []

    def start(self, stack: Stack) -> Stack:
        self.started.append(stack)  # before start(): a start that fails is cleaned up too
        return stack.start()

    def cleanup(self) -> None:
        failures: list[str] = []
        for stack in self.started:
            try:
                stack.cleanup()
            except Exception as error:  # clean up the others all the same
                failures.append(f"{stack.data_dir}: {error}")
        assert not failures, "\n".join(failures)
