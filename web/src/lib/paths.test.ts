import { describe, expect, it } from "vitest";

import { safeNext } from "./paths";

describe("safeNext", () => {
  it("returns a path on this site", () => {
    expect(safeNext("/deployments?environment=production")).toBe("/deployments?environment=production");
  });

  it.each([null, "", "https://evil.example/", "//evil.example/", "/\\evil.example", "/sign-in?next=/"])(
    "falls back to the dashboard for %s",
    (next) => {
      expect(safeNext(next)).toBe("/");
    },
  );
});
