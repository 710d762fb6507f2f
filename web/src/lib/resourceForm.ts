// Forms for creating resources, read from the descriptor: which fields a message has, which are
// output-only (left out) or required (marked), and their types (how each is typed in). A field
// added to the proto appears in the console's form after `make generate`, with no UI change.
import {
  fromJson,
  getOption,
  ScalarType,
  type DescField,
  type DescMessage,
  type JsonObject,
  type MessageShape,
} from "@bufbuild/protobuf";

import { FieldBehavior, field_behavior } from "../gen/google/api/field_behavior_pb";
import { fieldLabel, localInputToIso } from "./format";
import { splitList } from "./query";
import { maxLength, vocabulary, type Vocabulary } from "./vocabulary";

export type InputKind = "text" | "longtext" | "number" | "list" | "json" | "datetime" | "flag";

export interface FormField {
  /** The proto field name, as the server names it in field violations. */
  name: string;
  label: string;
  kind: InputKind;
  required: boolean;
  /** The values it takes (a select when closed, suggestions when open). */
  vocabulary: Vocabulary;
  /** For a single-line text field: the most characters its rules allow. */
  maxLength?: number;
}

// Free text that reads better in a multi-line box.
const LONG_TEXT = new Set(["description", "release_notes"]);

function behaviours(field: DescField): FieldBehavior[] {
  return getOption(field, field_behavior);
}

function inputKind(field: DescField): InputKind | null {
  switch (field.fieldKind) {
    case "scalar":
      if (field.scalar === ScalarType.STRING) return LONG_TEXT.has(field.name) ? "longtext" : "text";
      if (field.scalar === ScalarType.BOOL) return "flag";
      return "number";
    case "list":
      return field.listKind === "scalar" && field.scalar === ScalarType.STRING ? "list" : null;
    case "message":
      if (field.message.typeName === "google.protobuf.Struct") return "json";
      if (field.message.typeName === "google.protobuf.Timestamp") return "datetime";
      return null;
    default:
      return null;
  }
}

/** The fields a person fills in to create a `schema` message, in declaration order: every field
 * but the output-only ones and those in `omit`. */
export function formFields(schema: DescMessage, omit: readonly string[] = []): FormField[] {
  const fields: FormField[] = [];
  for (const field of schema.fields) {
    const behaviour = behaviours(field);
    const kind = inputKind(field);
    if (kind === null || behaviour.includes(FieldBehavior.OUTPUT_ONLY) || omit.includes(field.name)) continue;
    fields.push({
      name: field.name,
      label: fieldLabel(field.name),
      kind,
      required: behaviour.includes(FieldBehavior.REQUIRED),
      vocabulary: vocabulary(schema, field.name),
      maxLength: kind === "text" ? maxLength(schema, field.name) : undefined,
    });
  }
  return fields;
}

export type FormValues = Record<string, string>;

export type BuildResult<Desc extends DescMessage> =
  | { ok: true; message: MessageShape<Desc> }
  | { ok: false; fields: Record<string, string> };

/** The message the typed `values` describe, or the fields that cannot be read (not a number,
 * not a JSON object, not a date). Required fields are the server's to check: it names them. */
export function buildMessage<Desc extends DescMessage>(
  schema: Desc,
  fields: readonly FormField[],
  values: FormValues,
): BuildResult<Desc> {
  const json: JsonObject = {};
  const problems: Record<string, string> = {};
  for (const field of fields) {
    const text = (values[field.name] ?? "").trim();
    if (!text) continue;
    switch (field.kind) {
      case "number":
        if (!/^-?\d+$/.test(text)) problems[field.name] = "must be a whole number";
        else json[field.name] = text; // proto3 JSON: int64 as a string, int32 as either
        break;
      case "list":
        json[field.name] = splitList(text);
        break;
      case "json": {
        const parsed = parseJsonObject(text);
        if (parsed === null) problems[field.name] = 'must be a JSON object, e.g. {"gpu_type": "a100"}';
        else json[field.name] = parsed;
        break;
      }
      case "datetime": {
        const iso = localInputToIso(text);
        if (!iso) problems[field.name] = "must be a date and time";
        else json[field.name] = iso;
        break;
      }
      case "flag":
        json[field.name] = text === "true";
        break;
      default:
        json[field.name] = text;
    }
  }
  if (Object.keys(problems).length > 0) return { ok: false, fields: problems };
  return { ok: true, message: fromJson(schema, json) };
}

function parseJsonObject(text: string): JsonObject | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : null;
  } catch {
    return null;
  }
}
