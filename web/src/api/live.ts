// What "live" means, in one place: the server's definition (a deployment with status "success":
// neither superseded nor terminated), which ListDeployments applies with active_only and
// WatchDeployments too. Every "live" list and count in the console asks with this filter, and a
// list kept current by a watch applies the same rule to each change.
import type { ChangeEvent } from "../gen/catapult/v1/change_pb";
import type { Deployment } from "../gen/catapult/v1/deployment_pb";

export const LIVE_FILTER = { activeOnly: true } as const;

export function isLive(deployment: Deployment): boolean {
  return deployment.status === "success";
}

/** The latest change a watch reported for one deployment. */
export interface DeploymentChange {
  deployment: Deployment;
  deleted: boolean;
}

/** Deployment changes by id, the most recently changed last. */
export type DeploymentChanges = ReadonlyMap<string, DeploymentChange>;

/** `changes` with a watch's batch of events (in commit order) added: each deployment keeps its
 * latest change, and moves to the end as the most recently changed. */
export function addChanges(changes: DeploymentChanges, events: readonly ChangeEvent[]): DeploymentChanges {
  const next = new Map(changes);
  for (const event of events) {
    if (event.resource.case !== "deployment") continue;
    const deployment = event.resource.value;
    next.delete(deployment.id);
    next.set(deployment.id, { deployment, deleted: event.type === "deleted" });
  }
  return next;
}

/** The list a page shows once `changes` are applied to what the server listed: a deployment
 * changed in place is replaced where it stands; one new to the list goes on top, the most
 * recently changed first; one that left the list's scope (no longer live in a list of live
 * ones, or deleted) is removed. Applying the same changes twice gives the same list. */
export function withChanges(
  listed: readonly Deployment[],
  changes: DeploymentChanges,
  liveOnly: boolean,
): Deployment[] {
  const belongs = ({ deployment, deleted }: DeploymentChange) => !deleted && (!liveOnly || isLive(deployment));
  const kept = listed.flatMap((d) => {
    const change = changes.get(d.id);
    if (!change) return [d];
    return belongs(change) ? [change.deployment] : [];
  });
  const listedIds = new Set(listed.map((d) => d.id));
  const arrived = [...changes.values()]
    .filter((change) => !listedIds.has(change.deployment.id) && belongs(change))
    .map((change) => change.deployment)
    .reverse();
  return [...arrived, ...kept];
}
