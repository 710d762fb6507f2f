"""`catapult up` for the browser tests: the real command in a subprocess, its Envoy serving the
built console (web/dist) and the API on one port, on a database of the tests' PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

import catapult

CATAPULT = str(Path(sys.executable).parent / "catapult")
REPO = Path(__file__).resolve().parents[2]
WEB_DIST = REPO / "web" / "dist"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def new_database(server_url: str) -> str:
    """A fresh, empty database on the tests' PostgreSQL; `catapult up` migrates it."""
    name = f"web_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        admin = await asyncpg.connect(asyncpg_dsn(server_url))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, create()).result()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@dataclass
class Stack:
    data_dir: Path
    database_url: str
    grpc_port: int
    http_port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def admin_key(self) -> str:
        return (self.data_dir / "admin-key").read_text().strip()

    def client(self, key: str = "") -> catapult.Client:
        return catapult.Client(f"127.0.0.1:{self.grpc_port}", api_key=key or self.admin_key)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def context(self) -> str:
        """What to show when something fails: the stack's output and the end of Envoy's log."""
        envoy_log = self.data_dir / "envoy.log"
        tail = envoy_log.read_text(errors="replace")[-3000:] if envoy_log.exists() else ""
        return f"{self.output()}\n--- envoy.log ---\n{tail}"

    def stop(self) -> None:
        """Ctrl-C, as a person stops it; killed if it has not stopped within a minute."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_stack(data_dir: Path, database_url: str, **settings: str) -> Stack:
    """`catapult up` on free ports, with `settings` as CATAPULT_* variables (web_dir="…" sets
    CATAPULT_WEB_DIR); returns once its banner says it is up (Envoy ready)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    grpc_port, http_port = free_port(), free_port()
    log = data_dir / "up.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATAPULT_")}
    env["CATAPULT_DATABASE_URL"] = database_url
    env.update({f"CATAPULT_{name.upper()}": value for name, value in settings.items()})
    proc = subprocess.Popen(
        [
            CATAPULT,
            "up",
            "--data-dir",
            str(data_dir),
            "--grpc-port",
            str(grpc_port),
            "--http-port",
            str(http_port),
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=REPO,
    )
    stack = Stack(data_dir, database_url, grpc_port, http_port, proc, log)
    deadline = time.monotonic() + 90
    try:
        while "is up" not in stack.output():
            if proc.poll() is not None:
                raise RuntimeError(f"catapult up exited with {proc.returncode}:\n{stack.context()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"catapult up did not come up within 90 s:\n{stack.context()}")
            time.sleep(0.1)
    except BaseException:
        stack.stop()
        raise
    return stack


@contextmanager
def running_stack(data_dir: Path, postgres_url: str, **settings: str) -> Iterator[Stack]:
    """A stack on a new database of the tests' PostgreSQL, stopped on leaving, even on failure."""
    if not (WEB_DIST / "index.html").exists():
        pytest.fail("the console is not built: run `make install` (npm ci && npm run build in web/)")
    stack = start_stack(data_dir, new_database(postgres_url), **settings)
    try:
        yield stack
    finally:
        stack.stop()
