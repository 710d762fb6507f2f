// Loading data for a view: the call runs again whenever `key` (a string naming everything the
// call depends on, usually the URL) changes, and the previous call is cancelled so a slow
// answer to an old URL never overwrites the new one.
import { useCallback, useEffect, useRef, useState } from "react";

import { isCancelled, toProblem, type Problem } from "../api/errors";

export type Loaded<T> =
  | { state: "loading" }
  | { state: "error"; problem: Problem }
  | { state: "ok"; data: T };

export function useRpc<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Loaded<T> & { reload: () => void } {
  const [result, setResult] = useState<{ key: string; loaded: Loaded<T> }>({ key, loaded: { state: "loading" } });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    const controller = new AbortController();
    loadRef.current(controller.signal).then(
      (data) => {
        setResult({ key, loaded: { state: "ok", data } });
      },
      (error: unknown) => {
        if (!controller.signal.aborted && !isCancelled(error)) {
          setResult({ key, loaded: { state: "error", problem: toProblem(error) } });
        }
      },
    );
    return () => {
      controller.abort();
    };
  }, [key, generation]);

  const reload = useCallback(() => {
    setGeneration((n) => n + 1);
  }, []);
  // Until the answer for this key arrives, the view shows loading, not the previous key's data.
  const loaded: Loaded<T> = result.key === key ? result.loaded : { state: "loading" };
  return { ...loaded, reload };
}
