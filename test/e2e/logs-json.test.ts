/** log.format "json" and `gtd logs --json`, through dist/gtd: stable event names, either format read back. */
import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { useGtdWorld } from "../helpers/gtd-cli.ts";

const T = 30_000;
const w = useGtdWorld();

test("a json log has one object per line with a stable event; gtd logs --json reads it and the text lines before it", async () => {
  // A text log from an earlier run, then the daemon switched to JSON.
  mkdirSync(w().paths.daemonDir, { recursive: true });
  writeFileSync(w().paths.logFile, "2026/11/30 10:00:00 Daemon stopped\n");
  writeFileSync(w().paths.configFile, JSON.stringify({ heartbeat: "1s", log: { format: "json" } }));
  const fg = w().foreground();
  await w().waitForHeartbeats(2, 20_000);
  fg.proc.kill("SIGTERM");
  expect(await fg.exited).toBe(0);
  // The terminal (the mirror) still gets readable lines.
  expect(fg.stderr()).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Daemon starting/m);

  const raw = w().readLog().trimEnd().split("\n");
  expect(raw[0]).toBe("2026/11/30 10:00:00 Daemon stopped");
  const objects = raw.slice(1).map((l) => JSON.parse(l));
  for (const o of objects) expect(Object.keys(o).slice(0, 3)).toEqual(["time", "event", "message"]);
  const poked = objects.find((o) => o.event === "pokeAgents.poked");
  expect(poked).toMatchObject({ message: expect.stringMatching(/^Poked Deacon/), data: { agent: "deacon", session: "gt-deacon" } });
  expect(objects.some((o) => o.event === "ensureDeacon.created")).toBe(true);

  const r = await w().run(["logs", "--json", "-n", "1000"]);
  expect(r.code).toBe(0);
  const read = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  expect(read[0]).toMatchObject({ event: "daemon.message", message: "Daemon stopped" });
  expect(read[0].time).toMatch(/^2026-11-30T10:00:00(Z|[+-]\d\d:\d\d)$/);
  expect(read.slice(1)).toEqual(objects);
}, T);
