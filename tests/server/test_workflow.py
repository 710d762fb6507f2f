"""The design's Example Workflow (steps 1, 3, 4 and 5) over gRPC, with the design's values,
each resource read back as a user would."""

from __future__ import annotations

from google.protobuf import json_format

from catapult.v1 import (
    artifact_service_pb2,
    deployment_service_pb2,
    model_service_pb2,
    release_service_pb2,
)
from tests.support.api import Stubs, auth, create_artifact, create_deployment, create_model, create_release


async def test_example_workflow(stubs: Stubs, writer_key: str) -> None:
    # 1. Register Model
    model = await create_model(
        stubs,
        writer_key,
        name="llama-3-7b-companyA",
        company="CompanyA",
        base_model="llama-3",
        parameter_count="7B",
        storage_path="s3://ml-models/companyA/llama-3-7b/",
        tags=["production", "chatbot"],
    )
    assert model.id
    got_model = await stubs.models.GetModel(
        model_service_pb2.GetModelRequest(id=model.id), metadata=auth(writer_key)
    )
    assert got_model.name == "llama-3-7b-companyA"
    assert got_model.company == "CompanyA"
    assert got_model.base_model == "llama-3"
    assert got_model.parameter_count == "7B"
    assert got_model.storage_path == "s3://ml-models/companyA/llama-3-7b/"
    assert list(got_model.tags) == ["production", "chatbot"]
    assert got_model.etag
    assert got_model.created_at.seconds > 0
    assert got_model.updated_at.seconds > 0
    by_name = await stubs.models.GetModelByName(
        model_service_pb2.GetModelByNameRequest(name="llama-3-7b-companyA"), metadata=auth(writer_key)
    )
    assert by_name == got_model

    # 3. Create Release
    release = await create_release(
        stubs,
        writer_key,
        model.id,
        version="1.0.0",
        tag="v1.0-fp16",
        digest="sha256:abc123...",
        quantization="fp16",
        platform="linux/amd64",
    )
    got_release = await stubs.releases.GetRelease(
        release_service_pb2.GetReleaseRequest(id=release.id), metadata=auth(writer_key)
    )
    assert got_release.image_id == model.id
    assert got_release.version == "1.0.0"
    assert got_release.tag == "v1.0-fp16"
    assert got_release.digest == "sha256:abc123..."
    assert got_release.quantization == "fp16"
    assert got_release.platform == "linux/amd64"
    assert got_release.status == "active", "a new release is active by default"
    assert got_release.model_name == "llama-3-7b-companyA"
    assert got_release.etag
    assert got_release.created_at.seconds > 0

    # 4. Record Artifacts
    artifact = await create_artifact(
        stubs,
        writer_key,
        release.id,
        name="inference-1.0.0-py311.whl",
        artifact_type="wheel",
        file_path="s3://artifacts/inference-1.0.0.whl",
        size_bytes=50000000,
        checksum="sha256:def456...",
        platform="linux_x86_64",
        python_version="3.11",
    )
    got_artifact = await stubs.artifacts.GetArtifact(
        artifact_service_pb2.GetArtifactRequest(id=artifact.id), metadata=auth(writer_key)
    )
    assert got_artifact.release_id == release.id
    assert got_artifact.name == "inference-1.0.0-py311.whl"
    assert got_artifact.artifact_type == "wheel"
    assert got_artifact.file_path == "s3://artifacts/inference-1.0.0.whl"
    assert got_artifact.size_bytes == 50000000
    assert got_artifact.checksum == "sha256:def456..."
    assert got_artifact.platform == "linux_x86_64"
    assert got_artifact.python_version == "3.11"
    assert got_artifact.uploaded_by == "test-writer", "uploaded_by defaults to the calling key's name"
    assert got_artifact.etag
    assert got_artifact.created_at.seconds > 0

    # 5. Deploy to Production
    deployment = await create_deployment(
        stubs,
        writer_key,
        release.id,
        environment="production",
        cluster="k8s-prod-us-west-2",
        k8s_namespace="ml-prod",
        endpoint_url="https://api.companyA.prod/v1/llama",
        replicas=3,
        status="success",
        metadata={"gpu_type": "nvidia-a100", "deployed_via": "argocd"},
    )
    got = await stubs.deployments.GetDeployment(
        deployment_service_pb2.GetDeploymentRequest(id=deployment.id), metadata=auth(writer_key)
    )
    assert got.release_id == release.id
    assert got.environment == "production"
    assert got.cluster == "k8s-prod-us-west-2"
    assert got.k8s_namespace == "ml-prod"
    assert got.endpoint_url == "https://api.companyA.prod/v1/llama"
    assert got.replicas == 3
    assert got.status == "success"
    assert json_format.MessageToDict(got.metadata) == {"gpu_type": "nvidia-a100", "deployed_via": "argocd"}
    assert got.deployed_by == "test-writer", "deployed_by defaults to the calling key's name"
    assert got.deployed_at.seconds > 0, "deployed_at defaults to the time of recording"
    assert not got.HasField("terminated_at")
    assert got.etag
    assert got.created_at.seconds > 0
    # Denormalised, output-only: what is live where, for whom, in one call.
    assert got.model_id == model.id
    assert got.model_name == "llama-3-7b-companyA"
    assert got.company == "CompanyA"
    assert got.release_version == "1.0.0"
    assert got.release_tag == "v1.0-fp16"
    assert got.quantization == "fp16"
    # What Create returned is what Get returns.
    assert deployment == got
