// Filters and keyset paging as URL query parameters: every list view reads its state from the
// URL and writes it back there, so a link restores the view and the back button undoes a step.

export type FilterKind = "text" | "list" | "flag";
export type FilterSpec = Readonly<Record<string, FilterKind>>;
export type FilterValues<S extends FilterSpec> = {
  [K in keyof S]: S[K] extends "list" ? string[] : S[K] extends "flag" ? boolean : string;
};

/** The filter values `query` holds; absent parameters are "", [] or false. */
export function readFilters<S extends FilterSpec>(spec: S, query: URLSearchParams): FilterValues<S> {
  const values: Record<string, string | string[] | boolean> = {};
  for (const [name, kind] of Object.entries(spec)) {
    if (kind === "list") values[name] = query.getAll(name).flatMap(splitList);
    else if (kind === "flag") values[name] = query.get(name) === "1";
    else values[name] = (query.get(name) ?? "").trim();
  }
  return values as FilterValues<S>;
}

/** The query for `values`: empty values left out, lists as repeated parameters, flags as "1".
 * Paging is not carried over: other filters are another list. */
export function filtersQuery<S extends FilterSpec>(
  spec: S,
  values: Partial<FilterValues<S>>,
): URLSearchParams {
  const query = new URLSearchParams();
  for (const [name, kind] of Object.entries(spec)) {
    const value: unknown = values[name];
    if (kind === "list" && Array.isArray(value)) {
      for (const item of value) if (typeof item === "string" && item.trim()) query.append(name, item.trim());
    } else if (kind === "flag" && value === true) {
      query.set(name, "1");
    } else if (kind === "text" && typeof value === "string" && value.trim()) {
      query.set(name, value.trim());
    }
  }
  return query;
}

/** "production, chatbot,," → ["production", "chatbot"]: how a list is typed into one field. */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

// Keyset paging: the server hands out an opaque next_page_token per page. The URL keeps the
// trail of tokens that led to the current page (`page` repeated, the last one current), so the
// page itself is a deep link and "Previous" needs no server support.
export const PAGE_PARAM = "page";

export function pageTrail(query: URLSearchParams, param = PAGE_PARAM): string[] {
  return query.getAll(param).filter((token) => token !== "");
}

/** The page_token to request: "" for the first page. */
export function currentPageToken(query: URLSearchParams, param = PAGE_PARAM): string {
  return pageTrail(query, param).at(-1) ?? "";
}

/** 1 for the first page. */
export function pageNumber(query: URLSearchParams, param = PAGE_PARAM): number {
  return pageTrail(query, param).length + 1;
}

export function nextPageQuery(query: URLSearchParams, nextToken: string, param = PAGE_PARAM): URLSearchParams {
  const next = new URLSearchParams(query);
  next.append(param, nextToken);
  return next;
}

export function previousPageQuery(query: URLSearchParams, param = PAGE_PARAM): URLSearchParams {
  const trail = pageTrail(query, param).slice(0, -1);
  const previous = new URLSearchParams(query);
  previous.delete(param);
  for (const token of trail) previous.append(param, token);
  return previous;
}

/** `query` with `name` set to `value`, or removed when `value` is empty. */
export function withParam(query: URLSearchParams, name: string, value: string): URLSearchParams {
  const next = new URLSearchParams(query);
  if (value) next.set(name, value);
  else next.delete(name);
  return next;
}
