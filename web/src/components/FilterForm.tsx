// A list view's filters. The URL is their only state: the form starts from it, "Apply" (or Enter)
// writes it, and a select or checkbox writes it at once. Any change goes back to page 1.
import { useId, useState, type SubmitEvent } from "react";

import { isoToLocalInput, localInputToIso } from "../lib/format";
import { filtersQuery, readFilters, splitList, type FilterSpec, type FilterValues } from "../lib/query";
import { navigate, useLocation, withQuery } from "../lib/router";

export interface FilterControl {
  name: string;
  label: string;
  kind: "text" | "list" | "select" | "flag" | "datetime";
  /** A select's choices, or a text field's suggestions. */
  options?: readonly string[];
  placeholder?: string;
}

export function FilterForm({
  spec,
  controls,
  label,
}: {
  spec: FilterSpec;
  controls: readonly FilterControl[];
  label: string;
}) {
  const { path, href, query } = useLocation();
  // Keyed by the URL: after navigation (back button included) the form shows the URL's values.
  return <FilterFields key={href} spec={spec} controls={controls} label={label} path={path} initial={readFilters(spec, query)} />;
}

function FilterFields<S extends FilterSpec>({
  spec,
  controls,
  label,
  path,
  initial,
}: {
  spec: S;
  controls: readonly FilterControl[];
  label: string;
  path: string;
  initial: FilterValues<S>;
}) {
  // A list is edited as the text "a, b" and split when applied.
  const [values, setValues] = useState<Record<string, string | boolean>>(() =>
    Object.fromEntries(
      Object.entries(initial as Record<string, string | string[] | boolean>).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(", ") : value,
      ]),
    ),
  );
  const idPrefix = useId();

  function apply(next: Record<string, string | boolean>) {
    const typed = Object.fromEntries(
      Object.entries(next).map(([name, value]) => [
        name,
        spec[name] === "list" && typeof value === "string" ? splitList(value) : value,
      ]),
    );
    navigate(withQuery(path, filtersQuery(spec, typed as Partial<FilterValues<S>>)));
  }
  function submit(event: SubmitEvent) {
    event.preventDefault();
    apply(values);
  }
  function set(name: string, value: string | boolean, immediately = false) {
    const next = { ...values, [name]: value };
    setValues(next);
    if (immediately) apply(next);
  }

  return (
    <form className="filters" role="search" aria-label={label} onSubmit={submit}>
      {controls.map((control) => {
        const id = `${idPrefix}-${control.name}`;
        const value = values[control.name];
        switch (control.kind) {
          case "flag":
            return (
              <label key={control.name} className="flag" htmlFor={id}>
                <input
                  id={id}
                  type="checkbox"
                  checked={value === true}
                  onChange={(event) => {
                    set(control.name, event.target.checked, true);
                  }}
                />
                {control.label}
              </label>
            );
          case "select":
            return (
              <div key={control.name} className="field">
                <label htmlFor={id}>{control.label}</label>
                <select
                  id={id}
                  value={typeof value === "string" ? value : ""}
                  onChange={(event) => {
                    set(control.name, event.target.value, true);
                  }}
                >
                  <option value="">Any</option>
                  {(control.options ?? []).map((option) => (
                    <option key={option} value={option}>
                      {option}
                    </option>
                  ))}
                </select>
              </div>
            );
          case "datetime":
            return (
              <div key={control.name} className="field">
                <label htmlFor={id}>{control.label} (UTC)</label>
                <input
                  id={id}
                  type="datetime-local"
                  value={isoToLocalInput(typeof value === "string" ? value : "")}
                  onChange={(event) => {
                    set(control.name, localInputToIso(event.target.value));
                  }}
                />
              </div>
            );
          default:
            return (
              <div key={control.name} className="field">
                <label htmlFor={id}>{control.label}</label>
                <input
                  id={id}
                  type={control.name === "search" ? "search" : "text"}
                  placeholder={control.placeholder}
                  list={control.options?.length ? `${id}-options` : undefined}
                  value={typeof value === "string" ? value : ""}
                  onChange={(event) => {
                    set(control.name, event.target.value);
                  }}
                />
                {control.options && (
                  <datalist id={`${id}-options`}>
                    {control.options.map((option) => (
                      <option key={option} value={option} />
                    ))}
                  </datalist>
                )}
              </div>
            );
        }
      })}
      <div className="actions">
        <button type="submit">Apply</button>
        <button
          type="button"
          onClick={() => {
            navigate(path);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
