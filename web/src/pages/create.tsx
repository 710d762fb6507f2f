// The create pages: register a model, record a release, record a deployment. Each form is read
// from the resource's descriptor; the server validates and its field violations show at the
// fields. A reader reaching one by URL gets the form, and the server's refusal when submitting.
import { useState, type ReactNode } from "react";

import { canWrite } from "../api/caller";
import { api } from "../api/client";
import { ResourceForm } from "../components/ResourceForm";
import { DeploymentSchema } from "../gen/catapult/v1/deployment_pb";
import { ModelSchema } from "../gen/catapult/v1/model_pb";
import { ReleaseSchema } from "../gen/catapult/v1/release_pb";
import { useCaller, usePageTitle } from "../lib/page";
import { Link, navigate, useLocation } from "../lib/router";
import { newRequestId } from "../lib/requestId";
import { useRpc } from "../lib/useRpc";

function CreatePage({ title, context, children }: { title: string; context?: ReactNode; children: ReactNode }) {
  usePageTitle(title);
  const caller = useCaller();
  return (
    <>
      <h1>{title}</h1>
      {context}
      {!canWrite(caller) && (
        <p className="warning" role="note">
          Your key has the {caller?.role ?? "reader"} role: the server will refuse this.
        </p>
      )}
      {children}
    </>
  );
}

export function CreateModel() {
  const [requestId] = useState(newRequestId);
  return (
    <CreatePage title="Register a model">
      <ResourceForm
        schema={ModelSchema}
        resource="model"
        submitLabel="Register model"
        onSubmit={async (model) => {
          const created = await api.models.createModel({ model, requestId });
          navigate(`/models/${created.id}`);
        }}
      />
    </CreatePage>
  );
}

export function CreateRelease() {
  const { query } = useLocation();
  const modelId = query.get("model") ?? "";
  const [requestId] = useState(newRequestId);
  const model = useRpc(`model:${modelId}`, (signal) =>
    modelId ? api.models.getModel({ id: modelId }, { signal }) : Promise.resolve(null),
  );
  const context =
    model.state === "ok" && model.data ? (
      <p className="lead">
        Of <Link to={`/models/${model.data.id}`}>{model.data.name}</Link>
      </p>
    ) : null;
  return (
    <CreatePage title="Record a release" context={context}>
      <ResourceForm
        schema={ReleaseSchema}
        resource="release"
        fixed={modelId ? { image_id: modelId } : undefined}
        submitLabel="Record release"
        onSubmit={async (release) => {
          const created = await api.releases.createRelease({ release, requestId });
          navigate(`/releases/${created.id}`);
        }}
      />
    </CreatePage>
  );
}

export function CreateDeployment() {
  const { query } = useLocation();
  const releaseId = query.get("release") ?? "";
  const [requestId] = useState(newRequestId);
  const [force, setForce] = useState(false);
  const release = useRpc(`release:${releaseId}`, (signal) =>
    releaseId ? api.releases.getRelease({ id: releaseId }, { signal }) : Promise.resolve(null),
  );
  const deprecated = release.state === "ok" && release.data?.status === "deprecated";
  const context =
    release.state === "ok" && release.data ? (
      <p className="lead">
        Of <Link to={`/models/${release.data.imageId}`}>{release.data.modelName}</Link>{" "}
        <Link to={`/releases/${release.data.id}`}>{release.data.version}</Link>
        {deprecated && <strong className="warning"> (deprecated)</strong>}
      </p>
    ) : null;
  return (
    <CreatePage title="Record a deployment" context={context}>
      <ResourceForm
        schema={DeploymentSchema}
        resource="deployment"
        fixed={releaseId ? { release_id: releaseId } : undefined}
        initial={{ status: "success" }}
        submitLabel="Record deployment"
        onSubmit={async (deployment) => {
          const created = await api.deployments.createDeployment({ deployment, requestId, force });
          navigate(`/deployments/${created.id}`);
        }}
      >
        {deprecated && (
          <label className="flag">
            <input
              type="checkbox"
              checked={force}
              onChange={(event) => {
                setForce(event.target.checked);
              }}
            />
            Deploy this deprecated release anyway (force)
          </label>
        )}
      </ResourceForm>
    </CreatePage>
  );
}
