/** A fresh request_id (a UUID v4) for an idempotent create: a form sends the same one for every
 * retry of one submission, so a double click or a retry after a lost answer creates one thing.
 * crypto.randomUUID needs a secure context; getRandomValues does not (plain-HTTP deployments). */
export function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
