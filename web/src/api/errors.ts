// What the console shows for a failed call: the server's own message (never a generic one),
// its ErrorInfo reason, and each BadRequest field violation keyed by the form field it is about.
import { Code, ConnectError } from "@connectrpc/connect";

import { BadRequestSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb";

export interface Problem {
  code: Code;
  /** The server's message, e.g. "Model 'x' not found". */
  message: string;
  /** The ErrorInfo reason (an ErrorReason name such as "RESOURCE_NOT_FOUND"), or "". */
  reason: string;
  /** Field violations by field path relative to the resource ("name", "storage_path"). */
  fields: Record<string, string>;
}

/** The Problem of any thrown value. `resource` ("model", "release", …) is the request field the
 * resource sits in: the server names violations "model.name", a form's field is "name". */
export function toProblem(error: unknown, resource = ""): Problem {
  const connectError = ConnectError.from(error);
  const prefix = resource ? `${resource}.` : "";
  const fields: Record<string, string> = {};
  for (const badRequest of connectError.findDetails(BadRequestSchema)) {
    for (const violation of badRequest.fieldViolations) {
      const field = violation.field.startsWith(prefix) ? violation.field.slice(prefix.length) : violation.field;
      fields[field] = fields[field] ? `${fields[field]}; ${violation.description}` : violation.description;
    }
  }
  const reason = connectError.findDetails(ErrorInfoSchema)[0]?.reason ?? "";
  return { code: connectError.code, message: connectError.rawMessage || codeLabel(connectError.code), reason, fields };
}

/** Human words for a code, for the rare error that carries no message of its own. */
export function codeLabel(code: Code): string {
  const labels: Partial<Record<Code, string>> = {
    [Code.Unauthenticated]: "The API key was not accepted",
    [Code.PermissionDenied]: "This API key's role may not do that",
    [Code.NotFound]: "Not found",
    [Code.Unavailable]: "The server cannot be reached; try again",
    [Code.DeadlineExceeded]: "The server took too long to answer",
  };
  return labels[code] ?? `Request failed (${Code[code]})`;
}

export function isCancelled(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Canceled;
}
