// A resource's fields as a definition list, and its metadata JSON pretty-printed.
import type { ReactNode } from "react";

import { prettyJson } from "../lib/format";

export function Facts({ items }: { items: readonly [string, ReactNode][] }) {
  return (
    <dl className="facts wide">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value === "" || value === null || value === undefined ? "—" : value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Metadata({ value }: { value: object | undefined }) {
  const text = prettyJson(value);
  return (
    <section aria-labelledby="metadata-heading">
      <h2 id="metadata-heading">Metadata</h2>
      {text ? (
        <pre className="json" tabIndex={0} aria-label="Metadata as JSON">
          {text}
        </pre>
      ) : (
        <p className="state empty">No metadata.</p>
      )}
    </section>
  );
}
