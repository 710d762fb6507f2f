"""Client for the Catapult MLOps registry.

``catapult.Client`` (blocking) and ``catapult.AsyncClient`` (asyncio) wrap every RPC of the
``catapult.v1`` API in a method with keyword arguments; failures raise the typed errors of
``catapult.errors``. The generated messages and stubs live in ``catapult.v1``; a dataclass-style
client generated with betterproto2 is in ``catapult.dataclasses`` (extra ``catapult-client[dataclasses]``).

::

    import catapult

    with catapult.Client.from_env() as client:       # CATAPULT_ADDR, CATAPULT_API_KEY
        release = client.get_latest_release("llama-3-7b-companyA", quantization="fp16")
"""

from catapult._async_client import AsyncClient
from catapult._channel import DEFAULT_TIMEOUT
from catapult._client import Client
from catapult._convert import as_datetime, as_dict
from catapult._retry import RetryPolicy
from catapult._watch import AsyncWatch, Watch
from catapult.errors import (
    AlreadyExistsError,
    CatapultError,
    ConflictError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
)
from catapult.v1.api_key_pb2 import ApiKey
from catapult.v1.api_key_service_pb2 import CreateApiKeyResponse
from catapult.v1.artifact_pb2 import Artifact
from catapult.v1.artifact_service_pb2 import DeleteArtifactResponse
from catapult.v1.audit_log_pb2 import AuditLog
from catapult.v1.change_pb2 import ChangeEvent
from catapult.v1.deployment_pb2 import Deployment
from catapult.v1.model_pb2 import Model
from catapult.v1.model_service_pb2 import DeleteModelResponse
from catapult.v1.release_pb2 import Release
from catapult.v1.release_service_pb2 import DeleteReleaseResponse
from catapult.v1.system_pb2 import SystemInfo
from catapult.v1.system_service_pb2 import HealthResponse

__version__ = "0.2.0"

__all__ = [
    "DEFAULT_TIMEOUT",
    "AlreadyExistsError",
    "ApiKey",
    "Artifact",
    "AsyncClient",
    "AsyncWatch",
    "AuditLog",
    "CatapultError",
    "ChangeEvent",
    "Client",
    "ConflictError",
    "CreateApiKeyResponse",
    "DeadlineExceededError",
    "DeleteArtifactResponse",
    "DeleteModelResponse",
    "DeleteReleaseResponse",
    "Deployment",
    "FailedPreconditionError",
    "FieldViolation",
    "HealthResponse",
    "InternalError",
    "InvalidArgumentError",
    "Model",
    "NotFoundError",
    "PermissionDeniedError",
    "Release",
    "ResourceExhaustedError",
    "RetryPolicy",
    "SystemInfo",
    "UnauthenticatedError",
    "UnavailableError",
    "Watch",
    "__version__",
    "as_datetime",
    "as_dict",
]
