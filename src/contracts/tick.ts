/**
 * The `gtd tick --json` contract: one object once the pass is over, the decisions in the order they
 * were taken. Its JSON Schema is generated from this (npm run schemas) into schemas/tick.schema.json;
 * strict objects, so the key set is part of the contract. A decision's `data` is open: its keys depend
 * on the step and the action.
 */
import * as v from "valibot";

/** Changes whenever the contract does: a key added, removed or renamed, or a value's type or meaning. */
export const TICK_SCHEMA_VERSION = 1;

const about = <T extends v.GenericSchema>(schema: T, text: string) => v.pipe(schema, v.description(text));

/** The steps of a pass, in order. The core's StepName must fit in here (tickOutput's type checks it). */
export const TICK_STEPS = ["clearStaleSlots", "observeSessions", "ensureDeacon", "supervise", "pokeAgents", "processLifecycle", "saveState"] as const;

/**
 * An object of any keys. valibot's record takes an array for one (as an object of indices), JSON Schema's
 * `type: object` does not: the check first makes them agree. The JSON Schema is generated from the output
 * side of a pipe (the record), where `type: object` already says it.
 */
const OpenObject = v.pipe(
  v.unknown(),
  v.check((x) => !Array.isArray(x), "expected an object, not an array"),
  v.record(v.string(), v.unknown()),
);

const TickDecision = v.strictObject({
  step: about(v.picklist(TICK_STEPS), "The step of the pass that decided."),
  action: about(v.string(), "A stable word for scripts: created, poked, skipped, closed, error, would-create, ..."),
  message: about(v.string(), "The log line, in the original daemon's wording where it has one."),
  data: about(v.optional(OpenObject), "Details for scripts (session, identity, ...); absent when there are none."),
});

export const TickSchema = v.strictObject({
  schema_version: about(v.literal(TICK_SCHEMA_VERSION), "The version of this contract: it changes whenever a key is added, removed or renamed, or a value's type or meaning changes."),
  dry_run: about(v.boolean(), "true for --dry-run: the decisions are a plan, nothing was changed."),
  town: about(v.string(), "The town root, an absolute path."),
  heartbeat_count: about(v.pipe(v.number(), v.integer(), v.minValue(0)), "The town's heartbeat count after this pass (in a dry run, the count the planned pass would reach: nothing is saved)."),
  decisions: about(v.array(TickDecision), "What the pass decided, in order."),
});

export type TickOutput = v.InferOutput<typeof TickSchema>;
export type TickDecision = v.InferOutput<typeof TickDecision>;

/**
 * The contract object for a pass's result: exactly its keys, schema_version first, so a field added to
 * the result inside gtd reaches the JSON only by being added here (and to the schema) too.
 */
export function tickOutput(r: Omit<TickOutput, "schema_version">): TickOutput {
  return {
    schema_version: TICK_SCHEMA_VERSION,
    dry_run: r.dry_run,
    town: r.town,
    heartbeat_count: r.heartbeat_count,
    decisions: r.decisions.map((d) => ({ step: d.step, action: d.action, message: d.message, ...(d.data !== undefined ? { data: d.data } : {}) })),
  };
}
