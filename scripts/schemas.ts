/**
 * Write the JSON Schemas of gtd's machine contracts (`status --json`, `tick --json`) into schemas/,
 * generated from the valibot schemas in src/contracts/. Run `npm run schemas` after changing a
 * contract; test/unit/contracts/schemas-file.test.ts fails while the committed files are behind.
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as v from "valibot";
import { STATUS_SCHEMA_VERSION, StatusSchema } from "../src/contracts/status.ts";
import { TICK_SCHEMA_VERSION, TickSchema } from "../src/contracts/tick.ts";

export const SCHEMAS_DIR = join(import.meta.dir, "..", "schemas");

interface Contract {
  file: string;
  schema: v.GenericSchema;
  version: number;
  title: string;
  description: string;
}

const CONTRACTS: Contract[] = [
  {
    file: "status.schema.json",
    schema: StatusSchema,
    version: STATUS_SCHEMA_VERSION,
    title: "gtd status --json",
    description: "Whether the town's daemon is running and what it is doing. Exit code 0 when running, 3 when not.",
  },
  {
    file: "tick.schema.json",
    schema: TickSchema,
    version: TICK_SCHEMA_VERSION,
    title: "gtd tick --json",
    description: "One heartbeat run in the gtd process, or with --dry-run its plan: each step's decisions, in order.",
  },
];

/** File name → its text: pretty, with a final newline, the same bytes on every run. */
export function renderSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of CONTRACTS) {
    // What gtd prints is the schemas' output side. errorMode "throw" (the default): a valibot piece with no
    // JSON Schema form stops the run.
    const { $schema, ...body } = toJsonSchema(c.schema, { target: "draft-07", typeMode: "output" });
    const doc = { $schema, $id: `urn:gtd:schema:${c.file.replace(".schema.json", "")}:${c.version}`, title: c.title, description: c.description, ...body };
    out.set(c.file, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return out;
}

if (import.meta.main) {
  for (const [file, text] of renderSchemas()) {
    writeFileSync(join(SCHEMAS_DIR, file), text);
    console.log(`wrote schemas/${file}`);
  }
}
