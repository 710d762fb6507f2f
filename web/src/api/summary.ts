// What a dashboard card shows beyond the model itself: its latest release and how many live
// deployments it has. Two calls per model today (the newest release; the live deployments up
// to LIVE_COUNT_LIMIT), made only for the cards on screen; a bulk summary from the server can
// replace this module without touching the dashboard.
import type { Release } from "../gen/catapult/v1/release_pb";
import { api } from "./client";
import { LIVE_FILTER } from "./live";

export const LIVE_COUNT_LIMIT = 100;

export interface ModelSummary {
  latestRelease: Release | undefined;
  liveDeployments: number;
  /** More live deployments exist than were counted. */
  moreLive: boolean;
}

export async function fetchModelSummary(modelId: string, signal?: AbortSignal): Promise<ModelSummary> {
  const [releases, live] = await Promise.all([
    api.releases.listReleases({ imageId: modelId, pageSize: 1 }, { signal }),
    api.deployments.listDeployments({ modelId, pageSize: LIVE_COUNT_LIMIT, ...LIVE_FILTER }, { signal }),
  ]);
  return {
    latestRelease: releases.releases[0],
    liveDeployments: live.deployments.length,
    moreLive: live.nextPageToken !== "",
  };
}
