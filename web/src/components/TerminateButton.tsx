import { api } from "../api/client";
import type { Deployment } from "../gen/catapult/v1/deployment_pb";
import { ActionError, useAction } from "./ActionError";
import { ConfirmButton } from "./controls";

/** Terminate a deployment (DeleteDeployment keeps the record), after a confirmation. */
export function TerminateButton({ deployment, onDone }: { deployment: Deployment; onDone: () => void }) {
  const action = useAction();
  if (deployment.status === "terminated") return null;
  return (
    <>
      <ConfirmButton
        label="Terminate"
        title={`Terminate ${deployment.modelName} ${deployment.releaseVersion} in ${deployment.environment}?`}
        confirmLabel="Terminate"
        onConfirm={async () => {
          if (await action.run(() => api.deployments.deleteDeployment({ id: deployment.id, etag: deployment.etag }))) onDone();
        }}
      >
        <p>
          {deployment.endpointUrl ? (
            <>
              <code>{deployment.endpointUrl}</code> will no longer be recorded as served by this release.
            </>
          ) : (
            "It will no longer be recorded as live."
          )}{" "}
          The record stays in the history.
        </p>
      </ConfirmButton>
      <ActionError problem={action.problem} />
    </>
  );
}
