// Keeping a view's deployments current: follows WatchDeployments with the view's filters while
// the view is shown, and collects the changes for the view to apply (api/live.ts: withChanges).
// The view's list was read before the stream was in place, so once it is, the list is read
// again (`resync`): a change between the two reads is then in one or the other.
import { useEffect, useRef, useState } from "react";

import { api } from "../api/client";
import { addChanges, type DeploymentChanges } from "../api/live";
import { followDeployments, type WatchFilter, type WatchState } from "../api/watch";

const NO_CHANGES: DeploymentChanges = new Map();

/** `key` names the filter (the URL); null `filter`: no watch (e.g. a past moment is shown). */
export function useDeploymentWatch(
  key: string,
  filter: WatchFilter | null,
  resync: () => void,
): { changes: DeploymentChanges; watch: WatchState | null } {
  const [changes, setChanges] = useState<{ key: string; changes: DeploymentChanges }>({ key, changes: NO_CHANGES });
  const [watch, setWatch] = useState<{ key: string; state: WatchState } | null>(null);
  const latest = useRef({ filter, resync });
  useEffect(() => {
    latest.current = { filter, resync };
  });
  const watching = filter !== null;

  useEffect(() => {
    if (!watching) return;
    const controller = new AbortController();
    let placed = false;
    void followDeployments(
      (request, signal) => api.deployments.watchDeployments(request, { signal }),
      latest.current.filter ?? {},
      {
        onChanges: (events) => {
          setChanges((previous) => ({
            key,
            changes: addChanges(previous.key === key ? previous.changes : NO_CHANGES, events),
          }));
        },
        onState: (state) => {
          setWatch({ key, state });
          if (state.state === "live" && !placed) {
            placed = true;
            latest.current.resync();
          }
        },
        onGap: () => {
          setChanges({ key, changes: NO_CHANGES });
          placed = false;
        },
      },
      controller.signal,
    );
    return () => {
      controller.abort();
    };
  }, [key, watching]);

  return {
    changes: changes.key === key ? changes.changes : NO_CHANGES,
    watch: watching && watch?.key === key ? watch.state : watching ? { state: "connecting" } : null,
  };
}
