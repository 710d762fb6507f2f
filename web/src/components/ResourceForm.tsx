// A create form for one resource, its fields read from the descriptor (lib/resourceForm.ts).
// The server's answer decides: its message is shown above the form and each BadRequest field
// violation at its field, with focus moved to the first one.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { useEffect, useId, useMemo, useRef, useState, type SubmitEvent, type ReactNode } from "react";

import { toProblem, type Problem } from "../api/errors";
import { buildMessage, formFields, type FormField, type FormValues } from "../lib/resourceForm";

const NOTHING_FIXED: FormValues = {};

export function ResourceForm<Desc extends DescMessage>({
  schema,
  resource,
  initial = {},
  fixed = NOTHING_FIXED,
  submitLabel,
  onSubmit,
  children,
}: {
  schema: Desc;
  /** The request field the resource sits in ("model"): how the server prefixes violations. */
  resource: string;
  initial?: FormValues;
  /** Values the page supplies itself (e.g. the release a deployment is of): sent, not shown. */
  fixed?: FormValues;
  submitLabel: string;
  onSubmit: (message: MessageShape<Desc>) => Promise<void>;
  /** Extra controls (e.g. a "force" checkbox) above the submit button. */
  children?: ReactNode;
}) {
  const allFields = useMemo(() => formFields(schema), [schema]);
  const fields = allFields.filter((field) => !Object.hasOwn(fixed, field.name));
  const [values, setValues] = useState<FormValues>(initial);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const idPrefix = useId();

  useEffect(() => {
    if (!problem) return;
    const invalid = formRef.current?.querySelector<HTMLElement>("[aria-invalid='true']");
    (invalid ?? formRef.current?.querySelector<HTMLElement>("[role='alert']"))?.focus();
  }, [problem]);

  async function submit(event: SubmitEvent) {
    event.preventDefault();
    const built = buildMessage(schema, allFields, { ...values, ...fixed });
    if (!built.ok) {
      setProblem({ code: Code.InvalidArgument, message: "Some fields cannot be read.", reason: "", fields: built.fields });
      return;
    }
    setBusy(true);
    try {
      await onSubmit(built.message);
    } catch (error) {
      setProblem(toProblem(error, resource));
    } finally {
      setBusy(false);
    }
  }

  const known = new Set(fields.map((f) => f.name));
  const elsewhere = Object.entries(problem?.fields ?? {}).filter(([name]) => !known.has(name));

  return (
    <form ref={formRef} className="resource-form" onSubmit={(event) => void submit(event)} noValidate>
      {problem && (
        <div className="state error" role="alert" tabIndex={-1}>
          <p>{problem.message}</p>
          {elsewhere.map(([name, text]) => (
            <p key={name}>
              {name}: {text}
            </p>
          ))}
        </div>
      )}
      {fields.map((field) => (
        <FieldInput
          key={field.name}
          id={`${idPrefix}-${field.name}`}
          field={field}
          value={values[field.name] ?? ""}
          error={problem?.fields[field.name] ?? ""}
          onChange={(value) => {
            setValues((current) => ({ ...current, [field.name]: value }));
          }}
        />
      ))}
      {children}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      </div>
    </form>
  );
}

const HINTS: Partial<Record<FormField["kind"], string>> = {
  list: "Separate values with commas.",
  json: 'A JSON object, e.g. {"gpu_type": "nvidia-a100"}.',
  datetime: "UTC; leave empty for now.",
};

function FieldInput({
  id,
  field,
  value,
  error,
  onChange,
}: {
  id: string;
  field: FormField;
  value: string;
  error: string;
  onChange: (value: string) => void;
}) {
  const { values: options, closed } = field.vocabulary;
  const suggestions = closed ? [] : options;
  const hint = HINTS[field.kind];
  const describedBy = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    name: field.name,
    value,
    required: field.required,
    "aria-invalid": error ? ("true" as const) : undefined,
    "aria-describedby": describedBy,
    onChange: (event: { target: { value: string } }) => {
      onChange(event.target.value);
    },
  };
  return (
    <div className={error ? "field invalid" : "field"}>
      <label htmlFor={id}>
        {field.label}
        {field.required && <span aria-hidden="true"> *</span>}
      </label>
      {closed && options.length > 0 ? (
        <select {...common}>
          <option value="">{field.required ? "Choose…" : "(the server's default)"}</option>
          {options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      ) : field.kind === "longtext" || field.kind === "json" ? (
        <textarea {...common} rows={field.kind === "json" ? 4 : 3} spellCheck={field.kind !== "json"} />
      ) : (
        <input
          {...common}
          type={field.kind === "number" ? "number" : field.kind === "datetime" ? "datetime-local" : "text"}
          list={suggestions.length ? `${id}-options` : undefined}
          maxLength={field.maxLength}
          autoComplete="off"
        />
      )}
      {suggestions.length > 0 && (
        <datalist id={`${id}-options`}>
          {suggestions.map((option) => (
            <option key={option} value={option} />
          ))}
        </datalist>
      )}
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}
