import { canWrite } from "../api/caller";
import { api } from "../api/client";
import { fetchModelSummary } from "../api/summary";
import { Pager } from "../components/controls";
import { FilterForm, type FilterControl } from "../components/FilterForm";
import { AwaitList, Section } from "../components/states";
import { AuditTable, Tags } from "../components/tables";
import type { Model } from "../gen/catapult/v1/model_pb";
import { useCaller, usePageTitle } from "../lib/page";
import { currentPageToken, filtersQuery, readFilters } from "../lib/query";
import { Link, useLocation } from "../lib/router";
import { useRpc } from "../lib/useRpc";

const MODEL_FILTERS = {
  search: "text",
  company: "text",
  tag: "list",
  base_model: "text",
  parameter_count: "text",
} as const;

const CONTROLS: FilterControl[] = [
  { name: "search", label: "Search names", kind: "text", placeholder: "llama" },
  { name: "company", label: "Company", kind: "text" },
  { name: "tag", label: "Tags (all of)", kind: "list", placeholder: "production, chatbot" },
  { name: "base_model", label: "Base model", kind: "text", placeholder: "llama-3" },
  { name: "parameter_count", label: "Parameters", kind: "text", placeholder: "7B" },
];

const PAGE_SIZE = 24;
const RECENT_CHANGES = 8;

export function Dashboard() {
  usePageTitle("Models");
  const caller = useCaller();
  const { query } = useLocation();
  const filters = readFilters(MODEL_FILTERS, query);
  const pageToken = currentPageToken(query);
  const filtered = filtersQuery(MODEL_FILTERS, filters).size > 0;
  const models = useRpc(`models?${query.toString()}`, (signal) =>
    api.models.listModels(
      {
        search: filters.search,
        company: filters.company,
        tag: filters.tag,
        baseModel: filters.base_model,
        parameterCount: filters.parameter_count,
        pageSize: PAGE_SIZE,
        pageToken,
      },
      { signal },
    ),
  );
  const recent = useRpc("recent-changes", (signal) =>
    api.auditLogs.listAuditLogs({ pageSize: RECENT_CHANGES }, { signal }),
  );

  return (
    <>
      <div className="page-head">
        <h1>Models</h1>
        {canWrite(caller) && (
          <Link to="/models/new" className="button primary">
            Register a model
          </Link>
        )}
      </div>
      <RegistryCounts />
      <FilterForm spec={MODEL_FILTERS} controls={CONTROLS} label="Filter models" />
      <section aria-labelledby="models-heading">
        <h2 id="models-heading" className="visually-hidden">
          Model list
        </h2>
        <AwaitList
          loaded={models}
          what="models"
          items={(page) => page.models}
          empty={filtered ? "No models match these filters." : "No models are registered yet."}
        >
          {(list, page) => (
            <>
              <ul className="cards" aria-label="Models">
                {list.map((model) => (
                  <ModelCard key={model.id} model={model} />
                ))}
              </ul>
              <Pager nextToken={page.nextPageToken} label="Models" />
            </>
          )}
        </AwaitList>
      </section>
      <Section id="recent" title="Recent changes">
        <AwaitList
          loaded={recent}
          what="recent changes"
          items={(page) => page.auditLogs}
          empty="Nothing has changed yet."
        >
          {(rows) => (
            <>
              <AuditTable rows={rows} caption="The latest changes to the registry" />
              <p>
                <Link to="/admin/audit">The whole audit log</Link>
              </p>
            </>
          )}
        </AwaitList>
      </Section>
    </>
  );
}

/** The registry's headline: how many models, what is live, in how many environments. */
function RegistryCounts() {
  const summary = useRpc("registry-summary", (signal) => api.system.getRegistrySummary({}, { signal }));
  if (summary.state !== "ok") return null; // the counts are a headline: the lists below say what failed
  const s = summary.data;
  const count = (n: bigint) => n.toLocaleString("en");
  return (
    <ul className="counts" aria-label="Registry counts">
      <li>
        <strong>{count(s.modelCount)}</strong> models
      </li>
      <li>
        <strong>{count(s.liveDeploymentCount)}</strong>{" "}
        <Link to="/deployments">live deployments</Link>
      </li>
      <li>
        <strong>{s.environments.length}</strong> environments live:{" "}
        {s.environments.length === 0
          ? "none"
          : s.environments.map((e, i) => (
              <span key={e.environment}>
                {i > 0 && ", "}
                <Link to={`/deployments?${new URLSearchParams({ environment: e.environment }).toString()}`}>
                  {e.environment}
                </Link>{" "}
                ({count(e.liveDeploymentCount)})
              </span>
            ))}
      </li>
      <li>
        <strong>{count(s.companyCount)}</strong> companies
      </li>
      <li>
        <strong>{count(s.releaseCount)}</strong> releases
      </li>
    </ul>
  );
}

function ModelCard({ model }: { model: Model }) {
  const summary = useRpc(`summary:${model.id}`, (signal) => fetchModelSummary(model.id, signal));
  return (
    <li className="card">
      <article aria-labelledby={`model-${model.id}`}>
        <h3 id={`model-${model.id}`}>
          <Link to={`/models/${model.id}`}>{model.name}</Link>
        </h3>
        <dl className="facts">
          <dt>Company</dt>
          <dd>{model.company || "—"}</dd>
          <dt>Base model</dt>
          <dd>{model.baseModel || "—"}</dd>
          <dt>Parameters</dt>
          <dd>{model.parameterCount || "—"}</dd>
          <dt>Latest release</dt>
          <dd>
            {summary.state === "ok" ? (
              summary.data.latestRelease ? (
                <Link to={`/releases/${summary.data.latestRelease.id}`}>{summary.data.latestRelease.version}</Link>
              ) : (
                "none yet"
              )
            ) : summary.state === "error" ? (
              <span className="muted">unavailable</span>
            ) : (
              <span className="muted">…</span>
            )}
          </dd>
          <dt>Live deployments</dt>
          <dd>
            {summary.state === "ok"
              ? `${summary.data.liveDeployments}${summary.data.moreLive ? "+" : ""}`
              : summary.state === "error"
                ? "unavailable"
                : "…"}
          </dd>
        </dl>
        <Tags tags={model.tags} />
      </article>
    </li>
  );
}
