// The lists several pages share: deployments (endpoint first: it is what people look for),
// releases, audit rows, and tags and statuses as badges.
import type { ReactNode } from "react";

import type { Artifact } from "../gen/catapult/v1/artifact_pb";
import type { AuditLog } from "../gen/catapult/v1/audit_log_pb";
import type { Deployment } from "../gen/catapult/v1/deployment_pb";
import type { Release } from "../gen/catapult/v1/release_pb";
import { isLive } from "../api/live";
import { formatBytes, formatTime, isoTime, prettyJson } from "../lib/format";
import { Link } from "../lib/router";
import { CopyButton } from "./controls";

/** A captioned table with a header row; `children` are its body rows. */
export function Table({
  caption,
  columns,
  children,
}: {
  caption: string;
  columns: readonly (string | false)[];
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.filter(Boolean).map((column) => (
              <th scope="col" key={String(column)}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function Tags({ tags }: { tags: readonly string[] }) {
  if (tags.length === 0) return <span className="muted">no tags</span>;
  return (
    <ul className="tags" aria-label="Tags">
      {tags.map((tag) => (
        <li key={tag} className="tag">
          {tag}
        </li>
      ))}
    </ul>
  );
}

export function Status({ value }: { value: string }) {
  return <span className={`status status-${value || "none"}`}>{value || "—"}</span>;
}

export function Time({ value }: { value: Parameters<typeof formatTime>[0] }) {
  return <time dateTime={isoTime(value)}>{formatTime(value)}</time>;
}

export function Endpoint({ url }: { url: string }) {
  if (!url) return <span className="muted">no endpoint</span>;
  return (
    <span className="endpoint">
      <code>{url}</code>
      <CopyButton text={url} label={`endpoint ${url}`} />
    </span>
  );
}

export function DeploymentsTable({
  deployments,
  caption,
  showModel = true,
  actions,
  changed,
}: {
  deployments: readonly Deployment[];
  caption: string;
  showModel?: boolean;
  actions?: (deployment: Deployment) => ReactNode;
  /** Deployments a watch reported changed since the list was read: their rows are marked. */
  changed?: ReadonlyMap<string, unknown>;
}) {
  return (
    <Table
      caption={caption}
      columns={[
        "Endpoint",
        showModel && "Model",
        "Release",
        "Environment",
        "Cluster / namespace",
        "Company",
        "Status",
        "Deployed",
        actions !== undefined && "Actions",
      ]}
    >
      {deployments.map((d) => (
        <tr key={d.id} className={`${isLive(d) ? "live" : "past"}${changed?.has(d.id) ? " changed" : ""}`}>
          <td>
            <Endpoint url={d.endpointUrl} />
            <div>
              <Link to={`/deployments/${d.id}`} className="small">
                Deployment details
              </Link>
            </div>
          </td>
          {showModel && (
            <td>
              <Link to={`/models/${d.modelId}`}>{d.modelName}</Link>
            </td>
          )}
          <td>
            <Link to={`/releases/${d.releaseId}`}>{d.releaseVersion}</Link>
            {d.quantization && <span className="muted"> {d.quantization}</span>}
          </td>
          <td>{d.environment}</td>
          <td>
            {d.cluster || "—"}
            {d.k8sNamespace && <span className="muted"> / {d.k8sNamespace}</span>}
          </td>
          <td>{d.company || "—"}</td>
          <td>
            <Status value={d.status} />
            {d.terminatedAt && (
              <div className="small muted">
                until <Time value={d.terminatedAt} />
              </div>
            )}
          </td>
          <td>
            <Time value={d.deployedAt} />
            {d.deployedBy && <div className="small muted">by {d.deployedBy}</div>}
          </td>
          {actions && <td>{actions(d)}</td>}
        </tr>
      ))}
    </Table>
  );
}

export function ReleasesTable({ releases, caption }: { releases: readonly Release[]; caption: string }) {
  return (
    <Table caption={caption} columns={["Version", "Quantization", "Tag", "Digest", "Status", "Created"]}>
      {releases.map((r) => (
        <tr key={r.id} className={r.status === "deprecated" ? "deprecated" : ""}>
          <td>
            <Link to={`/releases/${r.id}`}>{r.version}</Link>
            {r.status === "deprecated" && <span className="deprecated-mark"> (deprecated)</span>}
          </td>
          <td>{r.quantization || "—"}</td>
          <td>{r.tag || "—"}</td>
          <td>
            <code className="digest">{r.digest || "—"}</code>
          </td>
          <td>
            <Status value={r.status} />
          </td>
          <td>
            <Time value={r.createdAt} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

const RESOURCE_PATHS: Record<string, string> = {
  model: "/models/",
  release: "/releases/",
  deployment: "/deployments/",
};

export function AuditTable({ rows, caption }: { rows: readonly AuditLog[]; caption: string }) {
  return (
    <Table caption={caption} columns={["When", "Who", "What", "Resource", "Changes"]}>
      {rows.map((row) => {
        const path = RESOURCE_PATHS[row.resourceType];
        const changes = prettyJson(row.changes);
        return (
          <tr key={row.id}>
            <td>
              <Time value={row.createdAt} />
            </td>
            <td>{row.apiKeyName || "catapult CLI"}</td>
            <td>
              {row.action} {row.resourceType.replace("_", " ")}
            </td>
            <td>
              {path && row.action !== "delete" ? (
                <Link to={path + row.resourceId}>{resourceName(row)}</Link>
              ) : (
                <span>{resourceName(row)}</span>
              )}
            </td>
            <td>
              {changes && (
                <details>
                  <summary>Changes</summary>
                  <pre>{changes}</pre>
                </details>
              )}
            </td>
          </tr>
        );
      })}
    </Table>
  );
}

/** The name an audit row's changes give its resource (a create records the new values), else
 * the start of its id. */
function resourceName(row: AuditLog): string {
  const name = row.changes?.name ?? row.changes?.version ?? row.changes?.endpoint_url;
  return typeof name === "string" && name ? name : row.resourceId.slice(0, 8);
}

export function ArtifactsTable({
  artifacts,
  caption,
  releaseLabel,
}: {
  artifacts: readonly Artifact[];
  caption: string;
  /** Adds a release column, labelled by this function. */
  releaseLabel?: (releaseId: string) => string;
}) {
  return (
    <Table
      caption={caption}
      columns={["Name", releaseLabel !== undefined && "Release", "Type", "Checksum", "Size", "Platform", "File"]}
    >
      {artifacts.map((a) => (
        <tr key={a.id}>
          <td>{a.name}</td>
          {releaseLabel && (
            <td>
              <Link to={`/releases/${a.releaseId}`}>{releaseLabel(a.releaseId)}</Link>
            </td>
          )}
          <td>{a.artifactType}</td>
          <td>
            {a.checksum ? (
              <Link to={`/blast-radius?${new URLSearchParams({ q: a.checksum }).toString()}`}>
                <code className="digest">{a.checksum}</code>
              </Link>
            ) : (
              "—"
            )}
          </td>
          <td>{formatBytes(a.sizeBytes)}</td>
          <td>{[a.platform, a.pythonVersion && `py${a.pythonVersion}`].filter(Boolean).join(" ") || "—"}</td>
          <td>
            <code>{a.filePath}</code>
          </td>
        </tr>
      ))}
    </Table>
  );
}
