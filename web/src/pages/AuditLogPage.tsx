import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";

import { api } from "../api/client";
import { Pager } from "../components/controls";
import { FilterForm, type FilterControl } from "../components/FilterForm";
import { AwaitList } from "../components/states";
import { AuditTable } from "../components/tables";
import { usePageTitle } from "../lib/page";
import { currentPageToken, filtersQuery, readFilters } from "../lib/query";
import { useLocation } from "../lib/router";
import { useRpc } from "../lib/useRpc";
import { AUDIT_ACTIONS, RESOURCE_TYPES } from "../lib/vocabulary";

const AUDIT_FILTERS = {
  resource_type: "text",
  action: "text",
  key: "text",
  resource_id: "text",
  after: "text",
  before: "text",
} as const;

const CONTROLS: FilterControl[] = [
  { name: "resource_type", label: "Resource type", kind: "select", options: RESOURCE_TYPES.values },
  { name: "action", label: "Action", kind: "select", options: AUDIT_ACTIONS.values },
  { name: "key", label: "API key name", kind: "text" },
  { name: "resource_id", label: "Resource id", kind: "text" },
  { name: "after", label: "At or after", kind: "datetime" },
  { name: "before", label: "Before", kind: "datetime" },
];

function timestamp(iso: string): Timestamp | undefined {
  return iso ? timestampFromDate(new Date(iso)) : undefined;
}

export function AuditLogPage() {
  usePageTitle("Audit log");
  const { query } = useLocation();
  const filters = readFilters(AUDIT_FILTERS, query);
  const pageToken = currentPageToken(query);
  const rows = useRpc(`audit?${query.toString()}`, (signal) =>
    api.auditLogs.listAuditLogs(
      {
        resourceType: filters.resource_type,
        action: filters.action,
        apiKeyName: filters.key,
        resourceId: filters.resource_id,
        after: timestamp(filters.after),
        before: timestamp(filters.before),
        pageSize: 50,
        pageToken,
      },
      { signal },
    ),
  );
  const filtered = filtersQuery(AUDIT_FILTERS, filters).size > 0;
  return (
    <>
      <h1>Audit log</h1>
      <FilterForm spec={AUDIT_FILTERS} controls={CONTROLS} label="Filter the audit log" />
      <AwaitList
        loaded={rows}
        what="the audit log"
        items={(page) => page.auditLogs}
        empty={filtered ? "No changes match these filters." : "Nothing has changed yet."}
      >
        {(list, page) => (
          <>
            <AuditTable rows={list} caption="Every change, newest first" />
            <Pager nextToken={page.nextPageToken} label="Audit log" />
          </>
        )}
      </AwaitList>
    </>
  );
}
