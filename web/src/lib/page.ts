// Per-page plumbing: the document title (what a screen reader announces and a tab shows) and
// the signed-in caller, provided once by the app shell.
import { createContext, useContext, useEffect } from "react";

import type { Caller } from "../api/caller";

export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Catapult` : "Catapult";
  }, [title]);
}

export const CallerContext = createContext<Caller | null>(null);

export function useCaller(): Caller | null {
  return useContext(CallerContext);
}
