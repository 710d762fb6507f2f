import { useId, useState, type SubmitEvent } from "react";

import { findBlastRadius } from "../api/blastRadius";
import { Await, Empty } from "../components/states";
import { DeploymentsTable, Status } from "../components/tables";
import { usePageTitle } from "../lib/page";
import { Link, navigate, useLocation, withQuery } from "../lib/router";
import { useRpc } from "../lib/useRpc";

export function BlastRadius() {
  usePageTitle("Blast radius");
  const { query, path } = useLocation();
  const searched = (query.get("q") ?? "").trim();
  return (
    <>
      <h1>Blast radius</h1>
      <p className="lead">
        Paste an image digest or an artifact checksum to see the releases that carry it and the customers&apos;
        endpoints serving them now.
      </p>
      <SearchForm key={searched} initial={searched} onSearch={(q) => {
        navigate(withQuery(path, new URLSearchParams(q ? { q } : {})));
      }} />
      {searched ? <Results q={searched} /> : <Empty>Enter a digest or checksum such as sha256:… to start.</Empty>}
    </>
  );
}

function SearchForm({ initial, onSearch }: { initial: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(initial);
  const id = useId();
  function submit(event: SubmitEvent) {
    event.preventDefault();
    onSearch(text.trim());
  }
  return (
    <form className="filters" role="search" aria-label="Blast radius search" onSubmit={submit}>
      <div className="field grow">
        <label htmlFor={id}>Image digest or artifact checksum</label>
        <input
          id={id}
          type="search"
          value={text}
          spellCheck={false}
          placeholder="sha256:def456…"
          onChange={(event) => {
            setText(event.target.value);
          }}
        />
      </div>
      <div className="actions">
        <button type="submit" className="primary">
          Find
        </button>
      </div>
    </form>
  );
}

function Results({ q }: { q: string }) {
  const radius = useRpc(`blast:${q}`, (signal) => findBlastRadius(q, signal));
  return (
    <Await loaded={radius} what="releases and endpoints">
      {(carriers) => {
        if (carriers.length === 0) return <Empty>No release has this digest or an artifact with this checksum.</Empty>;
        const endpoints = carriers.reduce((n, c) => n + c.live.length, 0);
        return (
          <>
            <p className="summary" role="status">
              {carriers.length} {carriers.length === 1 ? "release carries" : "releases carry"} it;{" "}
              {endpoints} live {endpoints === 1 ? "deployment serves" : "deployments serve"} them.
            </p>
            {carriers.map(({ release, artifacts, live }) => (
              <section key={release.id} aria-labelledby={`carrier-${release.id}`} className="carrier">
                <h2 id={`carrier-${release.id}`}>
                  <Link to={`/models/${release.imageId}`}>{release.modelName}</Link>{" "}
                  <Link to={`/releases/${release.id}`}>{release.version}</Link>{" "}
                  {release.quantization && <span className="muted">{release.quantization}</span>}{" "}
                  <Status value={release.status} />
                </h2>
                <p className="small">
                  {artifacts.length > 0 && <>In {artifacts.map((a) => a.name).join(", ")} · </>}
                  image <code className="digest">{release.digest || "—"}</code>
                </p>
                {live.length === 0 ? (
                  <Empty>Not live anywhere.</Empty>
                ) : (
                  <DeploymentsTable deployments={live} caption={`Live deployments of ${release.modelName} ${release.version}`} showModel={false} />
                )}
              </section>
            ))}
          </>
        );
      }}
    </Await>
  );
}
