export const SIGN_IN_PATH = "/sign-in";

/** Where to go after signing in: a path on this site only, never another origin ("//evil") and
 * never back to sign-in. */
export function safeNext(next: string | null): string {
  if (!next?.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next.startsWith(SIGN_IN_PATH) ? "/" : next;
}
