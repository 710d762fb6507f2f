import { canWrite } from "../api/caller";
import { api } from "../api/client";
import { LIVE_FILTER } from "../api/live";
import { Pager } from "../components/controls";
import { FilterForm, type FilterControl } from "../components/FilterForm";
import { AwaitList } from "../components/states";
import { DeploymentsTable } from "../components/tables";
import { TerminateButton } from "../components/TerminateButton";
import { useCaller, usePageTitle } from "../lib/page";
import { currentPageToken, readFilters } from "../lib/query";
import { useLocation } from "../lib/router";
import { useRpc } from "../lib/useRpc";
import { DEPLOYMENT_STATUSES, ENVIRONMENTS } from "../lib/vocabulary";

const DEPLOYMENT_FILTERS = {
  environment: "text",
  status: "text",
  company: "text",
  cluster: "text",
  model: "text",
  history: "flag",
} as const;

const CONTROLS: FilterControl[] = [
  { name: "environment", label: "Environment", kind: "text", options: ENVIRONMENTS.values },
  { name: "status", label: "Status", kind: "select", options: DEPLOYMENT_STATUSES.values },
  { name: "company", label: "Company (customer)", kind: "text" },
  { name: "cluster", label: "Cluster", kind: "text" },
  { name: "model", label: "Model name", kind: "text" },
  { name: "history", label: "Include history (terminated, failed, superseded)", kind: "flag" },
];

const PAGE_SIZE = 50;

export function Deployments() {
  usePageTitle("Deployments");
  const caller = useCaller();
  const { query } = useLocation();
  const filters = readFilters(DEPLOYMENT_FILTERS, query);
  const pageToken = currentPageToken(query);
  // What is live now, unless the history is asked for or a status chosen (which decides alone).
  const scope = filters.history || filters.status ? { status: filters.status } : LIVE_FILTER;
  const liveOnly = scope === LIVE_FILTER;
  const deployments = useRpc(`deployments?${query.toString()}`, (signal) =>
    api.deployments.listDeployments(
      {
        environment: filters.environment,
        company: filters.company,
        cluster: filters.cluster,
        modelName: filters.model,
        ...scope,
        pageSize: PAGE_SIZE,
        pageToken,
      },
      { signal },
    ),
  );

  return (
    <>
      <div className="page-head">
        <h1>{liveOnly ? "Live deployments" : "Deployments, live and past"}</h1>
      </div>
      <FilterForm spec={DEPLOYMENT_FILTERS} controls={CONTROLS} label="Filter deployments" />
      <AwaitList
        loaded={deployments}
        what="deployments"
        items={(page) => page.deployments}
        empty={liveOnly ? "Nothing live matches these filters." : "No deployments match these filters."}
      >
        {(list, page) => (
          <>
            <DeploymentsTable
              deployments={list}
              caption={liveOnly ? "What serves where, newest first" : "Every deployment, newest first"}
              actions={
                canWrite(caller) ? (d) => <TerminateButton deployment={d} onDone={deployments.reload} /> : undefined
              }
            />
            <Pager nextToken={page.nextPageToken} label="Deployments" />
          </>
        )}
      </AwaitList>
    </>
  );
}
