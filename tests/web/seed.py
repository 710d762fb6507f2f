"""The registry the browser tests look at, recorded through the Python SDK as a release pipeline
would: three companies' models with releases (one deprecated), artifacts (one checksum shared by
two releases, for the blast radius), live deployments in every environment and a terminated one.
Names are fixed so tests can find them; `SEED` describes what was made."""

from __future__ import annotations

from dataclasses import dataclass, field

import catapult

SHARED_CHECKSUM = "sha256:5eed0000shared0checksum0of0tokenizer0wheel"
TAGS = {"production", "chatbot"}


@dataclass
class Seeded:
    model_ids: dict[str, str] = field(default_factory=dict)  # name → id
    release_ids: dict[str, str] = field(default_factory=dict)  # "model@version" → id
    deployment_ids: dict[str, str] = field(default_factory=dict)  # endpoint → id (the live one)
    terminated_endpoint: str = ""


MODELS = [
    # name, company, base model, parameters, tags
    ("llama-3-7b-companyA", "CompanyA", "llama-3", "7B", ["production", "chatbot"]),
    ("llama-3-70b-companyA", "CompanyA", "llama-3", "70B", ["production"]),
    ("mistral-7b-companyB", "CompanyB", "mistral", "7B", ["experimental"]),
    ("qwen-2-72b-companyC", "CompanyC", "qwen-2", "72B", ["production", "chatbot", "multilingual"]),
    ("gpt-4-distill-companyB", "CompanyB", "gpt-4", "13B", []),
]


def seed(client: catapult.Client) -> Seeded:
    seeded = Seeded()
    for name, company, base, params, tags in MODELS:
        model = client.create_model(
            name,
            storage_path=f"s3://ml-models/{company.lower()}/{name}/",
            company=company,
            base_model=base,
            parameter_count=params,
            tags=tags,
            description=f"{base} {params} fine-tuned for {company}",
            metadata={"training_date": "2026-01-15", "dataset": f"{company.lower()}-support-v3"},
        )
        seeded.model_ids[name] = model.id
        for minor in range(3):
            shared = minor == 2 and company == "CompanyA"
            version = f"1.{minor}.0"
            release = client.create_release(
                model.id,
                version,
                tag=f"v1.{minor}-fp16",
                digest=f"sha256:{name}-{version}".replace(".", "-"),
                quantization="fp16",
                size_bytes=15_000_000_000,
                platform="linux/amd64",
                release_notes=f"{name} {version}",
            )
            seeded.release_ids[f"{name}@{version}"] = release.id
            client.create_artifact(
                release.id,
                f"inference-{version}-py311.whl",
                artifact_type="wheel",
                file_path=f"s3://artifacts/{name}/inference-{version}.whl",
                size_bytes=42_000_000,
                checksum=SHARED_CHECKSUM if shared else f"sha256:{name}-{minor}",
                platform="linux_x86_64",
                python_version="3.11",
            )
    client.deprecate_release(seeded.release_ids["llama-3-7b-companyA@1.0.0"])

    live = [
        (
            "llama-3-7b-companyA",
            "1.2.0",
            "production",
            "k8s-prod-us-west-2",
            "https://api.companyA.prod/v1/llama",
        ),
        ("llama-3-7b-companyA", "1.2.0", "staging", "k8s-staging-1", "https://api.companyA.staging/v1/llama"),
        (
            "llama-3-70b-companyA",
            "1.2.0",
            "production",
            "k8s-prod-eu-1",
            "https://api.companyA.prod/v1/llama-70b",
        ),
        ("mistral-7b-companyB", "1.1.0", "development", "k8s-dev-1", "https://api.companyB.dev/v1/mistral"),
        (
            "qwen-2-72b-companyC",
            "1.2.0",
            "production",
            "k8s-prod-us-east-1",
            "https://api.companyC.prod/v1/qwen",
        ),
    ]
    for name, version, environment, cluster, endpoint in live:
        deployment = client.record_deployment(
            seeded.release_ids[f"{name}@{version}"],
            environment=environment,
            cluster=cluster,
            k8s_namespace="ml-prod" if environment == "production" else f"ml-{environment}",
            endpoint_url=endpoint,
            replicas=3,
            status="success",
            metadata={"gpu_type": "nvidia-a100"},
        )
        seeded.deployment_ids[endpoint] = deployment.id
    old = client.record_deployment(
        seeded.release_ids["mistral-7b-companyB@1.0.0"],
        environment="production",
        cluster="k8s-prod-us-west-2",
        endpoint_url="https://api.companyB.prod/v1/mistral",
        replicas=2,
        status="success",
    )
    client.terminate_deployment(old.id)
    seeded.terminated_endpoint = old.endpoint_url
    return seeded


if __name__ == "__main__":
    import sys

    address, key_file = sys.argv[1], sys.argv[2]
    with catapult.Client(address, api_key=open(key_file).read().strip()) as client:
        print(seed(client))
