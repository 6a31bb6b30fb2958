/**
 * The committed JSON Schemas are the ones the valibot contracts generate today (so a contract changed
 * without `npm run schemas` fails here), they compile under a strict validator, and they allow exactly
 * the pinned keys.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { renderSchemas } from "../../../scripts/schemas.ts";
import { compile, committedSchema, schemaKeyPaths, SCHEMAS_DIR, STATUS_KEY_PATHS, STATUS_KEYS, TICK_KEY_PATHS, TICK_KEYS } from "../../helpers/contracts.ts";

test("schemas/ holds exactly the generated files, byte for byte (run `npm run schemas` after changing a contract)", () => {
  const generated = renderSchemas();
  expect(readdirSync(SCHEMAS_DIR).sort()).toEqual([...generated.keys()].sort());
  for (const [file, text] of generated) {
    expect({ file, text: readFileSync(join(SCHEMAS_DIR, file), "utf8") }).toEqual({ file, text });
  }
});

test("generation is stable: two runs give the same bytes", () => {
  expect(renderSchemas()).toEqual(renderSchemas());
});

test("each committed schema names itself and its version, and compiles under strict ajv", () => {
  for (const [name, version] of [["status", 2], ["tick", 1]] as const) {
    const s = committedSchema(name);
    expect(s).toMatchObject({
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: `urn:gtd:schema:${name}:${version}`,
      title: `gtd ${name} --json`,
      type: "object",
      additionalProperties: false,
    });
    expect(typeof s.description).toBe("string");
    expect(s.properties.schema_version.const).toBe(version);
    expect(Object.keys(s.properties)[0]).toBe("schema_version");
    expect(() => compile(s)).not.toThrow();
  }
});

test("the key sets are pinned: every key, in output order, and every object closed", () => {
  const status = committedSchema("status");
  expect(Object.keys(status.properties)).toEqual(STATUS_KEYS);
  expect(status.required).toEqual(STATUS_KEYS);
  expect(schemaKeyPaths(status).sort()).toEqual([...STATUS_KEY_PATHS].sort());
  const tick = committedSchema("tick");
  expect(Object.keys(tick.properties)).toEqual(TICK_KEYS);
  expect(tick.required).toEqual(TICK_KEYS);
  expect(schemaKeyPaths(tick).sort()).toEqual([...TICK_KEY_PATHS].sort());
  // Every object of either contract refuses unknown keys, except a decision's open `data`.
  const open: string[] = [];
  const walk = (s: Record<string, any>, at: string) => {
    if (s.type === "object" && s.additionalProperties !== false) open.push(at);
    for (const b of s.anyOf ?? []) walk(b, at);
    if (s.items) walk(s.items, `${at}[]`);
    for (const [k, sub] of Object.entries<Record<string, any>>(s.properties ?? {})) walk(sub, at ? `${at}.${k}` : k);
  };
  walk(status, "");
  walk(tick, "");
  expect(open).toEqual(["decisions[].data"]);
});
