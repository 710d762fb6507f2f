// The values a field takes, read from its rules in the proto (catapult.v1.rules): a closed
// vocabulary (`choices`: statuses, roles) is offered as a select, an open one (`examples`:
// environments, quantizations) as suggestions for free text. The server validates either way.
import { getOption, hasOption, type DescMessage } from "@bufbuild/protobuf";

import { ApiKeySchema } from "../gen/catapult/v1/api_key_pb";
import { AuditLogSchema } from "../gen/catapult/v1/audit_log_pb";
import { DeploymentSchema } from "../gen/catapult/v1/deployment_pb";
import { rules } from "../gen/catapult/v1/field_rules_pb";

export interface Vocabulary {
  values: readonly string[];
  /** Only these values are accepted (choices), rather than suggested (examples). */
  closed: boolean;
}

const NONE: Vocabulary = { values: [], closed: false };

export function vocabulary(schema: DescMessage, fieldName: string): Vocabulary {
  const field = schema.fields.find((f) => f.name === fieldName);
  if (!field || !hasOption(field, rules)) return NONE;
  const fieldRules = getOption(field, rules);
  if (fieldRules.choices.length > 0) return { values: fieldRules.choices, closed: true };
  return { values: fieldRules.examples, closed: false };
}

/** The most characters the field's rules allow, or undefined. */
export function maxLength(schema: DescMessage, fieldName: string): number | undefined {
  const field = schema.fields.find((f) => f.name === fieldName);
  if (!field || !hasOption(field, rules)) return undefined;
  return getOption(field, rules).maxLen || undefined;
}

export const ENVIRONMENTS = vocabulary(DeploymentSchema, "environment");
export const DEPLOYMENT_STATUSES = vocabulary(DeploymentSchema, "status");
export const ROLES = vocabulary(ApiKeySchema, "role");
export const AUDIT_ACTIONS = vocabulary(AuditLogSchema, "action");
export const RESOURCE_TYPES = vocabulary(AuditLogSchema, "resource_type");
