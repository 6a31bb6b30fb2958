/**
 * Run code in a child bun process with its own TZ, so the local-time defaults can be checked in a real
 * zone (with DST) while this process's TZ is never touched.
 */
import { expect } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../../src");

/**
 * Run `body` (an ES module; src/gotime.ts, src/log.ts and src/state.ts are imported as g, l and s) with
 * TZ=`tz`, and return its stdout. Fails the test on any stderr or a non-zero exit.
 */
export function inZone(tz: string, body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gtd-zone-"));
  try {
    const script = join(dir, "zone.ts");
    const imports = [`* as g from ${JSON.stringify(`${SRC}/gotime.ts`)}`, `* as l from ${JSON.stringify(`${SRC}/log.ts`)}`, `* as s from ${JSON.stringify(`${SRC}/state.ts`)}`];
    writeFileSync(script, `${imports.map((i) => `import ${i};`).join("\n")}\n${body}\n`);
    const r = Bun.spawnSync([process.execPath, script], { env: { ...process.env, TZ: tz }, stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    return r.stdout.toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
