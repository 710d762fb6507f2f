import { useState } from "react";

import { api } from "../api/client";
import { ActionError, useAction } from "../components/ActionError";
import { ConfirmButton, CopyButton, Pager } from "../components/controls";
import { FilterForm, type FilterControl } from "../components/FilterForm";
import { ResourceForm } from "../components/ResourceForm";
import { AwaitList } from "../components/states";
import { Table, Time } from "../components/tables";
import { ApiKeySchema, type ApiKey } from "../gen/catapult/v1/api_key_pb";
import { useCaller, usePageTitle } from "../lib/page";
import { currentPageToken, readFilters } from "../lib/query";
import { useLocation } from "../lib/router";
import { useRpc } from "../lib/useRpc";

const KEY_FILTERS = { revoked: "flag" } as const;
const CONTROLS: FilterControl[] = [{ name: "revoked", label: "Show revoked keys", kind: "flag" }];

export function AdminKeys() {
  usePageTitle("API keys");
  const { query } = useLocation();
  const filters = readFilters(KEY_FILTERS, query);
  const pageToken = currentPageToken(query);
  const keys = useRpc(`keys?${query.toString()}`, (signal) =>
    api.apiKeys.listApiKeys({ includeRevoked: filters.revoked, pageSize: 50, pageToken }, { signal }),
  );
  // The new key's secret lives only here, in memory, until dismissed: never in the URL.
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);

  return (
    <>
      <h1>API keys</h1>
      <section aria-labelledby="new-key-heading" className="panel">
        <h2 id="new-key-heading">Create a key</h2>
        {created ? (
          <div className="secret" role="status">
            <p>
              The key <strong>{created.name}</strong> was created. Copy it now: it is shown only this once.
            </p>
            <p className="endpoint">
              <code data-testid="new-key-secret">{created.secret}</code>
              <CopyButton text={created.secret} label="the new key" />
            </p>
            <button
              type="button"
              onClick={() => {
                setCreated(null);
              }}
            >
              I have stored it
            </button>
          </div>
        ) : (
          <ResourceForm
            schema={ApiKeySchema}
            resource="api_key"
            initial={{ role: "reader" }}
            submitLabel="Create key"
            onSubmit={async (apiKey) => {
              const response = await api.apiKeys.createApiKey({ apiKey });
              setCreated({ name: response.apiKey?.name ?? apiKey.name, secret: response.secret });
              keys.reload();
            }}
          />
        )}
      </section>
      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading">Keys</h2>
        <FilterForm spec={KEY_FILTERS} controls={CONTROLS} label="Filter keys" />
        <AwaitList loaded={keys} what="API keys" items={(page) => page.apiKeys} empty="No keys.">
          {(list, page) => (
            <>
              <KeysTable keys={list} onRevoked={keys.reload} />
              <Pager nextToken={page.nextPageToken} label="API keys" />
            </>
          )}
        </AwaitList>
      </section>
    </>
  );
}

function KeysTable({ keys, onRevoked }: { keys: readonly ApiKey[]; onRevoked: () => void }) {
  return (
    <Table
      caption="Keys, newest first (secrets are never shown again)"
      columns={["Name", "Role", "Prefix", "Created", "Last used", "Expires", "State"]}
    >
      {keys.map((key) => (
        <KeyRow key={key.id} apiKey={key} onRevoked={onRevoked} />
      ))}
    </Table>
  );
}

function KeyRow({ apiKey, onRevoked }: { apiKey: ApiKey; onRevoked: () => void }) {
  const caller = useCaller();
  const revoke = useAction();
  const own = caller?.id === apiKey.id;
  return (
    <tr className={apiKey.revokedAt ? "past" : ""}>
      <td>
        {apiKey.name}
        {own && <span className="muted"> (this key)</span>}
        {apiKey.createdBy && <div className="small muted">by {apiKey.createdBy}</div>}
      </td>
      <td>
        <span className={`role role-${apiKey.role}`}>{apiKey.role}</span>
      </td>
      <td>
        <code>{apiKey.prefix}</code>
      </td>
      <td>
        <Time value={apiKey.createdAt} />
      </td>
      <td>{apiKey.lastUsedAt ? <Time value={apiKey.lastUsedAt} /> : "never"}</td>
      <td>{apiKey.expiresAt ? <Time value={apiKey.expiresAt} /> : "never"}</td>
      <td>
        {apiKey.revokedAt ? (
          <>
            revoked <Time value={apiKey.revokedAt} />
          </>
        ) : (
          <>
            <ConfirmButton
              label={`Revoke ${apiKey.name}`}
              title={`Revoke ${apiKey.name}?`}
              confirmLabel="Revoke"
              onConfirm={async () => {
                if (await revoke.run(() => api.apiKeys.revokeApiKey({ id: apiKey.id }))) onRevoked();
              }}
            >
              <p>Every request with this key is refused within seconds. This cannot be undone.</p>
              {own && <p className="warning">This is the key you are signed in with: you will be signed out.</p>}
            </ConfirmButton>
            <ActionError problem={revoke.problem} />
          </>
        )}
      </td>
    </tr>
  );
}
