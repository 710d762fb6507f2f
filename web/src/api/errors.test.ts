import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import { BadRequestSchema, ErrorInfoSchema } from "../gen/google/rpc/error_details_pb";
import { toProblem } from "./errors";

function invalid(violations: [string, string][]): ConnectError {
  return new ConnectError("model.name: is required", Code.InvalidArgument, undefined, [
    { desc: ErrorInfoSchema, value: { reason: "INVALID_FIELD", domain: "catapult" } },
    {
      desc: BadRequestSchema,
      value: create(BadRequestSchema, {
        fieldViolations: violations.map(([field, description]) => ({ field, description })),
      }),
    },
  ]);
}

describe("toProblem", () => {
  it("maps field violations to the form's fields", () => {
    const problem = toProblem(invalid([["model.name", "is required"], ["model.tags", "at most 64"]]), "model");
    expect(problem.code).toBe(Code.InvalidArgument);
    expect(problem.reason).toBe("INVALID_FIELD");
    expect(problem.message).toBe("model.name: is required");
    expect(problem.fields).toEqual({ name: "is required", tags: "at most 64" });
  });

  it("keeps paths outside the resource as they are, and joins two violations of one field", () => {
    const error = invalid([["request_id", "too long"], ["model.name", "is required"], ["model.name", "too long"]]);
    expect(toProblem(error, "model").fields).toEqual({ request_id: "too long", name: "is required; too long" });
    expect(toProblem(error).fields["model.name"]).toBe("is required; too long");
  });

  it("keeps the server's message without the code prefix", () => {
    const problem = toProblem(new ConnectError("Model 'x' not found", Code.NotFound));
    expect(problem).toEqual({ code: Code.NotFound, message: "Model 'x' not found", reason: "", fields: {} });
  });

  it("describes an error with no message and a thrown non-error", () => {
    expect(toProblem(new ConnectError("", Code.Unavailable)).message).toMatch(/cannot be reached/);
    expect(toProblem("boom").message).toBe("boom");
  });
});
