// The artifacts of several releases (a model page shows those of the releases on screen): one
// ListArtifacts per release, in parallel, until the server can filter artifacts by model.
import type { Artifact } from "../gen/catapult/v1/artifact_pb";
import { api } from "./client";

export async function fetchArtifactsOfReleases(releaseIds: readonly string[], signal?: AbortSignal): Promise<Artifact[]> {
  const pages = await Promise.all(
    releaseIds.map((releaseId) => api.artifacts.listArtifacts({ releaseId, pageSize: 100 }, { signal })),
  );
  return pages.flatMap((page) => page.artifacts);
}
