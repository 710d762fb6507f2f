// The API key of this browser tab. sessionStorage: it survives a reload but not the tab, is never
// shared with other tabs, and is never put in a URL (URLs end up in history, logs and Referer).
const STORAGE_KEY = "catapult.apiKey";

let signInNotice = "";

export function apiKey(): string {
  return sessionStorage.getItem(STORAGE_KEY) ?? "";
}

export function storeApiKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

/** Forget the key. `notice` (e.g. the server's reason for rejecting it) is shown on the sign-in
 * page, once. */
export function forgetApiKey(notice = ""): void {
  sessionStorage.removeItem(STORAGE_KEY);
  signInNotice = notice;
  window.dispatchEvent(new Event(SESSION_EVENT));
}

/** The notice left by forgetApiKey(), cleared by reading it. */
export function takeSignInNotice(): string {
  const notice = signInNotice;
  signInNotice = "";
  return notice;
}

/** Fired when the key is forgotten, so the app returns to the sign-in page. */
export const SESSION_EVENT = "catapult:session";
