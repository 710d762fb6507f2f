// The three states every view has besides its data: loading, failed, and nothing to show.
import type { ReactNode } from "react";

import type { Problem } from "../api/errors";
import type { Loaded } from "../lib/useRpc";

export function Loading({ what }: { what: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorNotice({ problem, onRetry }: { problem: Problem; onRetry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <p>{problem.message}</p>
      {problem.reason && <p className="reason">{problem.reason}</p>}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state empty">{children}</p>;
}

/** `children(data)` once loaded; the loading and error states before that. */
export function Await<T>({
  loaded,
  what,
  children,
}: {
  loaded: Loaded<T> & { reload?: () => void };
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (loaded.state === "loading") return <Loading what={what} />;
  if (loaded.state === "error") return <ErrorNotice problem={loaded.problem} onRetry={loaded.reload} />;
  return <>{children(loaded.data)}</>;
}
