/**
 * The machine contracts as a consumer sees them: the committed JSON Schemas (schemas/*.schema.json),
 * compiled by a real JSON Schema validator (ajv, draft-07, with the RFC 3339 `date-time` format), and
 * the key paths of a schema or of a value, to pin the key set.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const SCHEMAS_DIR = join(import.meta.dir, "..", "..", "schemas");

export type JsonSchema = Record<string, any>;

export function committedSchema(name: "status" | "tick"): JsonSchema {
  return JSON.parse(readFileSync(join(SCHEMAS_DIR, `${name}.schema.json`), "utf8"));
}

/** strict: a schema keyword ajv does not know, or a type-less constraint, is an error, not a warning. */
export function compile(schema: JsonSchema): ValidateFunction {
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** Validate `value`; the errors as one readable string ("" when valid), for a precise failure message. */
export function schemaErrors(validate: ValidateFunction, value: unknown): string {
  if (validate(value)) return "";
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`).join("; ");
}

/** Every key path a schema allows: `a`, `a.b`, `list[].c`; through nullable (anyOf) and arrays. */
export function schemaKeyPaths(schema: JsonSchema, prefix = ""): string[] {
  const out: string[] = [];
  const visit = (s: JsonSchema, at: string) => {
    for (const branch of s.anyOf ?? []) visit(branch, at);
    if (s.items) visit(s.items, `${at}[]`);
    for (const [key, sub] of Object.entries<JsonSchema>(s.properties ?? {})) {
      const path = at ? `${at}.${key}` : key;
      out.push(path);
      visit(sub, path);
    }
  };
  visit(schema, prefix);
  return out;
}

/** Every key path present in a value, in the same notation; `open` paths are not descended into. */
export function valueKeyPaths(value: unknown, open: string[] = []): string[] {
  const out = new Set<string>();
  const visit = (x: unknown, at: string) => {
    if (open.includes(at)) return;
    if (Array.isArray(x)) for (const item of x) visit(item, `${at}[]`);
    else if (x !== null && typeof x === "object") {
      for (const [key, sub] of Object.entries(x)) {
        const path = at ? `${at}.${key}` : key;
        out.add(path);
        visit(sub, path);
      }
    }
  };
  visit(value, "");
  return [...out];
}

/**
 * The pinned key sets: a key added to or removed from a contract fails the tests until it is added or
 * removed here too (and schema_version raised). In output order.
 */
export const STATUS_KEYS = [
  "schema_version", "running", "pid", "town", "started_at", "uptime_ms", "last_heartbeat", "heartbeat_count", "heartbeat",
  "next_heartbeat", "stale_pid_file", "state_problem", "tick_pid", "executable_replaced", "pokes", "requests", "agents",
];
export const AGENT_KEYS = [
  "agent", "session", "liveness", "since", "restarts", "restart_delay_ms", "held_until", "held_why", "paused", "last_poke", "unanswered",
  "stranded", "deferred_why",
];
export const STATUS_KEY_PATHS = [
  ...STATUS_KEYS,
  "stale_pid_file.pid", "stale_pid_file.content",
  "executable_replaced.path", "executable_replaced.noticed_at",
  "pokes[].agent", "pokes[].interval_ms", "pokes[].last_poke", "pokes[].unanswered",
  "requests.pending", "requests.pending[].id", "requests.pending[].attempts", "requests.pending[].last_error", "requests.done",
  ...AGENT_KEYS.map((k) => `agents[].${k}`),
];
export const TICK_KEYS = ["schema_version", "dry_run", "town", "heartbeat_count", "decisions"];
export const DECISION_KEYS = ["step", "action", "message", "data"];
export const TICK_KEY_PATHS = [...TICK_KEYS, ...DECISION_KEYS.map((k) => `decisions[].${k}`)];
/** A decision's data is open: its keys depend on the step and the action. */
export const TICK_OPEN_PATHS = ["decisions[].data"];
