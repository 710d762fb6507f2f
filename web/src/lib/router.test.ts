import { describe, expect, it } from "vitest";

import { matchPath, withQuery } from "./router";

describe("matchPath", () => {
  it("matches the root and fixed paths, with or without a trailing slash", () => {
    expect(matchPath("/", "/")).toEqual({});
    expect(matchPath("/deployments", "/deployments/")).toEqual({});
    expect(matchPath("/", "/deployments")).toBeNull();
  });

  it("reads named segments, decoded", () => {
    expect(matchPath("/models/:id", "/models/a%20b")).toEqual({ id: "a b" });
    expect(matchPath("/models/:id", "/models/")).toBeNull();
    expect(matchPath("/models/:id", "/models/1/releases")).toBeNull();
  });
});

describe("withQuery", () => {
  it("appends a query only when there is one", () => {
    expect(withQuery("/deployments", new URLSearchParams("environment=production"))).toBe(
      "/deployments?environment=production",
    );
    expect(withQuery("/deployments", new URLSearchParams())).toBe("/deployments");
  });
});
