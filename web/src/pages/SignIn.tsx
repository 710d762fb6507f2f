import { useId, useState, type SubmitEvent } from "react";

import { fetchCaller } from "../api/caller";
import { toProblem } from "../api/errors";
import { forgetApiKey, storeApiKey, takeSignInNotice } from "../api/session";
import { usePageTitle } from "../lib/page";
import { safeNext } from "../lib/paths";
import { navigate, useLocation } from "../lib/router";

export function SignIn() {
  usePageTitle("Sign in");
  const { query } = useLocation();
  // Why the last key stopped working (the server's message), if that is why we are here.
  const [error, setError] = useState(takeSignInNotice);
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(event: SubmitEvent) {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError("Enter an API key.");
      return;
    }
    setBusy(true);
    storeApiKey(trimmed);
    try {
      await fetchCaller();
      navigate(safeNext(query.get("next")), { replace: true });
    } catch (failure) {
      setError(toProblem(failure).message);
      forgetApiKey();
      takeSignInNotice();
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sign-in">
      <h1>Catapult</h1>
      <p>Which release is live where, at which endpoint, for which customer — and what was before it.</p>
      <form onSubmit={(event) => void submit(event)} aria-label="Sign in" noValidate>
        <div className={error ? "field invalid" : "field"}>
          <label htmlFor={id}>API key</label>
          <input
            id={id}
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={key}
            aria-invalid={error ? "true" : undefined}
            aria-describedby={`${id}-help${error ? ` ${id}-error` : ""}`}
            onChange={(event) => {
              setKey(event.target.value);
            }}
          />
          <p className="hint" id={`${id}-help`}>
            Kept in this tab only (sessionStorage) until you sign out or close it. Ask an admin for a key, or
            read <code>.catapult/admin-key</code> of a local stack.
          </p>
          {error && (
            <p className="field-error" id={`${id}-error`} role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
