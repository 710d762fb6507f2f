// What "live" means, in one place: the server's definition (a deployment with status "success":
// neither superseded nor terminated), which ListDeployments applies with active_only. Every
// "live" list and count in the console asks with this filter.
import type { Deployment } from "../gen/catapult/v1/deployment_pb";

export const LIVE_FILTER = { activeOnly: true } as const;

export function isLive(deployment: Deployment): boolean {
  return deployment.status === "success";
}
