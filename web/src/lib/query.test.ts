import { describe, expect, it } from "vitest";

import {
  currentPageToken,
  filtersQuery,
  nextPageQuery,
  pageNumber,
  pageTrail,
  previousPageQuery,
  readFilters,
  splitList,
  withParam,
} from "./query";

const spec = { search: "text", tag: "list", history: "flag" } as const;

describe("filters in the URL", () => {
  it("reads every kind, with defaults for absent parameters", () => {
    expect(readFilters(spec, new URLSearchParams())).toEqual({ search: "", tag: [], history: false });
    const query = new URLSearchParams("search=%20llama%20&tag=production&tag=chat,bot&history=1");
    expect(readFilters(spec, query)).toEqual({ search: "llama", tag: ["production", "chat", "bot"], history: true });
  });

  it("writes values back, leaving out empty ones", () => {
    const query = filtersQuery(spec, { search: " llama ", tag: ["a", " ", "b"], history: false });
    expect(query.toString()).toBe("search=llama&tag=a&tag=b");
    expect(filtersQuery(spec, { history: true }).toString()).toBe("history=1");
  });

  it("round-trips: what is written reads back the same", () => {
    const values = { search: "gpt 4", tag: ["x/y", "ü"], history: true };
    expect(readFilters(spec, new URLSearchParams(filtersQuery(spec, values).toString()))).toEqual(values);
  });

  it("ignores parameters that are not filters", () => {
    expect(filtersQuery(spec, readFilters(spec, new URLSearchParams("page=abc&other=1"))).toString()).toBe("");
  });

  it("splits a typed list on commas", () => {
    expect(splitList(" production, chatbot,,  ")).toEqual(["production", "chatbot"]);
  });
});

describe("keyset paging in the URL", () => {
  it("starts on page 1 with no token", () => {
    const query = new URLSearchParams("company=A");
    expect(currentPageToken(query)).toBe("");
    expect(pageNumber(query)).toBe(1);
  });

  it("appends each next token and keeps the filters", () => {
    const page2 = nextPageQuery(new URLSearchParams("company=A"), "t1");
    const page3 = nextPageQuery(page2, "t2");
    expect(page3.toString()).toBe("company=A&page=t1&page=t2");
    expect(currentPageToken(page3)).toBe("t2");
    expect(pageNumber(page3)).toBe(3);
    expect(pageTrail(page3)).toEqual(["t1", "t2"]);
  });

  it("goes back one page by dropping the last token", () => {
    const page3 = new URLSearchParams("company=A&page=t1&page=t2");
    const page2 = previousPageQuery(page3);
    expect(page2.toString()).toBe("company=A&page=t1");
    expect(previousPageQuery(page2).toString()).toBe("company=A");
    expect(previousPageQuery(new URLSearchParams("company=A")).toString()).toBe("company=A");
  });

  it("keeps two lists' paging apart by parameter name", () => {
    const query = nextPageQuery(new URLSearchParams("page=m1"), "r1", "releases");
    expect(currentPageToken(query)).toBe("m1");
    expect(currentPageToken(query, "releases")).toBe("r1");
  });

  it("sets and clears one parameter", () => {
    expect(withParam(new URLSearchParams("a=1"), "b", "2").toString()).toBe("a=1&b=2");
    expect(withParam(new URLSearchParams("a=1&b=2"), "b", "").toString()).toBe("a=1");
  });
});
