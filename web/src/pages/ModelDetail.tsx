import { fetchArtifactsOfReleases } from "../api/artifacts";
import { canWrite } from "../api/caller";
import { api } from "../api/client";
import { CopyButton, Pager } from "../components/controls";
import { Facts, Metadata } from "../components/Facts";
import { Await, AwaitList, Section } from "../components/states";
import {
  ArtifactsTable,
  AuditTable,
  DeploymentsTable,
  Endpoint,
  ReleasesTable,
  Tags,
  Time,
} from "../components/tables";
import type { Model } from "../gen/catapult/v1/model_pb";
import type { EnvironmentRollout } from "../gen/catapult/v1/model_service_pb";
import type { Release } from "../gen/catapult/v1/release_pb";
import { useCaller, usePageTitle } from "../lib/page";
import { currentPageToken } from "../lib/query";
import { Link, useLocation } from "../lib/router";
import { useRpc } from "../lib/useRpc";
import { ENVIRONMENTS } from "../lib/vocabulary";

// Each list on the page pages on its own; its tokens live under its own query parameter.
const RELEASES_PAGE = "releases";
const AUDIT_PAGE = "audit";
const RELEASES_PER_PAGE = 20;

export function ModelDetail({ id }: { id: string }) {
  const model = useRpc(`model:${id}`, (signal) => api.models.getModel({ id }, { signal }));
  usePageTitle(model.state === "ok" ? model.data.name : "Model");
  return (
    <Await loaded={model} what="the model">
      {(m) => <ModelPage model={m} />}
    </Await>
  );
}

function ModelPage({ model }: { model: Model }) {
  const caller = useCaller();
  const { query } = useLocation();
  const releasesToken = currentPageToken(query, RELEASES_PAGE);
  const auditToken = currentPageToken(query, AUDIT_PAGE);
  const releases = useRpc(`releases:${model.id}:${releasesToken}`, (signal) =>
    api.releases.listReleases({ imageId: model.id, pageSize: RELEASES_PER_PAGE, pageToken: releasesToken }, { signal }),
  );
  const rollout = useRpc(`rollout:${model.id}`, (signal) => api.models.getModelRollout({ id: model.id }, { signal }));
  const audit = useRpc(`audit:${model.id}:${auditToken}`, (signal) =>
    api.auditLogs.listAuditLogs({ resourceId: model.id, pageSize: 20, pageToken: auditToken }, { signal }),
  );

  return (
    <>
      <div className="page-head">
        <div>
          <p className="kicker">Model</p>
          <h1>{model.name}</h1>
        </div>
        {canWrite(caller) && (
          <Link to={`/releases/new?${new URLSearchParams({ model: model.id }).toString()}`} className="button primary">
            Record a release
          </Link>
        )}
      </div>
      {model.description && <p className="lead">{model.description}</p>}
      <Facts
        items={[
          ["Company", model.company],
          ["Base model", model.baseModel],
          ["Parameters", model.parameterCount],
          [
            "Storage path",
            <span className="endpoint" key="storage">
              <code>{model.storagePath}</code>
              <CopyButton text={model.storagePath} label="storage path" />
            </span>,
          ],
          ["Repository", model.repository],
          ["Tags", <Tags key="tags" tags={model.tags} />],
          ["Created", <Time key="created" value={model.createdAt} />],
          ["Updated", <Time key="updated" value={model.updatedAt} />],
        ]}
      />
      <Metadata value={model.metadata} />

      <Section id="live" title="Where it is live">
        <AwaitList
          loaded={rollout}
          what="where the model is live"
          items={(r) => r.environments}
          empty="Not live anywhere."
        >
          {(environments) => (
            <>
              <EnvironmentMatrix environments={environments} />
              <DeploymentsTable
                deployments={environments.flatMap((e) => e.live)}
                caption="Its live deployments"
                showModel={false}
              />
            </>
          )}
        </AwaitList>
      </Section>

      <Section id="releases" title="Release timeline">
        <AwaitList loaded={releases} what="releases" items={(page) => page.releases} empty="No releases yet.">
          {(list, page) => (
            <>
              <ReleasesTable releases={list} caption="Every release, newest first" />
              <Pager nextToken={page.nextPageToken} param={RELEASES_PAGE} label="Releases" />
              <ReleaseArtifacts releases={list} />
            </>
          )}
        </AwaitList>
      </Section>

      <Section id="audit" title="Audit trail">
        <AwaitList loaded={audit} what="the audit trail" items={(page) => page.auditLogs} empty="No changes recorded.">
          {(rows, page) => (
            <>
              <AuditTable rows={rows} caption="Changes to this model" />
              <Pager nextToken={page.nextPageToken} param={AUDIT_PAGE} label="Audit trail" />
            </>
          )}
        </AwaitList>
      </Section>
    </>
  );
}

/** One column per environment (in the vocabulary's order), each listing what is live there:
 * version, endpoint, since when. */
function EnvironmentMatrix({ environments }: { environments: readonly EnvironmentRollout[] }) {
  const names = [
    ...ENVIRONMENTS.values.filter((name) => environments.some((e) => e.environment === name)),
    ...environments.map((e) => e.environment).filter((name) => !ENVIRONMENTS.values.includes(name)),
  ];
  return (
    <div className="table-wrap">
      <table className="matrix">
        <caption>The environment matrix: what is live where, since when</caption>
        <thead>
          <tr>
            {names.map((name) => (
              <th key={name} scope="col">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            {names.map((name) => (
              <td key={name}>
                <ul>
                  {(environments.find((e) => e.environment === name)?.live ?? []).map((d) => (
                    <li key={d.id}>
                      <Link to={`/releases/${d.releaseId}`}>{d.releaseVersion}</Link>
                      {d.quantization && <span className="muted"> {d.quantization}</span>}
                      <div>
                        <Endpoint url={d.endpointUrl} />
                      </div>
                      <div className="small muted">
                        {d.cluster}
                        {d.k8sNamespace && ` / ${d.k8sNamespace}`} · since <Time value={d.liveSince} />
                      </div>
                    </li>
                  ))}
                </ul>
              </td>
            ))}
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function ReleaseArtifacts({ releases }: { releases: readonly Release[] }) {
  const ids = releases.map((r) => r.id);
  const artifacts = useRpc(`artifacts:${ids.join(",")}`, (signal) => fetchArtifactsOfReleases(ids, signal));
  const label = (releaseId: string) => {
    const release = releases.find((r) => r.id === releaseId);
    return release ? `${release.version}${release.quantization ? ` ${release.quantization}` : ""}` : releaseId;
  };
  return (
    <>
      <h3 id="artifacts-heading">Artifacts</h3>
      <AwaitList
        loaded={artifacts}
        what="artifacts"
        items={(list) => list}
        empty="No artifacts recorded for these releases."
      >
        {(list) => <ArtifactsTable artifacts={list} caption="Artifacts of the releases above" releaseLabel={label} />}
      </AwaitList>
    </>
  );
}
