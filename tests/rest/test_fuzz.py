"""Fuzzing the REST API through Envoy with schemathesis, over the OpenAPI document Envoy serves:
every operation, valid and invalid data, an admin key. No input may get a server error (5xx),
and every response must match the document."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from catapult.v1 import api_key_service_pb2
from tests.support.api import Stubs, auth
from tests.support.rest import Rest

HOOKS = "tests.rest.fuzz_hooks"
ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "envoy" / "openapi.swagger.json").read_text())
# The watches: a stream that does not end, which a fuzzer would wait on forever (their requests'
# validation is the unary calls' own, tested in tests/server/test_watch.py).
STREAMS = [
    operation["operationId"]
    for methods in DOCUMENT["paths"].values()
    for operation in methods.values()
    if "text/event-stream" in operation.get("produces", [])
]
# The run's time budget (schemathesis stops generating after it): `make test` stays short.
BUDGET_SECONDS = 150


@pytest.mark.timeout(BUDGET_SECONDS + 150)
async def test_no_input_gets_a_server_error_or_an_undocumented_answer(
    rest: Rest, stubs: Stubs, admin_key: str, tmp_path: Path
) -> None:
    keys = await stubs.api_keys.ListApiKeys(
        api_key_service_pb2.ListApiKeysRequest(), metadata=auth(admin_key)
    )
    protected = ",".join(key.id for key in keys.api_keys if key.role == "admin")
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS,
        "PYTHONPATH": str(ROOT),
        "CATAPULT_FUZZ_PROTECTED_KEYS": protected,
    }
    command = [
        str(Path(sys.executable).parent / "st"),
        "run",
        f"{rest.base_url}/api/openapi.json",
        "--url",
        rest.base_url,
        "--header",
        f"X-API-Key: {admin_key}",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-time",
        str(BUDGET_SECONDS),
        "--seed",
        "7",  # the same cases every run: a failure here is reproducible, not luck
        *(arg for operation_id in STREAMS for arg in ("--exclude-operation-id", operation_id)),
        "--no-color",
        "--report-dir",
        str(tmp_path),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=BUDGET_SECONDS + 90)
    finally:
        if process.returncode is None:  # timed out: never leave schemathesis running behind the test
            process.kill()
            await process.wait()
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    operations = sum(len(methods) for methods in DOCUMENT["paths"].values()) - len(STREAMS)
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) == operations, f"every operation fuzzed: {report[-3000:]}"
    still = await stubs.api_keys.ListApiKeys(
        api_key_service_pb2.ListApiKeysRequest(), metadata=auth(admin_key)
    )
    assert protected.split(",")[0] in {key.id for key in still.api_keys}, "the run's own key survived it"
