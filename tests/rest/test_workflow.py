"""The design's Example Workflow (steps 1, 3, 4 and 5) as its curl commands, run with the real
curl through Envoy. Only the host:port, the key (in $API_KEY) and the ids from earlier steps
differ from the design document."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from typing import Any

import pytest

from tests.support.rest import Rest

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")

# Copied verbatim from the design document's "Example Workflow".
STEP_1_REGISTER_MODEL = """\
curl -X POST http://localhost/api/v1/images \\
  -H "X-API-Key: $API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "name": "llama-3-7b-companyA",
    "company": "CompanyA",
    "base_model": "llama-3",
    "parameter_count": "7B",
    "storage_path": "s3://ml-models/companyA/llama-3-7b/",
    "tags": ["production", "chatbot"]
  }'
"""

STEP_3_CREATE_RELEASE = """\
curl -X POST http://localhost/api/v1/releases \\
  -H "X-API-Key: $API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "image_id": "uuid-model-123",
    "version": "1.0.0",
    "tag": "v1.0-fp16",
    "digest": "sha256:abc123...",
    "quantization": "fp16",
    "platform": "linux/amd64"
  }'
"""

STEP_4_RECORD_ARTIFACTS = """\
curl -X POST http://localhost/api/v1/artifacts \\
  -H "X-API-Key: $API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "release_id": "uuid-release-456",
    "name": "inference-1.0.0-py311.whl",
    "artifact_type": "wheel",
    "file_path": "s3://artifacts/inference-1.0.0.whl",
    "size_bytes": 50000000,
    "checksum": "sha256:def456...",
    "platform": "linux_x86_64",
    "python_version": "3.11"
  }'
"""

STEP_5_RECORD_DEPLOYMENT = """\
curl -X POST http://localhost/api/v1/deployments \\
  -H "X-API-Key: $API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{
    "release_id": "uuid-release-456",
    "environment": "production",
    "cluster": "k8s-prod-us-west-2",
    "k8s_namespace": "ml-prod",
    "endpoint_url": "https://api.companyA.prod/v1/llama",
    "replicas": 3,
    "status": "success",
    "metadata": {
      "gpu_type": "nvidia-a100",
      "deployed_via": "argocd"
    }
  }'
"""


async def run_curl(command: str, rest: Rest, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a design curl command with bash: localhost → Envoy, placeholder ids → real ones."""
    command = command.replace("http://localhost/", f"http://127.0.0.1:{rest.port}/")
    for placeholder, real in (ids or {}).items():
        command = command.replace(placeholder, real)
    env = {**os.environ, "API_KEY": rest.key}
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        command,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, f"curl failed ({proc.returncode}): {err.decode()}"
    body = json.loads(out)
    assert isinstance(body, dict), out
    assert "code" not in body or "id" in body, f"the call failed: {body}"
    return body


async def test_example_workflow_with_the_designs_curl_commands(rest: Rest) -> None:
    model = await run_curl(STEP_1_REGISTER_MODEL, rest)
    assert model["id"]
    assert model["name"] == "llama-3-7b-companyA"
    assert model["company"] == "CompanyA"
    assert model["base_model"] == "llama-3"
    assert model["parameter_count"] == "7B"
    assert model["storage_path"] == "s3://ml-models/companyA/llama-3-7b/"
    assert model["tags"] == ["production", "chatbot"]
    assert model["created_at"].endswith("Z") and model["etag"]

    release = await run_curl(STEP_3_CREATE_RELEASE, rest, {"uuid-model-123": model["id"]})
    assert release["id"]
    assert release["image_id"] == model["id"]
    assert (release["version"], release["tag"], release["quantization"]) == ("1.0.0", "v1.0-fp16", "fp16")
    assert release["digest"] == "sha256:abc123..."
    assert release["platform"] == "linux/amd64"
    assert release["status"] == "active"
    assert release["model_name"] == "llama-3-7b-companyA"

    artifact = await run_curl(STEP_4_RECORD_ARTIFACTS, rest, {"uuid-release-456": release["id"]})
    assert artifact["id"]
    assert artifact["release_id"] == release["id"]
    assert artifact["artifact_type"] == "wheel"
    assert artifact["python_version"] == "3.11"
    # int64 fields are JSON strings in proto3 JSON (the README says so).
    assert artifact["size_bytes"] == "50000000"
    assert artifact["checksum"] == "sha256:def456..."

    deployment = await run_curl(STEP_5_RECORD_DEPLOYMENT, rest, {"uuid-release-456": release["id"]})
    assert deployment["id"]
    assert deployment["release_id"] == release["id"]
    assert deployment["environment"] == "production"
    assert deployment["cluster"] == "k8s-prod-us-west-2"
    assert deployment["k8s_namespace"] == "ml-prod"
    assert deployment["endpoint_url"] == "https://api.companyA.prod/v1/llama"
    assert deployment["replicas"] == 3  # int32: a JSON number
    assert deployment["status"] == "success"
    assert deployment["metadata"] == {"gpu_type": "nvidia-a100", "deployed_via": "argocd"}
    assert deployment["model_name"] == "llama-3-7b-companyA" and deployment["company"] == "CompanyA"
    assert deployment["deployed_at"].endswith("Z")

    # What the workflow recorded reads back the same way, under /v1 and /api/v1.
    for prefix in ("/v1", "/api/v1"):
        assert await rest.ok("GET", f"{prefix}/images/{model['id']}") == model
        assert await rest.ok("GET", f"{prefix}/models/{model['id']}") == model
        assert await rest.ok("GET", f"{prefix}/releases/{release['id']}") == release
        assert await rest.ok("GET", f"{prefix}/artifacts/{artifact['id']}") == artifact
        assert await rest.ok("GET", f"{prefix}/deployments/{deployment['id']}") == deployment
