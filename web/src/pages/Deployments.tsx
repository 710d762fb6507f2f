import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import { canWrite } from "../api/caller";
import { api } from "../api/client";
import { LIVE_FILTER, withChanges } from "../api/live";
import type { WatchState } from "../api/watch";
import { Pager } from "../components/controls";
import { FilterForm, type FilterControl } from "../components/FilterForm";
import { AwaitList } from "../components/states";
import { DeploymentsTable } from "../components/tables";
import { TerminateButton } from "../components/TerminateButton";
import { formatTime } from "../lib/format";
import { useCaller, usePageTitle } from "../lib/page";
import { currentPageToken, readFilters } from "../lib/query";
import { useLocation } from "../lib/router";
import { useDeploymentWatch } from "../lib/useDeploymentWatch";
import { useRpc } from "../lib/useRpc";
import { DEPLOYMENT_STATUSES, ENVIRONMENTS } from "../lib/vocabulary";

const DEPLOYMENT_FILTERS = {
  environment: "text",
  status: "text",
  company: "text",
  cluster: "text",
  model: "text",
  history: "flag",
  as_of: "text",
} as const;

const CONTROLS: FilterControl[] = [
  { name: "environment", label: "Environment", kind: "text", options: ENVIRONMENTS.values },
  { name: "status", label: "Status", kind: "select", options: DEPLOYMENT_STATUSES.values },
  { name: "company", label: "Company (customer)", kind: "text" },
  { name: "cluster", label: "Cluster", kind: "text" },
  { name: "model", label: "Model name", kind: "text" },
  { name: "as_of", label: "Live as of", kind: "datetime" },
  { name: "history", label: "Include history (terminated, failed, superseded)", kind: "flag" },
];

const PAGE_SIZE = 50;

export function Deployments() {
  usePageTitle("Deployments");
  const caller = useCaller();
  const { query } = useLocation();
  const filters = readFilters(DEPLOYMENT_FILTERS, query);
  const pageToken = currentPageToken(query);
  const asOf = filters.as_of ? new Date(filters.as_of) : null;
  const pastMoment = asOf !== null && !Number.isNaN(asOf.getTime()) ? asOf : null;
  // What was live at a moment; else what is live now, unless the history is asked for or a
  // status chosen (which decides alone).
  const scope = pastMoment
    ? { liveAt: timestampFromDate(pastMoment) }
    : filters.history || filters.status
      ? { status: filters.status }
      : LIVE_FILTER;
  const liveOnly = scope === LIVE_FILTER;
  const filter = {
    environment: filters.environment,
    company: filters.company,
    cluster: filters.cluster,
    modelName: filters.model,
  };
  const deployments = useRpc(`deployments?${query.toString()}`, (signal) =>
    api.deployments.listDeployments({ ...filter, ...scope, pageSize: PAGE_SIZE, pageToken }, { signal }),
  );
  // The first page of the present follows the changes as they commit; a past moment, or a later
  // page of a list ordered newest first, does not change.
  const followed = !pastMoment && pageToken === "" ? { ...filter, ...(liveOnly ? LIVE_FILTER : { status: filters.status }) } : null;
  const { changes, watch } = useDeploymentWatch(query.toString(), followed, deployments.reload);

  const heading = pastMoment
    ? `Live at ${formatTime(timestampFromDate(pastMoment))}`
    : liveOnly
      ? "Live deployments"
      : "Deployments, live and past";
  return (
    <>
      <div className="page-head">
        <h1>{heading}</h1>
        {watch && <WatchIndicator watch={watch} />}
      </div>
      <FilterForm spec={DEPLOYMENT_FILTERS} controls={CONTROLS} label="Filter deployments" />
      <AwaitList
        loaded={deployments}
        what="deployments"
        items={(page) => withChanges(page.deployments, changes, liveOnly)}
        empty={
          pastMoment
            ? "Nothing matching these filters was live at that moment."
            : liveOnly
              ? "Nothing live matches these filters."
              : "No deployments match these filters."
        }
      >
        {(list, page) => (
          <>
            <DeploymentsTable
              deployments={list}
              changed={changes}
              caption={
                pastMoment
                  ? "What served where at that moment, newest first"
                  : liveOnly
                    ? "What serves where, newest first"
                    : "Every deployment, newest first"
              }
              actions={
                canWrite(caller) && !pastMoment
                  ? (d) => <TerminateButton deployment={d} onDone={deployments.reload} />
                  : undefined
              }
            />
            <Pager nextToken={page.nextPageToken} label="Deployments" />
          </>
        )}
      </AwaitList>
    </>
  );
}

/** Whether the list follows the changes as they commit: "live" once the stream is in place. */
function WatchIndicator({ watch }: { watch: WatchState }) {
  const text = {
    connecting: "Connecting…",
    live: "Live: changes appear as they happen",
    reconnecting: "Reconnecting…",
    stopped: "Live updates stopped",
  }[watch.state];
  const detail = watch.state === "stopped" || watch.state === "reconnecting" ? watch.problem.message : "";
  return (
    <p className={`watch-indicator watch-${watch.state}`} role="status" title={detail || undefined}>
      <span className="dot" aria-hidden="true" />
      {text}
      {watch.state === "stopped" && `: ${detail}`}
    </p>
  );
}
