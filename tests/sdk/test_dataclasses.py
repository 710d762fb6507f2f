"""The betterproto2 dataclass client (catapult.dataclasses) against the live server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest

import catapult
from catapult.dataclasses import connect, connect_from_env, protobuf, v1


async def test_dataclass_client_round_trip(target: str, writer_key: str) -> None:
    def scenario() -> None:
        with connect(target, api_key=writer_key) as channel:
            models = v1.ModelServiceStub(channel)
            releases = v1.ReleaseServiceStub(channel)
            model = models.create_model(
                v1.CreateModelRequest(
                    model=v1.Model(
                        name="llama-3-7b-companyA",
                        storage_path="s3://ml-models/companyA/llama-3-7b/",
                        tags=["production", "chatbot"],
                        metadata=protobuf.Struct.from_dict({"accuracy": 0.95, "layers": [1, 2], "ok": True}),
                    ),
                    request_id=str(uuid.uuid4()),
                )
            )
            assert isinstance(model, v1.Model) and model.id
            assert isinstance(model.created_at, datetime), "timestamps are datetimes"
            assert model.metadata is not None
            assert model.metadata.to_dict() == {"accuracy": 0.95, "layers": [1, 2], "ok": True}

            release = releases.create_release(
                v1.CreateReleaseRequest(
                    release=v1.Release(image_id=model.id, version="1.0.0", quantization="fp16")
                )
            )
            latest = releases.get_latest_release(v1.GetLatestReleaseRequest(model_name="llama-3-7b-companyA"))
            assert latest.id == release.id and latest.model_name == "llama-3-7b-companyA"

            page = models.list_models(v1.ListModelsRequest(tag=["chatbot"]))
            assert [m.name for m in page.models] == ["llama-3-7b-companyA"]
            assert page.to_dict()["models"][0]["metadata"] == {"accuracy": 0.95, "layers": [1, 2], "ok": True}

            with pytest.raises(catapult.NotFoundError) as missing:
                models.get_model_by_name(v1.GetModelByNameRequest(name="nope"))
            assert missing.value.reason == "RESOURCE_NOT_FOUND"
            with pytest.raises(catapult.InvalidArgumentError) as invalid:
                models.create_model(v1.CreateModelRequest(model=v1.Model(name="")))
            assert "model.storage_path" in {v.field for v in invalid.value.field_violations}

        with connect(target) as anonymous:
            assert v1.SystemServiceStub(anonymous).health().status == "ok"
            with pytest.raises(catapult.UnauthenticatedError):
                v1.SystemServiceStub(anonymous).get_info()

    await asyncio.to_thread(scenario)


async def test_dataclass_client_from_env(
    monkeypatch: pytest.MonkeyPatch, target: str, reader_key: str
) -> None:
    monkeypatch.setenv("CATAPULT_ADDR", target)
    monkeypatch.setenv("CATAPULT_API_KEY", reader_key)
    monkeypatch.delenv("CATAPULT_TLS", raising=False)

    def scenario() -> str:
        with connect_from_env() as channel:
            return v1.SystemServiceStub(channel).get_info().api_version

    assert await asyncio.to_thread(scenario) == "v1"
