import { describe, expect, it } from "vitest";

import { ModelSchema } from "../gen/catapult/v1/model_pb";
import { ReleaseSchema } from "../gen/catapult/v1/release_pb";
import { DEPLOYMENT_STATUSES, ENVIRONMENTS, maxLength, ROLES, vocabulary } from "./vocabulary";

describe("vocabularies from the proto's field rules", () => {
  it("reads closed vocabularies (choices)", () => {
    expect(DEPLOYMENT_STATUSES).toEqual({ values: ["deploying", "success", "failed", "terminated"], closed: true });
    expect(ROLES.closed).toBe(true);
    expect(ROLES.values).toContain("reader");
    expect(vocabulary(ReleaseSchema, "status").values).toContain("deprecated");
  });

  it("reads open vocabularies (examples) as suggestions", () => {
    expect(ENVIRONMENTS.closed).toBe(false);
    expect(ENVIRONMENTS.values).toEqual(expect.arrayContaining(["production", "staging"]));
    expect(vocabulary(ReleaseSchema, "quantization").values).toContain("fp16");
  });

  it("has nothing for a field without one, or no such field", () => {
    expect(vocabulary(ModelSchema, "company")).toEqual({ values: [], closed: false });
    expect(vocabulary(ModelSchema, "no_such_field")).toEqual({ values: [], closed: false });
  });

  it("reads the length limit", () => {
    expect(maxLength(ModelSchema, "name")).toBe(255);
    expect(maxLength(ModelSchema, "tags")).toBe(100); // each tag
    expect(maxLength(ModelSchema, "metadata")).toBeUndefined();
  });
});
