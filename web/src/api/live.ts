// What "live" means, in one place: a deployment that succeeded and is not terminated. Every
// "live" list and count in the console asks the server with these filters.
import type { Deployment } from "../gen/catapult/v1/deployment_pb";

export const LIVE_FILTER = { activeOnly: true, status: "success" } as const;

export function isLive(deployment: Deployment): boolean {
  return deployment.status === "success" && !deployment.terminatedAt;
}
