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

/** A loaded list: `empty` when it has no items, else `children(items, data)`. */
export function AwaitList<T, Item>({
  loaded,
  what,
  items,
  empty,
  children,
}: {
  loaded: Loaded<T> & { reload?: () => void };
  what: string;
  items: (data: T) => readonly Item[] | null;
  empty: ReactNode;
  children: (items: readonly Item[], data: T) => ReactNode;
}) {
  return (
    <Await loaded={loaded} what={what}>
      {(data) => {
        const list = items(data);
        return list && list.length > 0 ? children(list, data) : <Empty>{empty}</Empty>;
      }}
    </Await>
  );
}

/** A titled part of a page, named by its heading for assistive technology. */
export function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{title}</h2>
      {children}
    </section>
  );
}
