// Following deployments as they change: WatchDeployments over gRPC-Web (Envoy's grpc_web
// filter carries the server stream). The server sends batches of changes; the first message is
// an empty batch naming the stream's place, so from then on nothing is missed. A stream cut off
// (a server restart, a lost connection, this tab too slow for the server) resumes from the last
// cursor; what a resume cannot mend (a revoked key, a bad filter) stops the watch with the
// server's message.
import { Code, ConnectError } from "@connectrpc/connect";

import type { ChangeBatch, ChangeEvent } from "../gen/catapult/v1/change_pb";
import type { WatchDeploymentsRequest } from "../gen/catapult/v1/deployment_service_pb";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb";
import { isCancelled, toProblem, type Problem } from "./errors";

export type WatchState =
  | { state: "connecting" }
  | { state: "live" }
  | { state: "reconnecting"; problem: Problem }
  | { state: "stopped"; problem: Problem };

export interface WatchHandlers {
  /** The changes of one batch, in commit order. */
  onChanges: (events: readonly ChangeEvent[]) => void;
  onState: (state: WatchState) => void;
  /** The watch lost its place (the changes after its cursor were pruned): what it shows must be
   * read again; it goes on from now. */
  onGap: () => void;
}

/** WatchDeploymentsRequest's filters (the watch keeps the cursor). */
export type WatchFilter = Partial<Omit<WatchDeploymentsRequest, "$typeName" | "$unknown" | "cursor">>;

const FIRST_WAIT_MS = 250;
const LONGEST_WAIT_MS = 5000;

/** Opens one stream: api.deployments.watchDeployments in the console. */
export type OpenWatch = (
  request: WatchFilter & { cursor: string },
  signal: AbortSignal,
) => AsyncIterable<ChangeBatch>;

/** Follow the deployments matching `filter` until `signal` aborts. */
export async function followDeployments(
  open: OpenWatch,
  filter: WatchFilter,
  handlers: WatchHandlers,
  signal: AbortSignal,
  random: () => number = Math.random,
) {
  let cursor = "";
  let failures = 0;
  handlers.onState({ state: "connecting" });
  while (!signal.aborted) {
    let problem: Problem;
    try {
      for await (const batch of open({ ...filter, cursor }, signal)) {
        if (failures > 0 || cursor === "") handlers.onState({ state: "live" });
        failures = 0;
        if (batch.events.length > 0) handlers.onChanges(batch.events);
        if (batch.cursor) cursor = batch.cursor;
      }
      problem = { code: Code.Unavailable, message: "The server ended the stream", reason: "", fields: {} };
    } catch (error) {
      if (isCancelled(error)) return; // the view went away
      problem = toProblem(error);
      const next = resumeFrom(error, problem);
      if (next.action === "stop") {
        handlers.onState({ state: "stopped", problem });
        return;
      }
      if (next.action === "gap") {
        cursor = "";
        handlers.onGap();
      } else if (next.cursor) {
        cursor = next.cursor;
      }
    }
    failures += 1;
    handlers.onState({ state: "reconnecting", problem });
    await sleep(backoffMs(failures, random), signal);
  }
}

export type NextStep =
  /** Resume from `cursor` (the one a too-slow stream names), or from the last one (""). */
  | { action: "resume"; cursor: string }
  /** The changes after the cursor were pruned: read again, and go on from now. */
  | { action: "gap" }
  /** A resume cannot mend it. */
  | { action: "stop" };

const STOP: NextStep = { action: "stop" };

/** What to do after a stream failed with `error`. */
export function resumeFrom(error: unknown, problem: Problem): NextStep {
  switch (problem.code) {
    case Code.ResourceExhausted:
      if (problem.reason !== "WATCHER_TOO_SLOW") return STOP; // TOO_MANY_WATCHES
      return {
        action: "resume",
        cursor: ConnectError.from(error).findDetails(ErrorInfoSchema)[0]?.metadata.cursor ?? "",
      };
    case Code.FailedPrecondition:
      return problem.reason === "CURSOR_EXPIRED" ? { action: "gap" } : STOP;
    case Code.InvalidArgument:
    case Code.Unauthenticated:
    case Code.PermissionDenied:
    case Code.NotFound:
    case Code.Unimplemented:
      return STOP;
    default:
      // UNAVAILABLE (a restart, a lost connection), a stream a proxy reset, a network error the
      // browser reports as UNKNOWN: all mended by resuming.
      return { action: "resume", cursor: "" };
  }
}

/** The wait before resume number `n` since the stream was last in place: 250 ms doubling up to
 * 5 s, a random half to all of it so the tabs a restart cut off do not come back at once. */
export function backoffMs(n: number, random: () => number = Math.random): number {
  const ceiling = Math.min(FIRST_WAIT_MS * 2 ** Math.max(0, n - 1), LONGEST_WAIT_MS);
  return ceiling / 2 + random() * (ceiling / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
