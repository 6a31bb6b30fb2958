/**
 * The tick contract: tickOutput turns a pass's result into exactly the contract's keys, schema_version
 * first, and what it gives passes the valibot schema and the committed JSON Schema; the two schemas
 * refuse the same things.
 */
import { expect, test } from "bun:test";
import * as v from "valibot";
import { TickSchema, tickOutput } from "../../../src/contracts/tick.ts";
import type { Decision } from "../../../src/core/decision.ts";
import { compile, committedSchema, DECISION_KEYS, schemaErrors, TICK_KEYS } from "../../helpers/contracts.ts";

const validate = compile(committedSchema("tick"));
const verdicts = (x: unknown) => ({ valibot: v.safeParse(TickSchema, x).success, jsonSchema: validate(x) });

const decisions: Decision[] = [
  { step: "ensureDeacon", action: "would-create", message: "Deacon session not running, would start gt-deacon (dry run: not created)", data: { session: "gt-deacon", command: ["claude"] } },
  { step: "processLifecycle", action: "would-clear", message: "(dry run) would clear requesting_cycle in /t/mayor/state.json" },
];
const result = { dry_run: true, town: "/t", heartbeat_count: 3, decisions };

test("tickOutput: schema_version first, the contract's keys in order, decisions as they came; valid under both schemas", () => {
  const out = tickOutput(result);
  expect(Object.keys(out)).toEqual(TICK_KEYS);
  expect(out).toEqual({ schema_version: 1, ...result });
  expect(Object.keys(out.decisions[0]!)).toEqual(DECISION_KEYS);
  expect(Object.keys(out.decisions[1]!)).toEqual(DECISION_KEYS.filter((k) => k !== "data"));
  expect(v.safeParse(TickSchema, out).issues).toBeUndefined();
  expect(schemaErrors(validate, JSON.parse(JSON.stringify(out)))).toBe("");
});

test("tickOutput: a field the result grows inside gtd does not leak into the JSON", () => {
  const grown = { ...result, effects: [{ kind: "poke" }], decisions: [{ ...decisions[0]!, internal: 1 }] };
  const out = tickOutput(grown);
  expect(Object.keys(out)).toEqual(TICK_KEYS);
  expect(Object.keys(out.decisions[0]!)).toEqual(DECISION_KEYS);
  expect(verdicts(out)).toEqual({ valibot: true, jsonSchema: true });
});

test("a pass that decided nothing is valid", () => {
  expect(schemaErrors(validate, tickOutput({ dry_run: false, town: "/t", heartbeat_count: 0, decisions: [] }))).toBe("");
});

test("the two schemas refuse the same things: an extra or missing key, another version, an unknown step, a bad count", () => {
  const out = tickOutput(result);
  const { town: _town, ...missing } = out;
  const d0 = out.decisions[0]!;
  const { message: _message, ...noMessage } = d0;
  const bad: unknown[] = [
    { ...out, effects: [] },
    missing,
    { ...out, schema_version: 2 },
    { ...out, heartbeat_count: -1 },
    { ...out, dry_run: "yes" },
    { ...out, decisions: [{ ...d0, step: "dance" }] },
    { ...out, decisions: [{ ...d0, extra: true }] },
    { ...out, decisions: [noMessage] },
    { ...out, decisions: [{ ...d0, data: ["not", "an", "object"] }] },
  ];
  for (const x of bad) expect({ x, ...verdicts(x) }).toEqual({ x, valibot: false, jsonSchema: false });
});
