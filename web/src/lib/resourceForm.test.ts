import { describe, expect, it } from "vitest";

import { DeploymentSchema } from "../gen/catapult/v1/deployment_pb";
import { ModelSchema } from "../gen/catapult/v1/model_pb";
import { ReleaseSchema } from "../gen/catapult/v1/release_pb";
import { buildMessage, formFields } from "./resourceForm";

describe("formFields", () => {
  it("lists a model's inputs from the descriptor: no output-only fields, required ones marked", () => {
    const fields = formFields(ModelSchema);
    expect(fields.map((f) => f.name)).toEqual([
      "name",
      "company",
      "base_model",
      "parameter_count",
      "storage_path",
      "repository",
      "description",
      "tags",
      "metadata",
    ]);
    expect(fields.filter((f) => f.required).map((f) => f.name)).toEqual(["name", "storage_path"]);
    expect(fields.find((f) => f.name === "tags")?.kind).toBe("list");
    expect(fields.find((f) => f.name === "metadata")?.kind).toBe("json");
    expect(fields.find((f) => f.name === "storage_path")?.label).toBe("Storage path");
    expect(fields.find((f) => f.name === "name")?.maxLength).toBe(255);
  });

  it("carries each field's vocabulary from its rules", () => {
    const fields = formFields(DeploymentSchema);
    expect(fields.find((f) => f.name === "status")?.vocabulary.closed).toBe(true);
    expect(fields.find((f) => f.name === "environment")?.vocabulary).toEqual({
      values: expect.arrayContaining(["production"]) as unknown,
      closed: false,
    });
  });

  it("types numbers and times, and leaves out what the page fills in itself", () => {
    const fields = formFields(DeploymentSchema, ["release_id"]);
    expect(fields.some((f) => f.name === "release_id")).toBe(false);
    expect(fields.find((f) => f.name === "replicas")?.kind).toBe("number");
    expect(fields.find((f) => f.name === "deployed_at")?.kind).toBe("datetime");
    expect(fields.some((f) => f.name === "terminated_at" || f.name === "model_name")).toBe(false);
  });
});

describe("buildMessage", () => {
  it("builds the message, with lists, JSON, int64 and empty fields left unset", () => {
    const fields = formFields(ReleaseSchema);
    const result = buildMessage(ReleaseSchema, fields, {
      image_id: "m1",
      version: " 1.0.0 ",
      size_bytes: "15000000000",
      metadata: '{"gpu": "a100"}',
      tag: "",
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.message.version).toBe("1.0.0");
    expect(result.message.sizeBytes).toBe(15_000_000_000n);
    expect(result.message.metadata).toEqual({ gpu: "a100" });
    expect(result.message.tag).toBe("");
  });

  it("names each field it cannot read", () => {
    const fields = formFields(DeploymentSchema);
    const result = buildMessage(DeploymentSchema, fields, {
      replicas: "three",
      metadata: "[1, 2]",
      deployed_at: "yesterday",
    });
    expect(result).toEqual({
      ok: false,
      fields: {
        replicas: "must be a whole number",
        metadata: 'must be a JSON object, e.g. {"gpu_type": "a100"}',
        deployed_at: "must be a date and time",
      },
    });
  });

  it("splits tags typed with commas", () => {
    const result = buildMessage(ModelSchema, formFields(ModelSchema), { name: "x", tags: "production, chatbot" });
    expect(result.ok && result.message.tags).toEqual(["production", "chatbot"]);
  });
});
