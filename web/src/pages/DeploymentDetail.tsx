import { canWrite } from "../api/caller";
import { api } from "../api/client";
import { isLive } from "../api/live";
import { Facts, Metadata } from "../components/Facts";
import { Await, AwaitList, Section } from "../components/states";
import { DeploymentsTable, Endpoint, Status, Time } from "../components/tables";
import { TerminateButton } from "../components/TerminateButton";
import type { Deployment } from "../gen/catapult/v1/deployment_pb";
import { useCaller, usePageTitle } from "../lib/page";
import { Link } from "../lib/router";
import { useRpc } from "../lib/useRpc";

export function DeploymentDetail({ id }: { id: string }) {
  const deployment = useRpc(`deployment:${id}`, (signal) => api.deployments.getDeployment({ id }, { signal }));
  usePageTitle(deployment.state === "ok" ? `Deployment of ${deployment.data.modelName}` : "Deployment");
  return (
    <Await loaded={deployment} what="the deployment">
      {(d) => <DeploymentPage deployment={d} reload={deployment.reload} />}
    </Await>
  );
}

function DeploymentPage({ deployment, reload }: { deployment: Deployment; reload: () => void }) {
  const caller = useCaller();
  const endpoint = deployment.endpointUrl;
  const history = useRpc(`endpoint:${endpoint}:${deployment.etag}`, (signal) =>
    endpoint
      ? api.deployments.listDeployments({ endpointUrl: endpoint, pageSize: 20 }, { signal })
      : Promise.resolve(null),
  );
  return (
    <>
      <div className="page-head">
        <div>
          <p className="kicker">
            Deployment of <Link to={`/models/${deployment.modelId}`}>{deployment.modelName}</Link>{" "}
            <Link to={`/releases/${deployment.releaseId}`}>{deployment.releaseVersion}</Link>
          </p>
          <h1>
            {deployment.environment} <Status value={deployment.status} />{" "}
            {isLive(deployment) && <span className="live-badge">live</span>}
          </h1>
        </div>
        {canWrite(caller) && (
          <div className="actions">
            <TerminateButton deployment={deployment} onDone={reload} />
          </div>
        )}
      </div>
      <p className="endpoint-hero">
        <Endpoint url={endpoint} />
      </p>
      <Facts
        items={[
          ["Company", deployment.company],
          ["Cluster", deployment.cluster],
          ["Namespace", deployment.k8sNamespace],
          ["Replicas", String(deployment.replicas)],
          ["Release tag", deployment.releaseTag],
          ["Quantization", deployment.quantization],
          ["Deployed", <Time key="deployed" value={deployment.deployedAt} />],
          ["Deployed by", deployment.deployedBy],
          ["Live since", deployment.liveSince && <Time key="live-since" value={deployment.liveSince} />],
          ["Terminated", deployment.terminatedAt && <Time key="terminated" value={deployment.terminatedAt} />],
          [
            "Replaced",
            deployment.replacesId && (
              <Link key="replaces" to={`/deployments/${deployment.replacesId}`}>
                the deployment before it
              </Link>
            ),
          ],
          [
            "Superseded by",
            deployment.supersededById && (
              <Link key="superseded" to={`/deployments/${deployment.supersededById}`}>
                the deployment after it
              </Link>
            ),
          ],
        ]}
      />
      <Metadata value={deployment.metadata} />
      {endpoint && (
        <Section id="endpoint-history" title="History of this endpoint">
          <AwaitList
            loaded={history}
            what="the endpoint's history"
            items={(page) => page?.deployments ?? null}
            empty="No other deployments at this endpoint."
          >
            {(list) => <DeploymentsTable deployments={list} caption="What served this endpoint, newest first" />}
          </AwaitList>
        </Section>
      )}
    </>
  );
}
