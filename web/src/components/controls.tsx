// Small controls used across pages: copy to clipboard, confirm before a destructive action,
// previous/next for keyset pages.
import { useId, useRef, useState, type ReactNode } from "react";

import { currentPageToken, nextPageQuery, pageNumber, previousPageQuery, PAGE_PARAM } from "../lib/query";
import { Link, useLocation, withQuery } from "../lib/router";

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    await navigator.clipboard.writeText(text);
    setCopied(true);
    window.setTimeout(() => {
      setCopied(false);
    }, 2000);
  }
  return (
    <button type="button" className="copy" onClick={() => void copy()} aria-label={`Copy ${label}`}>
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

/** A button that asks first, in a modal dialog (Escape or Cancel backs out). */
export function ConfirmButton({
  label,
  title,
  children,
  confirmLabel,
  onConfirm,
  danger = true,
}: {
  label: string;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<void>;
  danger?: boolean;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  async function confirm() {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      dialog.current?.close();
    }
  }
  return (
    <>
      <button type="button" className={danger ? "danger" : ""} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId}>
        <h2 id={titleId}>{title}</h2>
        <div>{children}</div>
        <div className="actions">
          <button type="button" onClick={() => dialog.current?.close()} autoFocus>
            Cancel
          </button>
          <button type="button" className={danger ? "danger" : ""} disabled={busy} onClick={() => void confirm()}>
            {confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}

/** Previous / next links for a keyset-paged list whose page tokens live in `param`. */
export function Pager({ nextToken, param = PAGE_PARAM, label }: { nextToken: string; param?: string; label: string }) {
  const { path, query } = useLocation();
  const onFirst = currentPageToken(query, param) === "";
  if (onFirst && !nextToken) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      {onFirst ? (
        <span aria-disabled="true">← Previous</span>
      ) : (
        <Link to={withQuery(path, previousPageQuery(query, param))} rel="prev">
          ← Previous
        </Link>
      )}
      <span>Page {pageNumber(query, param)}</span>
      {nextToken ? (
        <Link to={withQuery(path, nextPageQuery(query, nextToken, param))} rel="next">
          Next →
        </Link>
      ) : (
        <span aria-disabled="true">Next →</span>
      )}
    </nav>
  );
}
