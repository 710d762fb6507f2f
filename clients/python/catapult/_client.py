"""The blocking client. Generated from _async_client.py by clients/python/scripts/unasync.py:
do not edit; edit _async_client.py and run clients/python/generate.sh."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc
from google.protobuf.message import Message

from catapult import _rpcs as rpcs
from catapult._channel import DEFAULT_TIMEOUT, config_from_env
from catapult._convert import is_uuid, message, model_filter, update
from catapult._retry import RetryPolicy
from catapult._transport import SyncTransport
from catapult._watch import Watch
from catapult.errors import NotFoundError
from catapult.v1 import (
    api_key_pb2,
    api_key_service_pb2,
    artifact_pb2,
    artifact_service_pb2,
    audit_log_pb2,
    audit_log_service_pb2,
    change_service_pb2,
    deployment_pb2,
    deployment_service_pb2,
    model_pb2,
    model_service_pb2,
    release_pb2,
    release_service_pb2,
    system_pb2,
    system_service_pb2,
)

T = TypeVar("T")
ListReq = TypeVar("ListReq", bound=Message)
ListResp = TypeVar("ListResp", bound=Message)


def _request_id(request_id: str | None) -> str:
    """The idempotency key of one logical create: generated once, reused by every retry."""
    return request_id or str(uuid.uuid4())


class Client:
    """Client of the Catapult registry, for blocking code.

    ::

        with Client("localhost:50051", api_key=KEY) as client:
            model = client.get_model("llama-3-7b-companyA")

    Every method takes keyword arguments in plain Python (dicts for ``metadata``, ``datetime`` for
    timestamps) and returns the ``catapult.v1`` protobuf message of the result (``catapult.Model``,
    ``catapult.Release``, …); ``list_*`` methods iterate over every page lazily. A failed call raises
    a :class:`catapult.CatapultError` subclass. Calls that are safe to repeat are retried on
    ``UNAVAILABLE`` (see :class:`catapult.RetryPolicy`); creates send a ``request_id`` so a retried
    create never makes a second resource.

    Args:
        target: the server's gRPC address, e.g. ``"localhost:50051"``.
        api_key: the API key, sent as ``x-api-key`` metadata with every call.
        tls: True for TLS with the default root certificates, or ``grpc.ChannelCredentials``.
        timeout: seconds each call may take, retries included (None: no limit); a call's own
            ``timeout=`` argument overrides it.
        retry: the retry policy for UNAVAILABLE; ``RetryPolicy.disabled()`` turns retries off.
        options: extra grpc channel options, e.g. ``[("grpc.max_receive_message_length", 8 << 20)]``.
    """

    def __init__(
        self,
        target: str,
        *,
        api_key: str | None = None,
        tls: bool | grpc.ChannelCredentials = False,
        timeout: float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self._transport = SyncTransport(
            target, api_key=api_key, tls=tls, timeout=timeout, retry=retry, options=options
        )

    @classmethod
    def from_env(
        cls,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        options: Sequence[tuple[str, Any]] = (),
    ) -> Self:
        """A client configured from the environment: ``CATAPULT_ADDR`` (the gRPC address, required),
        ``CATAPULT_API_KEY`` and ``CATAPULT_TLS`` (``1``/``true`` for TLS).

        Raises:
            ValueError: CATAPULT_ADDR is missing, or CATAPULT_TLS is not a boolean.
        """
        config = config_from_env()
        return cls(
            config.target,
            api_key=config.api_key,
            tls=config.tls,
            timeout=timeout,
            retry=retry,
            options=options,
        )

    @property
    def target(self) -> str:
        """The server address this client talks to."""
        return self._transport.target

    def close(self) -> None:
        """Close the channel. The client cannot be used afterwards."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- helpers ---------------------------------------------------------------------------

    def _pages(
        self,
        rpc: rpcs.Rpc[ListReq, ListResp],
        request: ListReq,
        items: Callable[[ListResp], Iterable[T]],
        timeout: float | None,
    ) -> Iterator[T]:
        """Every item of a List RPC, fetching the next page only when the previous one is used up."""
        while True:
            page = self._transport.call(rpc, request, timeout=timeout)
            yield from items(page)
            token: str = getattr(page, "next_page_token", "")
            if not token:
                return
            setattr(request, "page_token", token)  # noqa: B010 -- every List request has page_token

    def _model_id(self, model: str, timeout: float | None) -> str:
        """The id of a model given by id or by name."""
        if is_uuid(model):
            return model
        return (self.get_model_by_name(model, timeout=timeout)).id

    # --- models ----------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        storage_path: str,
        company: str | None = None,
        base_model: str | None = None,
        parameter_count: str | None = None,
        repository: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        metadata: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> model_pb2.Model:
        """Register a model.

        Args:
            name: unique name, e.g. ``"llama-3-7b-companyA"``.
            storage_path: where the checkpoint lives, e.g. ``"s3://ml-models/companyA/llama-3-7b/"``.
            company, base_model, parameter_count, repository, description: optional descriptive fields.
            tags: e.g. ``["production", "chatbot"]``.
            metadata: any JSON-like dict (numbers come back as floats).
            request_id: idempotency key; one is generated when omitted, and reused by retries.
            timeout: seconds for this call, overriding the client's.

        Raises:
            AlreadyExistsError: the name is taken.
            InvalidArgumentError: a field is missing or invalid (see ``field_violations``).
        """
        model = message(
            model_pb2.Model,
            name=name,
            storage_path=storage_path,
            company=company,
            base_model=base_model,
            parameter_count=parameter_count,
            repository=repository,
            description=description,
            tags=list(tags),
            metadata=metadata,
        )
        request = model_service_pb2.CreateModelRequest(model=model, request_id=_request_id(request_id))
        return self._transport.call(rpcs.CREATE_MODEL, request, timeout=timeout, retry=True)

    def get_model(self, model: str, *, timeout: float | None = None) -> model_pb2.Model:
        """A model by id or by name (a UUID is taken as an id, anything else as a name).

        Raises:
            NotFoundError: no such model.
        """
        if is_uuid(model):
            request = model_service_pb2.GetModelRequest(id=model)
            return self._transport.call(rpcs.GET_MODEL, request, timeout=timeout)
        return self.get_model_by_name(model, timeout=timeout)

    def get_model_by_name(self, name: str, *, timeout: float | None = None) -> model_pb2.Model:
        """A model by its unique name, even a name that looks like a UUID.

        Raises:
            NotFoundError: no model has this name.
        """
        request = model_service_pb2.GetModelByNameRequest(name=name)
        return self._transport.call(rpcs.GET_MODEL_BY_NAME, request, timeout=timeout)

    def list_models(
        self,
        *,
        search: str | None = None,
        company: str | None = None,
        tags: Sequence[str] = (),
        base_model: str | None = None,
        parameter_count: str | None = None,
        order_by: str | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> Iterator[model_pb2.Model]:
        """Every model matching all the filters given, fetched page by page as you iterate.

        Args:
            search: case-insensitive substring of the name.
            company, base_model, parameter_count: exact values.
            tags: tags the model must all carry.
            order_by: ``"created_at desc"`` (default), ``"created_at"``, ``"name"``, ``"name desc"``,
                ``"updated_at"``, ``"updated_at desc"``.
            page_size: models fetched per call (0: the server's default, 50; at most 1000).
            timeout: seconds for each page's call.
        """
        request = message(
            model_service_pb2.ListModelsRequest,
            search=search,
            company=company,
            tag=list(tags),
            base_model=base_model,
            parameter_count=parameter_count,
            order_by=order_by,
            page_size=page_size,
        )
        yield from self._pages(rpcs.LIST_MODELS, request, lambda page: page.models, timeout)

    def update_model(
        self,
        model: str,
        *,
        name: str | None = None,
        company: str | None = None,
        base_model: str | None = None,
        parameter_count: str | None = None,
        storage_path: str | None = None,
        repository: str | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        etag: str | None = None,
        timeout: float | None = None,
    ) -> model_pb2.Model:
        """Change the fields given and leave the others as they are; ``""``, ``[]`` or ``{}`` clears one.

        Args:
            model: the model's id or name.
            etag: the etag you read; the update happens only if the model has not changed since.

        Raises:
            ConflictError: ``etag`` is stale (reason ``ETAG_MISMATCH``).
            AlreadyExistsError: renaming onto a taken name.
            NotFoundError: no such model.
        """
        model_id = self._model_id(model, timeout)
        resource, mask = update(
            model_pb2.Model,
            model_id,
            {
                "name": name,
                "company": company,
                "base_model": base_model,
                "parameter_count": parameter_count,
                "storage_path": storage_path,
                "repository": repository,
                "description": description,
                "tags": None if tags is None else list(tags),
                "metadata": metadata,
            },
        )
        request = model_service_pb2.UpdateModelRequest(model=resource, update_mask=mask, etag=etag or "")
        return self._transport.call(rpcs.UPDATE_MODEL, request, timeout=timeout, retry=etag is None)

    def delete_model(
        self,
        model: str,
        *,
        force: bool = False,
        etag: str | None = None,
        timeout: float | None = None,
    ) -> model_service_pb2.DeleteModelResponse:
        """Delete a model (by id or name). With ``force``, its releases, their artifacts and
        deployment history go with it; the response counts them. What is live is never deleted.

        Raises:
            FailedPreconditionError: the model is live (``HAS_LIVE_DEPLOYMENTS``: terminate those
                deployments first, even with ``force``), or has releases and ``force`` is not set
                (``HAS_CHILDREN``).
            ConflictError: ``etag`` is stale.
            NotFoundError: no such model.
        """
        model_id = self._model_id(model, timeout)
        request = model_service_pb2.DeleteModelRequest(id=model_id, force=force, etag=etag or "")
        return self._transport.call(rpcs.DELETE_MODEL, request, timeout=timeout, retry=False)

    def get_model_rollout(
        self, model: str, *, timeout: float | None = None
    ) -> model_service_pb2.ModelRollout:
        """What is live where for a model (by id or name): per environment, its live deployments,
        each with its slot (cluster, namespace, endpoint), since when, and its release (version,
        tag, quantization, digest).

        Raises:
            NotFoundError: no such model.
        """
        if is_uuid(model):
            request = model_service_pb2.GetModelRolloutRequest(id=model)
        else:
            request = model_service_pb2.GetModelRolloutRequest(model_name=model)
        return self._transport.call(rpcs.GET_MODEL_ROLLOUT, request, timeout=timeout)

    # --- releases --------------------------------------------------------------------------

    def create_release(
        self,
        model: str,
        version: str,
        *,
        tag: str | None = None,
        digest: str | None = None,
        quantization: str | None = None,
        size_bytes: int | None = None,
        platform: str | None = None,
        architecture: str | None = None,
        os: str | None = None,
        status: str | None = None,
        release_notes: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> release_pb2.Release:
        """Record a release (a Docker image) of a model.

        Args:
            model: the model's id or name.
            version: e.g. ``"1.0.0"``; unique per model together with ``quantization``.
            tag: Docker tag, e.g. ``"v1.0-fp16"``.
            digest: image digest, ``"sha256:…"``.
            quantization: any lowercase token, e.g. ``"fp16"``, ``"int8"``, ``"awq"``, ``"q4_k_m"``;
                none if omitted.
            status: ``"active"`` (the default) or ``"deprecated"``.
            metadata: any JSON-like dict, e.g. training metrics.
            request_id: idempotency key; one is generated when omitted, and reused by retries.

        Raises:
            NotFoundError: no such model.
            AlreadyExistsError: the model already has this version at this quantization.
            InvalidArgumentError: a field is missing or invalid.
        """
        release = message(
            release_pb2.Release,
            image_id=self._model_id(model, timeout),
            version=version,
            tag=tag,
            digest=digest,
            quantization=quantization,
            size_bytes=size_bytes,
            platform=platform,
            architecture=architecture,
            os=os,
            status=status,
            release_notes=release_notes,
            metadata=metadata,
        )
        request = release_service_pb2.CreateReleaseRequest(
            release=release, request_id=_request_id(request_id)
        )
        return self._transport.call(rpcs.CREATE_RELEASE, request, timeout=timeout, retry=True)

    def get_release(self, id: str, *, timeout: float | None = None) -> release_pb2.Release:
        """A release by id.

        Raises:
            NotFoundError: no such release.
        """
        request = release_service_pb2.GetReleaseRequest(id=id)
        return self._transport.call(rpcs.GET_RELEASE, request, timeout=timeout)

    def get_latest_release(
        self,
        model: str,
        *,
        quantization: str | None = None,
        environment: str | None = None,
        timeout: float | None = None,
    ) -> release_pb2.Release:
        """The newest release of a model (by id or name), optionally of one quantization, and
        optionally only among releases with a successful, live deployment in ``environment``.

        Raises:
            NotFoundError: no such model, or no release matches.
        """
        request = message(
            release_service_pb2.GetLatestReleaseRequest,
            image_id=model if is_uuid(model) else None,
            model_name=None if is_uuid(model) else model,
            quantization=quantization,
            environment=environment,
        )
        return self._transport.call(rpcs.GET_LATEST_RELEASE, request, timeout=timeout)

    def list_releases(
        self,
        model: str | None = None,
        *,
        version: str | None = None,
        quantization: str | None = None,
        status: str | None = None,
        digest: str | None = None,
        order_by: str | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> Iterator[release_pb2.Release]:
        """Every release matching all the filters given, fetched page by page as you iterate.

        Args:
            model: releases of this model (id or name).
            version, quantization: exact values.
            status: ``"active"`` or ``"deprecated"``.
            digest: releases that are this image, e.g. ``"sha256:…"``.
            order_by: ``"created_at desc"`` (default), ``"created_at"``, ``"version"`` (semantic
                version order), ``"version desc"``.
            page_size: releases fetched per call (0: the server's default).
        """
        request = message(
            release_service_pb2.ListReleasesRequest,
            image_id=model if model is not None and is_uuid(model) else None,
            model_name=model if model is not None and not is_uuid(model) else None,
            version=version,
            quantization=quantization,
            status=status,
            digest=digest,
            order_by=order_by,
            page_size=page_size,
        )
        yield from self._pages(rpcs.LIST_RELEASES, request, lambda page: page.releases, timeout)

    def update_release(
        self,
        id: str,
        *,
        version: str | None = None,
        tag: str | None = None,
        digest: str | None = None,
        quantization: str | None = None,
        size_bytes: int | None = None,
        platform: str | None = None,
        architecture: str | None = None,
        os: str | None = None,
        status: str | None = None,
        release_notes: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        etag: str | None = None,
        timeout: float | None = None,
    ) -> release_pb2.Release:
        """Change the fields given of a release and leave the others; ``""`` or ``{}`` clears one.

        Raises:
            ConflictError: ``etag`` is stale.
            AlreadyExistsError: the new version and quantization are taken.
            NotFoundError: no such release.
        """
        resource, mask = update(
            release_pb2.Release,
            id,
            {
                "version": version,
                "tag": tag,
                "digest": digest,
                "quantization": quantization,
                "size_bytes": size_bytes,
                "platform": platform,
                "architecture": architecture,
                "os": os,
                "status": status,
                "release_notes": release_notes,
                "metadata": metadata,
            },
        )
        request = release_service_pb2.UpdateReleaseRequest(
            release=resource, update_mask=mask, etag=etag or ""
        )
        return self._transport.call(rpcs.UPDATE_RELEASE, request, timeout=timeout, retry=etag is None)

    def deprecate_release(
        self, id: str, *, etag: str | None = None, timeout: float | None = None
    ) -> release_pb2.Release:
        """Mark a release deprecated: recording a deployment of it then needs ``force=True``.

        Raises:
            ConflictError: ``etag`` is stale.
            NotFoundError: no such release.
        """
        return self.update_release(id, status="deprecated", etag=etag, timeout=timeout)

    def delete_release(
        self,
        id: str,
        *,
        force: bool = False,
        etag: str | None = None,
        timeout: float | None = None,
    ) -> release_service_pb2.DeleteReleaseResponse:
        """Delete a release. With ``force``, its artifacts and deployment records go with it.

        Raises:
            FailedPreconditionError: it has artifacts or deployments and ``force`` is not set.
            ConflictError: ``etag`` is stale.
            NotFoundError: no such release.
        """
        request = release_service_pb2.DeleteReleaseRequest(id=id, force=force, etag=etag or "")
        return self._transport.call(rpcs.DELETE_RELEASE, request, timeout=timeout, retry=False)

    # --- artifacts -------------------------------------------------------------------------

    def create_artifact(
        self,
        release_id: str,
        name: str,
        *,
        artifact_type: str,
        file_path: str,
        size_bytes: int | None = None,
        checksum: str | None = None,
        platform: str | None = None,
        python_version: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        uploaded_by: str | None = None,
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> artifact_pb2.Artifact:
        """Record a wheel, binary or archive baked into a release.

        Args:
            release_id: the release's id.
            name: file name, e.g. ``"inference-1.0.0-py311.whl"``.
            artifact_type: ``"wheel"``, ``"binary"``, ``"sdist"`` or ``"tarball"``.
            file_path: where the file is stored.
            uploaded_by: defaults to the name of the API key.
            request_id: idempotency key; one is generated when omitted, and reused by retries.

        Raises:
            NotFoundError: no such release.
            InvalidArgumentError: a field is missing or invalid.
        """
        artifact = message(
            artifact_pb2.Artifact,
            release_id=release_id,
            name=name,
            artifact_type=artifact_type,
            file_path=file_path,
            size_bytes=size_bytes,
            checksum=checksum,
            platform=platform,
            python_version=python_version,
            metadata=metadata,
            uploaded_by=uploaded_by,
        )
        request = artifact_service_pb2.CreateArtifactRequest(
            artifact=artifact, request_id=_request_id(request_id)
        )
        return self._transport.call(rpcs.CREATE_ARTIFACT, request, timeout=timeout, retry=True)

    def get_artifact(self, id: str, *, timeout: float | None = None) -> artifact_pb2.Artifact:
        """An artifact by id.

        Raises:
            NotFoundError: no such artifact.
        """
        request = artifact_service_pb2.GetArtifactRequest(id=id)
        return self._transport.call(rpcs.GET_ARTIFACT, request, timeout=timeout)

    def list_artifacts(
        self,
        release_id: str | None = None,
        *,
        artifact_type: str | None = None,
        checksum: str | None = None,
        order_by: str | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> Iterator[artifact_pb2.Artifact]:
        """Every artifact matching all the filters given, fetched page by page as you iterate.

        Args:
            release_id: artifacts of this release.
            artifact_type: ``"wheel"``, ``"binary"``, ``"sdist"`` or ``"tarball"``.
            checksum: exact checksum, e.g. to find which releases carry a file.
            order_by: ``"created_at desc"`` (default), ``"created_at"``, ``"name"``, ``"name desc"``.
        """
        request = message(
            artifact_service_pb2.ListArtifactsRequest,
            release_id=release_id,
            artifact_type=artifact_type,
            checksum=checksum,
            order_by=order_by,
            page_size=page_size,
        )
        yield from self._pages(rpcs.LIST_ARTIFACTS, request, lambda page: page.artifacts, timeout)

    def update_artifact(
        self,
        id: str,
        *,
        name: str | None = None,
        artifact_type: str | None = None,
        file_path: str | None = None,
        size_bytes: int | None = None,
        checksum: str | None = None,
        platform: str | None = None,
        python_version: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        uploaded_by: str | None = None,
        etag: str | None = None,
        timeout: float | None = None,
    ) -> artifact_pb2.Artifact:
        """Change the fields given of an artifact and leave the others; ``""`` or ``{}`` clears one.

        Raises:
            ConflictError: ``etag`` is stale.
            NotFoundError: no such artifact.
        """
        resource, mask = update(
            artifact_pb2.Artifact,
            id,
            {
                "name": name,
                "artifact_type": artifact_type,
                "file_path": file_path,
                "size_bytes": size_bytes,
                "checksum": checksum,
                "platform": platform,
                "python_version": python_version,
                "metadata": metadata,
                "uploaded_by": uploaded_by,
            },
        )
        request = artifact_service_pb2.UpdateArtifactRequest(
            artifact=resource, update_mask=mask, etag=etag or ""
        )
        return self._transport.call(rpcs.UPDATE_ARTIFACT, request, timeout=timeout, retry=etag is None)

    def delete_artifact(
        self, id: str, *, etag: str | None = None, timeout: float | None = None
    ) -> artifact_service_pb2.DeleteArtifactResponse:
        """Delete an artifact record.

        Raises:
            ConflictError: ``etag`` is stale.
            NotFoundError: no such artifact.
        """
        request = artifact_service_pb2.DeleteArtifactRequest(id=id, etag=etag or "")
        return self._transport.call(rpcs.DELETE_ARTIFACT, request, timeout=timeout, retry=False)

    # --- deployments -----------------------------------------------------------------------

    def _release_of(self, model: str, version: str, quantization: str | None, timeout: float | None) -> str:
        """The id of the release of ``model`` at ``version`` (and ``quantization``)."""
        matches = [
            release
            for release in self.list_releases(model, version=version, timeout=timeout)
            if quantization is None or release.quantization == quantization
        ]
        if not matches:
            wanted = f"{model} {version}"
            if quantization is not None:
                wanted += f" ({quantization or 'no quantization'})"
            raise NotFoundError(
                f"no release {wanted}",
                reason="RESOURCE_NOT_FOUND",
                resource_type="catapult.v1.Release",
                resource_name=wanted,
            )
        if len(matches) > 1:
            found = ", ".join(sorted(repr(release.quantization) for release in matches))
            raise ValueError(
                f"{model} {version} has releases of several quantizations ({found}): pass quantization"
            )
        return matches[0].id

    def record_deployment(
        self,
        release_id: str | None = None,
        *,
        model: str | None = None,
        version: str | None = None,
        quantization: str | None = None,
        environment: str,
        cluster: str | None = None,
        k8s_namespace: str | None = None,
        endpoint_url: str | None = None,
        replicas: int | None = None,
        status: str | None = None,
        deployed_by: str | None = None,
        deployed_at: datetime | None = None,
        metadata: Mapping[str, Any] | None = None,
        force: bool = False,
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> deployment_pb2.Deployment:
        """Record that a release is deployed. Recorded as ``"success"`` (the default) it is live:
        it supersedes what was live in its slot (the same environment and endpoint, or without
        an endpoint the same model, environment, cluster and namespace), and ``replaces_id``
        names what it replaced. Record ``"deploying"`` first and update it to ``"success"`` later
        to mark a rollout that takes time.

        Name the release by ``release_id``, or by ``model`` (id or name), ``version`` and, when the
        version exists at several quantizations, ``quantization`` (``""`` for none).

        Args:
            environment: any lowercase token, e.g. ``"production"``, ``"staging"``, ``"development"``.
            status: ``"success"`` (the default: live), ``"deploying"``, ``"failed"`` or ``"terminated"``.
            deployed_at: defaults to now.
            force: record it even though the release is deprecated.
            request_id: idempotency key; one is generated when omitted, and reused by retries.

        Raises:
            FailedPreconditionError: the release is deprecated and ``force`` is not set
                (``RELEASE_DEPRECATED``).
            NotFoundError: no such release.
            ValueError: neither ``release_id`` nor ``model`` and ``version`` given, or both; or the
                version exists at several quantizations and ``quantization`` is not given.
        """
        if release_id is None:
            if model is None or version is None:
                raise ValueError("record_deployment needs release_id, or model and version")
            release_id = self._release_of(model, version, quantization, timeout)
        elif model is not None or version is not None or quantization is not None:
            raise ValueError("give release_id, or model and version (and quantization), not both")
        deployment = message(
            deployment_pb2.Deployment,
            release_id=release_id,
            environment=environment,
            cluster=cluster,
            k8s_namespace=k8s_namespace,
            endpoint_url=endpoint_url,
            replicas=replicas,
            status=status,
            deployed_by=deployed_by,
            deployed_at=deployed_at,
            metadata=metadata,
        )
        request = deployment_service_pb2.CreateDeploymentRequest(
            deployment=deployment, force=force, request_id=_request_id(request_id)
        )
        return self._transport.call(rpcs.CREATE_DEPLOYMENT, request, timeout=timeout, retry=True)

    def get_deployment(self, id: str, *, timeout: float | None = None) -> deployment_pb2.Deployment:
        """A deployment by id, with its model's name and company and its release's version.

        Raises:
            NotFoundError: no such deployment.
        """
        request = deployment_service_pb2.GetDeploymentRequest(id=id)
        return self._transport.call(rpcs.GET_DEPLOYMENT, request, timeout=timeout)

    def list_deployments(
        self,
        *,
        environment: str | None = None,
        status: str | None = None,
        model: str | None = None,
        release_id: str | None = None,
        company: str | None = None,
        cluster: str | None = None,
        k8s_namespace: str | None = None,
        endpoint_url: str | None = None,
        active_only: bool = False,
        live_at: datetime | None = None,
        digest: str | None = None,
        artifact_checksum: str | None = None,
        release_status: str | None = None,
        deployed_after: datetime | None = None,
        deployed_before: datetime | None = None,
        order_by: str | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> Iterator[deployment_pb2.Deployment]:
        """Every deployment matching all the filters given, newest first, fetched page by page.

        ``list_deployments(environment="production", active_only=True)`` answers "what is live in
        production"; ``list_deployments(endpoint_url=url)`` is the endpoint's history, each with
        ``replaces_id`` and ``superseded_by_id``.

        Args:
            model: deployments of any release of this model (id or name).
            active_only: only live deployments (status ``"success"``: not superseded, not terminated).
            live_at: only deployments live at this moment (``live_since <= live_at < terminated_at``).
            digest: deployments of releases that are this image.
            artifact_checksum: deployments of releases carrying an artifact with this checksum.
            release_status: deployments of releases with this status, ``"active"`` or ``"deprecated"``.
            deployed_after, deployed_before: a time window (``deployed_at >= after``, ``< before``).
            order_by: ``"deployed_at desc"`` (default), ``"deployed_at"``, ``"created_at desc"``,
                ``"created_at"``.
        """
        request = message(
            deployment_service_pb2.ListDeploymentsRequest,
            environment=environment,
            status=status,
            **model_filter(model),
            release_id=release_id,
            company=company,
            cluster=cluster,
            k8s_namespace=k8s_namespace,
            endpoint_url=endpoint_url,
            active_only=active_only,
            live_at=live_at,
            digest=digest,
            artifact_checksum=artifact_checksum,
            release_status=release_status,
            deployed_after=deployed_after,
            deployed_before=deployed_before,
            order_by=order_by,
            page_size=page_size,
        )
        yield from self._pages(rpcs.LIST_DEPLOYMENTS, request, lambda page: page.deployments, timeout)

    def update_deployment(
        self,
        id: str,
        *,
        environment: str | None = None,
        cluster: str | None = None,
        k8s_namespace: str | None = None,
        endpoint_url: str | None = None,
        replicas: int | None = None,
        status: str | None = None,
        deployed_by: str | None = None,
        deployed_at: datetime | None = None,
        metadata: Mapping[str, Any] | None = None,
        etag: str | None = None,
        timeout: float | None = None,
    ) -> deployment_pb2.Deployment:
        """Change the fields given of a deployment, e.g. ``status="success"`` or ``replicas=5``.
        Setting status ``"terminated"`` also sets ``terminated_at``.

        Raises:
            ConflictError: ``etag`` is stale.
            NotFoundError: no such deployment.
        """
        resource, mask = update(
            deployment_pb2.Deployment,
            id,
            {
                "environment": environment,
                "cluster": cluster,
                "k8s_namespace": k8s_namespace,
                "endpoint_url": endpoint_url,
                "replicas": replicas,
                "status": status,
                "deployed_by": deployed_by,
                "deployed_at": deployed_at,
                "metadata": metadata,
            },
        )
        request = deployment_service_pb2.UpdateDeploymentRequest(
            deployment=resource, update_mask=mask, etag=etag or ""
        )
        return self._transport.call(rpcs.UPDATE_DEPLOYMENT, request, timeout=timeout, retry=etag is None)

    def terminate_deployment(
        self, id: str, *, etag: str | None = None, timeout: float | None = None
    ) -> deployment_pb2.Deployment:
        """Mark a deployment terminated and return it; the record is kept. Terminating a
        terminated deployment returns it unchanged.

        Raises:
            ConflictError: ``etag`` is stale.
            NotFoundError: no such deployment.
        """
        request = deployment_service_pb2.DeleteDeploymentRequest(id=id, etag=etag or "")
        return self._transport.call(rpcs.DELETE_DEPLOYMENT, request, timeout=timeout, retry=etag is None)

    def watch_deployments(
        self,
        *,
        environment: str | None = None,
        status: str | None = None,
        model: str | None = None,
        release_id: str | None = None,
        company: str | None = None,
        cluster: str | None = None,
        k8s_namespace: str | None = None,
        endpoint_url: str | None = None,
        active_only: bool = False,
        digest: str | None = None,
        release_status: str | None = None,
        cursor: str | None = None,
        timeout: float | None = None,
    ) -> Watch:
        """The changes to deployments matching all the filters given, as they commit, in commit
        order, each once: ``for event in client.watch_deployments(environment="production")``.
        Each event is a :class:`catapult.ChangeEvent`: its ``type`` (``"created"``, ``"updated"``,
        ``"superseded"``, ``"terminated"``, ``"deleted"``), its ``deployment`` as it is after the
        change, who made it (``api_key_name``) and when (``time``).

        The watch starts now, or after ``cursor``. It never ends by itself, and survives what ends a
        stream: when the server restarts, the connection drops or the server cuts off a watch read
        too slowly, it opens a new stream from the last cursor it received (with the client's
        RetryPolicy), so what commits meanwhile arrives afterwards and nothing twice. Heartbeats
        (an idle stream's keep-alive) only move ``watch.cursor``, where the watch stands: keep it to
        watch again later from there. ``with client.watch_deployments(...) as watch:`` puts
        the stream in place before the block runs (every change committed in it is delivered) and
        cancels it after; breaking out of the loop cancels it too, and ``watch.close()`` does
        at once. Errors are raised by the iteration.

        Args:
            environment: any lowercase token, e.g. ``"production"``, ``"staging"``.
            status: only deployments with this status after the change: ``"deploying"``,
                ``"success"``, ``"failed"`` or ``"terminated"``.
            model: deployments of any release of this model (id or name).
            active_only: only deployments that are live after the change, or stopped being live by
                it: a new deployment arriving and the one it superseded leaving.
            digest: deployments of releases that are this image.
            release_status: deployments of releases with this status after the change, ``"active"``
                or ``"deprecated"``.
            cursor: start after this cursor (an event's, or a watch's ``cursor``): every later change.
            timeout: seconds the whole watch may take, reconnections included, before it raises
                DeadlineExceededError. The default is no limit: the client's ``timeout`` does not
                apply to watches.

        Raises:
            InvalidArgumentError: a filter or the cursor is invalid.
            FailedPreconditionError: ``CURSOR_EXPIRED``: the changes after ``cursor`` were pruned;
                list what you need again, then watch without a cursor.
            ResourceExhaustedError: ``TOO_MANY_WATCHES``: the key or the server has as many watches
                open as it may.
            UnauthenticatedError: the key is unknown, or was revoked or expired while watching.
            UnavailableError: the server stayed out of reach for all the retry policy's attempts.
        """
        request = message(
            deployment_service_pb2.WatchDeploymentsRequest,
            environment=environment,
            status=status,
            **model_filter(model),
            release_id=release_id,
            company=company,
            cluster=cluster,
            k8s_namespace=k8s_namespace,
            endpoint_url=endpoint_url,
            active_only=active_only,
            digest=digest,
            release_status=release_status,
            cursor=cursor,
        )
        return self._transport.watch(rpcs.WATCH_DEPLOYMENTS, request, timeout=timeout)

    # --- API keys (admin) ------------------------------------------------------------------

    def create_api_key(
        self,
        name: str,
        *,
        role: str | None = None,
        expires_at: datetime | None = None,
        request_id: str | None = None,
        timeout: float | None = None,
    ) -> api_key_service_pb2.CreateApiKeyResponse:
        """Create an API key (needs an admin key). The response's ``secret`` is the key itself,
        shown only this once; ``api_key`` describes it.

        Args:
            name: unique name, e.g. ``"ci-deployer"``.
            role: ``"admin"``, ``"writer"`` (the default) or ``"reader"``.
            expires_at: when the key stops working.

        Raises:
            AlreadyExistsError: the name is taken.
            PermissionDeniedError: the calling key is not an admin key.
        """
        api_key = message(api_key_pb2.ApiKey, name=name, role=role, expires_at=expires_at)
        request = api_key_service_pb2.CreateApiKeyRequest(api_key=api_key, request_id=_request_id(request_id))
        return self._transport.call(rpcs.CREATE_API_KEY, request, timeout=timeout, retry=True)

    def list_api_keys(
        self,
        *,
        include_revoked: bool = False,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> Iterator[api_key_pb2.ApiKey]:
        """Every API key, newest first (never their secrets); needs an admin key."""
        request = api_key_service_pb2.ListApiKeysRequest(include_revoked=include_revoked, page_size=page_size)
        yield from self._pages(rpcs.LIST_API_KEYS, request, lambda page: page.api_keys, timeout)

    def revoke_api_key(self, id: str, *, timeout: float | None = None) -> api_key_pb2.ApiKey:
        """Revoke an API key by id (needs an admin key); revoking a revoked key returns it unchanged.

        Raises:
            NotFoundError: no such key.
        """
        request = api_key_service_pb2.RevokeApiKeyRequest(id=id)
        return self._transport.call(rpcs.REVOKE_API_KEY, request, timeout=timeout, retry=True)

    # --- changes ---------------------------------------------------------------------------

    def watch_changes(
        self,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        cursor: str | None = None,
        timeout: float | None = None,
    ) -> Watch:
        """Every change to the registry (or to one kind of resource, or to one resource), as it
        commits, in commit order, each once: ``for event in client.watch_changes()``. Each
        event is a :class:`catapult.ChangeEvent`: its ``type``, its ``resource_type`` and
        ``resource_id``, and the resource as it is after the change in the field of that name
        (``event.model``, ``event.release``, …; as it was, for ``"deleted"``). Changes to API keys
        reach admin keys only. The watch resumes by itself, as :meth:`watch_deployments` says.

        Args:
            resource_type: ``"model"``, ``"release"``, ``"artifact"``, ``"deployment"`` or
                ``"api_key"`` (admin keys only).
            resource_id: changes to this resource (its id).
            cursor: start after this cursor (an event's, or a watch's ``cursor``): every later change.
            timeout: seconds the whole watch may take, as for :meth:`watch_deployments` (default: no
                limit).

        Raises:
            PermissionDeniedError: ``resource_type="api_key"`` without an admin key.
            CatapultError: as :meth:`watch_deployments`.
        """
        request = message(
            change_service_pb2.WatchChangesRequest,
            resource_type=resource_type,
            resource_id=resource_id,
            cursor=cursor,
        )
        return self._transport.watch(rpcs.WATCH_CHANGES, request, timeout=timeout)

    # --- audit log and system --------------------------------------------------------------

    def list_audit_logs(
        self,
        *,
        resource_type: str | None = None,
        resource_id: str | None = None,
        action: str | None = None,
        api_key_name: str | None = None,
        after: datetime | None = None,
        before: datetime | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> Iterator[audit_log_pb2.AuditLog]:
        """Every change to the registry matching all the filters given, newest first.

        Args:
            resource_type: ``"model"``, ``"release"``, ``"artifact"``, ``"deployment"``, ``"api_key"`` or
                ``"audit_log"``.
            resource_id: changes to this resource.
            action: ``"create"``, ``"update"``, ``"delete"``, ``"terminate"``, ``"supersede"``,
                ``"revoke"``, ``"deny"`` (a key refused a call its role does not allow) or ``"prune"``.
            api_key_name: changes made with this key.
            after, before: a time window (``created_at >= after``, ``< before``).
        """
        request = message(
            audit_log_service_pb2.ListAuditLogsRequest,
            resource_type=resource_type,
            resource_id=resource_id,
            action=action,
            api_key_name=api_key_name,
            after=after,
            before=before,
            page_size=page_size,
        )
        yield from self._pages(rpcs.LIST_AUDIT_LOGS, request, lambda page: page.audit_logs, timeout)

    def info(self, *, timeout: float | None = None) -> system_pb2.SystemInfo:
        """The server's version and the state of its database."""
        request = system_service_pb2.GetInfoRequest()
        return self._transport.call(rpcs.GET_INFO, request, timeout=timeout)

    def caller(self, *, timeout: float | None = None) -> system_pb2.Caller:
        """The API key this client calls with: its name and role (``"admin"``, ``"writer"``, ``"reader"``)."""
        request = system_service_pb2.GetCallerRequest()
        return self._transport.call(rpcs.GET_CALLER, request, timeout=timeout)

    def registry_summary(self, *, timeout: float | None = None) -> system_pb2.RegistrySummary:
        """How much the registry holds (models, releases, companies) and what is live in each
        environment, counted in one snapshot."""
        request = system_service_pb2.GetRegistrySummaryRequest()
        return self._transport.call(rpcs.GET_REGISTRY_SUMMARY, request, timeout=timeout)

    def health(self, *, timeout: float | None = None) -> system_service_pb2.HealthResponse:
        """``status == "ok"`` when the server and its database serve; needs no API key.

        Raises:
            UnavailableError: the server or its database cannot be reached (after retries).
        """
        request = system_service_pb2.HealthRequest()
        return self._transport.call(rpcs.HEALTH, request, timeout=timeout)
