"""The watch streams under write load: CreateDeployment (environment=production) at full speed,
first with no watcher, then with WATCHERS streams open on WatchDeployments(environment=production),
each of which receives every one of those writes.

The watchers are clients/go/internal/watchbench (Go: the load generator must not be slower than
the server it measures). It also records a probe deployment every 50 ms, of another model than
the load's, and reports for each probe at each watcher the time from its CreateDeployment's
return to its arrival: the delivery latency."""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WATCHERS = 200
CREATE = "catapult.v1.DeploymentService.CreateDeployment"
# Wanted: the writes lose at most this fraction of their throughput to the watchers, and a change
# reaches every watcher within this p99.
MAX_WRITE_LOSS = 0.15
MAX_DELIVERY_P99_MS = 250.0


@dataclass
class WatchLoad:
    watchers: int
    writes_rps_alone: float
    writes_rps_watched: float
    write_loss: float
    delivery_p50_ms: float
    delivery_p99_ms: float
    delivery_max_ms: float
    events_delivered: int
    # The gRPC messages that carried them: under load a message carries many changes.
    messages: int
    probes: int
    writes: int
    # Every watcher received every write made while it watched.
    complete: bool
    errors: list[str]
    # CPU seconds the watchers' client (watchbench) used, on the cores the server shares.
    client_cpu_seconds: float
    watched_seconds: float


def build(work: Path) -> Path:
    binary = work / "watchbench"
    subprocess.run(
        ["go", "build", "-o", str(binary), "./internal/watchbench"], cwd=ROOT / "clients/go", check=True
    )
    return binary


def measure(
    ghz: Any, address: str, key: str, release_id: str, probe_release_id: str, total: int, work: Path
) -> WatchLoad:
    """`ghz` is bench/run.py's (name, address, key, call, data, total) → Result; the load writes
    deployments of `release_id`, the probes of `probe_release_id` (another model's)."""
    binary = build(work)

    def deployment(run: str) -> dict[str, Any]:
        return {
            "deployment": {
                "release_id": release_id,
                "environment": "production",
                "endpoint_url": f"https://bench/watch/{run}/{{{{.RequestNumber}}}}",
                "status": "success",
            }
        }

    alone = ghz("grpc CreateDeployment production, no watcher", address, key, CREATE, deployment("a"), total)
    watchers = subprocess.Popen(
        [
            str(binary),
            *("-addr", address, "-key", key, "-watchers", str(WATCHERS), "-environment", "production"),
            *("-probe-release", probe_release_id),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watchers.stderr is not None
        opened = watchers.stderr.readline()  # "watchbench: N streams open"
        if "streams open" not in opened:
            raise RuntimeError(f"watchbench: {opened}{watchers.stderr.read()}")
        watched = ghz(
            f"grpc CreateDeployment production, {WATCHERS} watchers",
            address,
            key,
            CREATE,
            deployment("b"),
            total,
        )
        # watchbench waits, once signalled, until the last writes and probes reached every stream.
    finally:
        watchers.send_signal(signal.SIGINT)
        out, _ = watchers.communicate(timeout=60)
    result = json.loads(out)
    writes = watched.requests - watched.errors
    return WatchLoad(
        watchers=result["connected"],
        writes_rps_alone=alone.rps,
        writes_rps_watched=watched.rps,
        write_loss=round(1 - watched.rps / alone.rps, 3) if alone.rps else 0.0,
        delivery_p50_ms=result["p50_ms"],
        delivery_p99_ms=result["p99_ms"],
        delivery_max_ms=result["max_ms"],
        events_delivered=result["events"],
        messages=result["messages"],
        probes=result["probes"],
        writes=writes,
        complete=result["min_events_per_watcher"]
        == writes + result["probes"]
        == result["max_events_per_watcher"],
        errors=result["errors"] or [],
        client_cpu_seconds=round(result["cpu_seconds"], 1),
        watched_seconds=round(watched.requests / watched.rps, 1) if watched.rps else 0.0,
    )
