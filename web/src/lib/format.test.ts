import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import { fieldLabel, formatBytes, formatTime, isoToLocalInput, localInputToIso, prettyJson } from "./format";

describe("format", () => {
  it("shows times in UTC, to the minute", () => {
    expect(formatTime(timestampFromDate(new Date("2026-11-29T12:46:59.9Z")))).toBe("2026-11-29 12:46 UTC");
    expect(formatTime(undefined)).toBe("—");
  });

  it("shows sizes in powers of 1000", () => {
    expect(formatBytes(15_000_000_000n)).toBe("15.0 GB");
    expect(formatBytes(999n)).toBe("999 B");
    expect(formatBytes(0n)).toBe("—");
  });

  it("pretty-prints JSON, and nothing for an empty object", () => {
    expect(prettyJson({ gpu: "a100" })).toBe('{\n  "gpu": "a100"\n}');
    expect(prettyJson({})).toBe("");
  });

  it("labels a proto field name", () => {
    expect(fieldLabel("storage_path")).toBe("Storage path");
  });

  it("reads a datetime-local value as UTC and writes it back", () => {
    expect(localInputToIso("2026-01-02T03:04")).toBe("2026-01-02T03:04:00.000Z");
    expect(isoToLocalInput("2026-01-02T03:04:00.000Z")).toBe("2026-01-02T03:04");
    expect(localInputToIso("nonsense")).toBe("");
    expect(isoToLocalInput("")).toBe("");
  });
});
