import { canWrite } from "../api/caller";
import { api } from "../api/client";
import { LIVE_FILTER } from "../api/live";
import { ActionError, useAction } from "../components/ActionError";
import { ConfirmButton, CopyButton, Pager } from "../components/controls";
import { Facts, Metadata } from "../components/Facts";
import { Await, AwaitList, Section } from "../components/states";
import { ArtifactsTable, DeploymentsTable, Status, Time } from "../components/tables";
import type { Release } from "../gen/catapult/v1/release_pb";
import { formatBytes } from "../lib/format";
import { useCaller, usePageTitle } from "../lib/page";
import { currentPageToken } from "../lib/query";
import { Link, useLocation } from "../lib/router";
import { useRpc } from "../lib/useRpc";

const HISTORY_PAGE = "deployments";

export function ReleaseDetail({ id }: { id: string }) {
  const release = useRpc(`release:${id}`, (signal) => api.releases.getRelease({ id }, { signal }));
  usePageTitle(release.state === "ok" ? `${release.data.modelName} ${release.data.version}` : "Release");
  return (
    <Await loaded={release} what="the release">
      {(r) => <ReleasePage release={r} reload={release.reload} />}
    </Await>
  );
}

function ReleasePage({ release, reload }: { release: Release; reload: () => void }) {
  const caller = useCaller();
  const { query } = useLocation();
  const historyToken = currentPageToken(query, HISTORY_PAGE);
  const artifacts = useRpc(`artifacts:${release.id}`, (signal) =>
    api.artifacts.listArtifacts({ releaseId: release.id, pageSize: 100 }, { signal }),
  );
  const live = useRpc(`live:${release.id}`, (signal) =>
    api.deployments.listDeployments({ releaseId: release.id, pageSize: 200, ...LIVE_FILTER }, { signal }),
  );
  const history = useRpc(`history:${release.id}:${historyToken}`, (signal) =>
    api.deployments.listDeployments({ releaseId: release.id, pageSize: 50, pageToken: historyToken }, { signal }),
  );
  const status = useAction();
  const deprecated = release.status === "deprecated";

  async function setStatus(next: string) {
    const done = await status.run(() =>
      api.releases.updateRelease({ release: { id: release.id, status: next }, updateMask: { paths: ["status"] }, etag: release.etag }),
    );
    if (done) reload();
  }

  return (
    <>
      <div className="page-head">
        <div>
          <p className="kicker">
            Release of <Link to={`/models/${release.imageId}`}>{release.modelName}</Link>
          </p>
          <h1>
            {release.version} {release.quantization && <span className="muted">{release.quantization}</span>}{" "}
            <Status value={release.status} />
          </h1>
        </div>
        {canWrite(caller) && (
          <div className="actions">
            <Link
              to={`/deployments/new?${new URLSearchParams({ release: release.id }).toString()}`}
              className="button primary"
            >
              Record a deployment
            </Link>
            {deprecated ? (
              <ConfirmButton
                label="Reactivate"
                title={`Reactivate ${release.modelName} ${release.version}?`}
                confirmLabel="Reactivate"
                danger={false}
                onConfirm={() => setStatus("active")}
              >
                <p>It can be deployed again without force.</p>
              </ConfirmButton>
            ) : (
              <ConfirmButton
                label="Deprecate"
                title={`Deprecate ${release.modelName} ${release.version}?`}
                confirmLabel="Deprecate"
                onConfirm={() => setStatus("deprecated")}
              >
                <p>New deployments of it will be refused unless forced. Live deployments keep running.</p>
              </ConfirmButton>
            )}
          </div>
        )}
      </div>
      <ActionError problem={status.problem} />
      <Facts
        items={[
          ["Tag", release.tag],
          [
            "Digest",
            release.digest && (
              <span className="endpoint" key="digest">
                <Link to={`/blast-radius?${new URLSearchParams({ q: release.digest }).toString()}`}>
                  <code className="digest">{release.digest}</code>
                </Link>
                <CopyButton text={release.digest} label="digest" />
              </span>
            ),
          ],
          ["Size", formatBytes(release.sizeBytes)],
          ["Platform", [release.platform, release.architecture, release.os].filter(Boolean).join(" · ")],
          ["Created", <Time key="created" value={release.createdAt} />],
          ["Updated", <Time key="updated" value={release.updatedAt} />],
          ["Release notes", release.releaseNotes],
        ]}
      />
      <Metadata value={release.metadata} />

      <Section id="artifacts" title="Artifacts">
        <AwaitList loaded={artifacts} what="artifacts" items={(page) => page.artifacts} empty="No artifacts recorded.">
          {(list) => <ArtifactsTable artifacts={list} caption="Files baked into this release" />}
        </AwaitList>
      </Section>

      <Section id="live" title="Live deployments">
        <AwaitList
          loaded={live}
          what="live deployments"
          items={(page) => page.deployments}
          empty="This release is not live anywhere."
        >
          {(list) => (
            <DeploymentsTable deployments={list} caption="Where this release serves now" showModel={false} />
          )}
        </AwaitList>
      </Section>

      <Section id="history" title="All deployments of this release">
        <AwaitList loaded={history} what="deployment history" items={(page) => page.deployments} empty="Never deployed.">
          {(list, page) => (
            <>
              <DeploymentsTable deployments={list} caption="Live and past, newest first" showModel={false} />
              <Pager nextToken={page.nextPageToken} param={HISTORY_PAGE} label="Deployment history" />
            </>
          )}
        </AwaitList>
      </Section>
    </>
  );
}
