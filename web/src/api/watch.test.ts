import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import { ChangeBatchSchema, ChangeEventSchema, type ChangeBatch } from "../gen/catapult/v1/change_pb";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb";
import { toProblem } from "./errors";
import { backoffMs, followDeployments, resumeFrom, type WatchState } from "./watch";

function failure(code: Code, reason = "", metadata: Record<string, string> = {}): ConnectError {
  const details = reason ? [{ desc: ErrorInfoSchema, value: { reason, domain: "catapult", metadata } }] : [];
  return new ConnectError("from the test", code, undefined, details);
}

const resume = (error: ConnectError) => resumeFrom(error, toProblem(error));

describe("resuming a watch", () => {
  it("resumes from the cursor a too-slow stream names, or from the last one", () => {
    expect(resume(failure(Code.ResourceExhausted, "WATCHER_TOO_SLOW", { cursor: "41" }))).toEqual({
      action: "resume",
      cursor: "41",
    });
    for (const error of [failure(Code.Unavailable, "SERVER_SHUTTING_DOWN"), failure(Code.Unknown), failure(Code.Internal)]) {
      expect(resume(error)).toEqual({ action: "resume", cursor: "" });
    }
  });

  it("reads again from now when its place was pruned", () => {
    expect(resume(failure(Code.FailedPrecondition, "CURSOR_EXPIRED"))).toEqual({ action: "gap" });
  });

  it("stops on what a resume cannot mend", () => {
    for (const error of [
      failure(Code.Unauthenticated, "API_KEY_REVOKED"),
      failure(Code.InvalidArgument, "INVALID_FIELD"),
      failure(Code.PermissionDenied),
      failure(Code.ResourceExhausted, "TOO_MANY_WATCHES"),
    ]) {
      expect(resume(error)).toEqual({ action: "stop" });
    }
  });

  it("waits longer after each failure, up to 5 s, never less than half", () => {
    expect(backoffMs(1, () => 0)).toBe(125);
    expect(backoffMs(1, () => 1)).toBe(250);
    expect(backoffMs(3, () => 1)).toBe(1000);
    expect(backoffMs(30, () => 1)).toBe(5000);
    expect(backoffMs(30, () => 0)).toBe(2500);
  });
});

/** A stream replaying `batches`, then failing with `error` (or ending). */
async function* replay(batches: ChangeBatch[], error?: ConnectError): AsyncIterable<ChangeBatch> {
  for (const batch of batches) {
    await Promise.resolve();
    yield batch;
  }
  if (error) throw error;
}

const place = (cursor: string) => create(ChangeBatchSchema, { cursor });
const changed = (cursor: string) =>
  create(ChangeBatchSchema, { cursor, events: [create(ChangeEventSchema, { cursor, type: "created" })] });

describe("following deployments", () => {
  it("resumes from the last place after a cut, and stops on what a resume cannot mend", async () => {
    const streams = [
      () => replay([place("10"), changed("11")], failure(Code.Unavailable)),
      () => replay([place("11"), place("13")], failure(Code.ResourceExhausted, "WATCHER_TOO_SLOW", { cursor: "14" })),
      () => replay([], failure(Code.FailedPrecondition, "CURSOR_EXPIRED")),
      () => replay([place("30"), changed("31")], failure(Code.Unauthenticated, "API_KEY_REVOKED")),
    ];
    const cursors: string[] = [];
    const seen: string[] = [];
    const states: string[] = [];
    let gaps = 0;
    await followDeployments(
      (request) => {
        cursors.push(request.cursor);
        const next = streams.shift();
        if (!next) throw new Error("opened once too often");
        return next();
      },
      { environment: "production" },
      {
        onChanges: (events) => seen.push(...events.map((e) => e.cursor)),
        onState: (s: WatchState) => states.push(s.state),
        onGap: () => (gaps += 1),
      },
      new AbortController().signal,
      () => 0,
    );
    expect(cursors).toEqual(["", "11", "14", ""]);
    expect(seen).toEqual(["11", "31"]);
    expect(gaps).toBe(1);
    expect(states).toEqual([
      "connecting",
      "live",
      "reconnecting",
      "live",
      "reconnecting",
      "reconnecting",
      "live",
      "stopped",
    ]);
  });
});
