// Who the signed-in key is, and so what the console offers: readers see no write controls,
// only admins see key management. The server enforces the same rules; this only hides what
// would be refused.
import { api } from "./client";

export type Role = "admin" | "writer" | "reader";

export interface Caller {
  id: string;
  name: string;
  role: Role;
}

export async function fetchCaller(signal?: AbortSignal): Promise<Caller> {
  const caller = await api.system.getCaller({}, { signal });
  return { id: caller.apiKeyId, name: caller.apiKeyName, role: asRole(caller.role) };
}

/** An unknown role is treated as the least privileged one. */
export function asRole(role: string): Role {
  return role === "admin" || role === "writer" ? role : "reader";
}

export function canWrite(caller: Caller | null): boolean {
  return caller?.role === "admin" || caller?.role === "writer";
}

export function canAdminister(caller: Caller | null): boolean {
  return caller?.role === "admin";
}
