// The string vocabularies the server validates (the proto comments list them; they are strings,
// not enums, in the contract, so they cannot be read from the descriptor). The console uses them
// to offer choices in filters and as suggestions in forms; the server stays the judge, and a
// value it adds is still accepted as typed text.
export const ENVIRONMENTS = ["production", "staging", "development"];
export const DEPLOYMENT_STATUSES = ["deploying", "success", "failed", "terminated"];
export const RELEASE_STATUSES = ["active", "deprecated"];
export const QUANTIZATIONS = ["fp32", "bf16", "fp16", "fp8", "int8", "int4"];
export const ARTIFACT_TYPES = ["wheel", "binary", "sdist", "tarball"];
export const ROLES = ["reader", "writer", "admin"];
export const AUDIT_ACTIONS = ["create", "update", "delete", "terminate", "revoke"];
export const RESOURCE_TYPES = ["model", "release", "artifact", "deployment", "api_key"];

const SUGGESTIONS: Readonly<Record<string, readonly string[]>> = {
  "catapult.v1.Deployment.environment": ENVIRONMENTS,
  "catapult.v1.Deployment.status": DEPLOYMENT_STATUSES,
  "catapult.v1.Release.status": RELEASE_STATUSES,
  "catapult.v1.Release.quantization": QUANTIZATIONS,
  "catapult.v1.Artifact.artifact_type": ARTIFACT_TYPES,
  "catapult.v1.ApiKey.role": ROLES,
};

/** The values a form offers for a field (proto name) of a message (full type name), or []. */
export function fieldSuggestions(typeName: string, field: string): readonly string[] {
  return SUGGESTIONS[`${typeName}.${field}`] ?? [];
}
