// The shell: sign-in gate, header with navigation and the caller, and the page for the URL.
import { useEffect, useSyncExternalStore, type ReactNode } from "react";

import { canAdminister, canWrite, fetchCaller } from "./api/caller";
import { apiKey, forgetApiKey, SESSION_EVENT } from "./api/session";
import { ErrorNotice, Loading } from "./components/states";
import { CallerContext } from "./lib/page";
import { SIGN_IN_PATH } from "./lib/paths";
import { Link, matchPath, navigate, useLocation } from "./lib/router";
import { useRpc } from "./lib/useRpc";
import { AdminKeys } from "./pages/AdminKeys";
import { AuditLogPage } from "./pages/AuditLogPage";
import { BlastRadius } from "./pages/BlastRadius";
import { CreateDeployment, CreateModel, CreateRelease } from "./pages/create";
import { Dashboard } from "./pages/Dashboard";
import { DeploymentDetail } from "./pages/DeploymentDetail";
import { Deployments } from "./pages/Deployments";
import { ModelDetail } from "./pages/ModelDetail";
import { NotFound } from "./pages/NotFound";
import { ReleaseDetail } from "./pages/ReleaseDetail";
import { SignIn } from "./pages/SignIn";

type Page = (params: Record<string, string>) => ReactNode;

// Most specific first: "/models/new" before "/models/:id".
const ROUTES: readonly [string, Page][] = [
  ["/", () => <Dashboard />],
  ["/models/new", () => <CreateModel />],
  ["/models/:id", ({ id = "" }) => <ModelDetail id={id} />],
  ["/releases/new", () => <CreateRelease />],
  ["/releases/:id", ({ id = "" }) => <ReleaseDetail id={id} />],
  ["/deployments", () => <Deployments />],
  ["/deployments/new", () => <CreateDeployment />],
  ["/deployments/:id", ({ id = "" }) => <DeploymentDetail id={id} />],
  ["/blast-radius", () => <BlastRadius />],
  ["/admin/keys", () => <AdminKeys />],
  ["/admin/audit", () => <AuditLogPage />],
];

function route(path: string): ReactNode {
  for (const [pattern, page] of ROUTES) {
    const params = matchPath(pattern, path);
    if (params) return page(params);
  }
  return <NotFound />;
}

function subscribeSession(onChange: () => void): () => void {
  window.addEventListener(SESSION_EVENT, onChange);
  return () => {
    window.removeEventListener(SESSION_EVENT, onChange);
  };
}

export function App() {
  const location = useLocation();
  const key = useSyncExternalStore(subscribeSession, apiKey);
  const onSignIn = location.path === SIGN_IN_PATH;

  useEffect(() => {
    if (!key && !onSignIn) {
      // Back to sign-in, remembering where the person was going (a path, never the key).
      navigate(`${SIGN_IN_PATH}?${new URLSearchParams({ next: location.href }).toString()}`, { replace: true });
    }
  }, [key, onSignIn, location.href]);

  if (onSignIn) return <SignIn />;
  if (!key) return null;
  return <SignedIn apiKeyValue={key} />;
}

function SignedIn({ apiKeyValue }: { apiKeyValue: string }) {
  const { path } = useLocation();
  // The key's prefix names the cache entry: signing in with another key asks again.
  const caller = useRpc(`caller:${apiKeyValue.slice(0, 12)}`, fetchCaller);
  const current = caller.state === "ok" ? caller.data : null;

  return (
    <CallerContext.Provider value={current}>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Catapult
        </Link>
        <nav aria-label="Main">
          <ul>
            <NavItem to="/" label="Models" active={path === "/" || path.startsWith("/models")} />
            <NavItem to="/deployments" label="Deployments" active={path.startsWith("/deployments")} />
            <NavItem to="/blast-radius" label="Blast radius" active={path === "/blast-radius"} />
            {canAdminister(current) && (
              <NavItem to="/admin/keys" label="API keys" active={path === "/admin/keys"} />
            )}
            <NavItem to="/admin/audit" label="Audit log" active={path === "/admin/audit"} />
          </ul>
        </nav>
        <div className="who">
          {current && (
            <span>
              {current.name} <span className={`role role-${current.role}`}>{current.role}</span>
            </span>
          )}
          {canWrite(current) && (
            <Link to="/models/new" className="button">
              New model
            </Link>
          )}
          <button
            type="button"
            onClick={() => {
              forgetApiKey();
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {caller.state === "loading" && <Loading what="your key" />}
        {caller.state === "error" && <ErrorNotice problem={caller.problem} onRetry={caller.reload} />}
        {caller.state === "ok" && route(path)}
      </main>
    </CallerContext.Provider>
  );
}

function NavItem({ to, label, active }: { to: string; label: string; active: boolean }) {
  return (
    <li>
      <Link to={to} aria-current={active ? "page" : undefined}>
        {label}
      </Link>
    </li>
  );
}
