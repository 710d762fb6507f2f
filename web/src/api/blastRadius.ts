// Blast radius: given an image digest or an artifact checksum, the releases that carry it and the
// endpoints serving those releases now. Four calls, whatever the answer's size: the releases with
// that digest, the artifacts with that checksum (their releases fetched by id), and the live
// deployments of either (ListDeployments' digest and artifact_checksum filters).
import type { Artifact } from "../gen/catapult/v1/artifact_pb";
import type { Deployment } from "../gen/catapult/v1/deployment_pb";
import type { Release } from "../gen/catapult/v1/release_pb";
import { api } from "./client";
import { LIVE_FILTER } from "./live";

export interface Carrier {
  release: Release;
  /** The release's artifacts with that checksum (none when the release's digest matched). */
  artifacts: Artifact[];
  live: Deployment[];
}

// Enough for any real incident; a larger answer is cut here rather than paged.
const LIMIT = 1000;

export async function findBlastRadius(value: string, signal?: AbortSignal): Promise<Carrier[]> {
  const options = { signal };
  const [byDigest, artifacts, liveByDigest, liveByChecksum] = await Promise.all([
    api.releases.listReleases({ digest: value, pageSize: LIMIT }, options),
    api.artifacts.listArtifacts({ checksum: value, pageSize: LIMIT }, options),
    api.deployments.listDeployments({ digest: value, pageSize: LIMIT, ...LIVE_FILTER }, options),
    api.deployments.listDeployments({ artifactChecksum: value, pageSize: LIMIT, ...LIVE_FILTER }, options),
  ]);
  const releases = new Map(byDigest.releases.map((release) => [release.id, release]));
  const missing = [...new Set(artifacts.artifacts.map((a) => a.releaseId))].filter((id) => !releases.has(id));
  for (const release of await Promise.all(missing.map((id) => api.releases.getRelease({ id }, options)))) {
    releases.set(release.id, release);
  }
  const live = [...liveByDigest.deployments, ...liveByChecksum.deployments];
  return [...releases.values()].map((release) => ({
    release,
    artifacts: artifacts.artifacts.filter((a) => a.releaseId === release.id),
    live: live.filter((d, i) => d.releaseId === release.id && live.findIndex((o) => o.id === d.id) === i),
  }));
}
