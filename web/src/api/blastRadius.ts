// Blast radius: given an artifact checksum (or an image digest), the releases that carry it and
// the endpoints serving those releases now.
//
// Today the server can find artifacts by checksum (ListArtifacts.checksum), so a checksum is
// followed artifact → release → live deployments here, one call per release. Finding releases by
// image digest needs ListReleases(digest) and ListDeployments(digest|artifact_checksum) from the
// server; when they land, findReleasesCarrying asks for them and the page stays as it is.
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

export async function findBlastRadius(checksumOrDigest: string, signal?: AbortSignal): Promise<Carrier[]> {
  const carriers = await findReleasesCarrying(checksumOrDigest, signal);
  return Promise.all(
    carriers.map(async (carrier) => {
      const live = await api.deployments.listDeployments(
        { releaseId: carrier.release.id, pageSize: 1000, ...LIVE_FILTER },
        { signal },
      );
      return { ...carrier, live: live.deployments };
    }),
  );
}

async function findReleasesCarrying(checksum: string, signal?: AbortSignal): Promise<Omit<Carrier, "live">[]> {
  const found = await api.artifacts.listArtifacts({ checksum, pageSize: 1000 }, { signal });
  const byRelease = new Map<string, Artifact[]>();
  for (const artifact of found.artifacts) {
    byRelease.set(artifact.releaseId, [...(byRelease.get(artifact.releaseId) ?? []), artifact]);
  }
  return Promise.all(
    [...byRelease].map(async ([id, artifacts]) => ({
      release: await api.releases.getRelease({ id }, { signal }),
      artifacts,
    })),
  );
}
