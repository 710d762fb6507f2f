// How values read on screen. Times are shown in UTC with the zone named, so what two people
// in different places read (and the audit log) agrees.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";

export function formatTime(timestamp: Timestamp | undefined): string {
  if (!timestamp) return "—";
  return `${timestampDate(timestamp).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function isoTime(timestamp: Timestamp | undefined): string {
  return timestamp ? timestampDate(timestamp).toISOString() : "";
}

const UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];

/** 15000000000n → "15.0 GB" (powers of 1000, as registries and disks count). */
export function formatBytes(bytes: bigint): string {
  if (bytes <= 0n) return "—";
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit] ?? ""}`;
}

/** Pretty JSON of a Struct (a JsonObject), or "" when it is empty. */
export function prettyJson(value: object | undefined): string {
  if (!value || Object.keys(value).length === 0) return "";
  return JSON.stringify(value, null, 2);
}

/** "storage_path" → "Storage path". */
export function fieldLabel(name: string): string {
  const words = name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A value of an <input type="datetime-local">, read as UTC, as an RFC 3339 string for the URL. */
export function localInputToIso(value: string): string {
  if (!value) return "";
  const date = new Date(`${value}Z`);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

/** The inverse of localInputToIso: an RFC 3339 string as the value of a datetime-local input. */
export function isoToLocalInput(iso: string): string {
  const date = new Date(iso);
  return iso && !Number.isNaN(date.getTime()) ? date.toISOString().slice(0, 16) : "";
}
