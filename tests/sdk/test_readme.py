"""The examples in clients/python/README.md run, in order, against a live server, with the
address and key in CATAPULT_ADDR and CATAPULT_API_KEY as a user would set them."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import catapult
from tests.support.paths import REPO
from tests.support.readme import fenced_blocks

README = REPO / "clients" / "python" / "README.md"
OLD_SDK_CALLS = [
    "Registry(",
    "from_env()",
    "create_model(",
    "create_version(",
    "promote_version(",
    "deploy(",
    "get_latest_version(",
]


async def test_readme_examples_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], target: str, writer_key: str
) -> None:
    monkeypatch.setenv("CATAPULT_ADDR", target)
    monkeypatch.setenv("CATAPULT_API_KEY", writer_key)
    monkeypatch.delenv("CATAPULT_TLS", raising=False)
    blocks = [block for block in fenced_blocks(README) if block.language == "python"]
    assert len(blocks) >= 6
    for block in blocks:
        namespace: dict[str, Any] = {"__name__": "__readme__"}
        compiled = compile(block.code, f"{README}:{block.line + 1}", "exec")
        await asyncio.to_thread(exec, compiled, namespace)

    out = capsys.readouterr().out
    assert "Latest version: 1.0.0, live in production: 1.0.0" in out
    assert "Registered release: " in out
    assert "model.name: " in out and "model.storage_path: " in out
    # The deploy job's watch saw its deployment replace the live one, then left.
    watched = "watch: superseded 1.0.0 terminated\nwatch: created 1.0.0 success\nwatch again after cursor "
    assert watched in out
    async with catapult.AsyncClient(target, api_key=writer_key) as client:
        names = sorted([m.name async for m in client.list_models()])
        assert names == ["myorg/chat-model", "myorg/pytorch-model", "myorg/sentiment-model"]
        assert (await client.get_model("myorg/pytorch-model")).description == "retrained on more data"
        staged = [d async for d in client.list_deployments(environment="staging")]
        assert [(d.model_name, d.release_version, d.quantization) for d in staged] == [
            ("myorg/sentiment-model", "2.1.0", "fp16")
        ]


def test_readme_maps_every_old_sdk_call_to_a_method_that_exists() -> None:
    text = README.read_text()
    table = text[text.index("## From the old SDK") :].split("\n\n")[1]
    rows = [row for row in table.splitlines() if row.startswith("| `")]
    for call in OLD_SDK_CALLS:
        assert any(call in row.split("|")[1] for row in rows), f"no row for the old {call}"
    for method in set(re.findall(r"client\.(\w+)\(", table)):
        assert hasattr(catapult.Client, method), f"the table names Client.{method}, which does not exist"
