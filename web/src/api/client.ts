// The API clients: Connect-ES over gRPC-Web to the same origin (Envoy translates gRPC-Web to
// gRPC), with the session's API key in `x-api-key` and a create's request_id as
// `idempotency-key`.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { ApiKeyService } from "../gen/catapult/v1/api_key_service_pb";
import { ArtifactService } from "../gen/catapult/v1/artifact_service_pb";
import { AuditLogService } from "../gen/catapult/v1/audit_log_service_pb";
import { DeploymentService } from "../gen/catapult/v1/deployment_service_pb";
import { ModelService } from "../gen/catapult/v1/model_service_pb";
import { ReleaseService } from "../gen/catapult/v1/release_service_pb";
import { SystemService } from "../gen/catapult/v1/system_service_pb";
import { apiKey, forgetApiKey } from "./session";

const withApiKey: Interceptor = (next) => (request) => {
  const key = apiKey();
  if (key) request.header.set("x-api-key", key);
  return next(request);
};

// A create's request_id also goes out as the idempotency-key header: Envoy cannot read it in the
// body, and with it Envoy may retry the create on another server (the server makes it once).
const withIdempotencyKey: Interceptor = (next) => (request) => {
  if (!request.stream) {
    const requestId: unknown = (request.message as { requestId?: unknown }).requestId;
    if (typeof requestId === "string" && requestId) request.header.set("idempotency-key", requestId);
  }
  return next(request);
};

// A key the server stops accepting (revoked, expired) signs the tab out with the server's message,
// whether the call is refused at once or a stream is cut off later (a watch, when the key is revoked
// while the page follows it).
const signOutWhenRejected: Interceptor = (next) => async (request) => {
  try {
    const response = await next(request);
    return response.stream ? { ...response, message: signingOutOnRejection(response.message) } : response;
  } catch (error) {
    signOutIfRejected(error);
    throw error;
  }
};

async function* signingOutOnRejection<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    signOutIfRejected(error);
    throw error;
  }
}

function signOutIfRejected(error: unknown): void {
  const connectError = ConnectError.from(error);
  if (connectError.code === Code.Unauthenticated) forgetApiKey(connectError.rawMessage);
}

const transport = createGrpcWebTransport({
  baseUrl: window.location.origin,
  interceptors: [signOutWhenRejected, withApiKey, withIdempotencyKey],
  // Binary protobuf: smaller and faster to decode than JSON, and what Envoy's grpc_web expects.
  useBinaryFormat: true,
});

export const api = {
  models: createClient(ModelService, transport),
  releases: createClient(ReleaseService, transport),
  artifacts: createClient(ArtifactService, transport),
  deployments: createClient(DeploymentService, transport),
  apiKeys: createClient(ApiKeyService, transport),
  auditLogs: createClient(AuditLogService, transport),
  system: createClient(SystemService, transport),
};
