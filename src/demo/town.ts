/**
 * The demo town: a throwaway town in a temp directory with bundled stand-ins for the Deacon and the mayor
 * (scripts.ts), a small real mailbox in place of bd, and short intervals so a poke, a fresh heartbeat, a
 * backoff and a lifecycle cycle can all be seen in a minute.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_BD, DEMO_DEACON, DEMO_MAYOR } from "./scripts.ts";

export interface DemoTown {
  root: string;
  tmuxDir: string;
  /** The Deacon stand-in (deacon.command). */
  agentPath: string;
  /** The mayor stand-in (agent.command: what a cycled agent runs). */
  mayorPath: string;
  /** The demo's bd: mail inbox / mail send / close over <root>/.demo-mail. */
  bdPath: string;
  /** One `START …` line per start of the mayor stand-in. */
  mayorLog: string;
}

function writeScript(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

export function createDemoTown(heartbeat: string): DemoTown {
  const root = mkdtempSync(join(tmpdir(), "gtd-demo-"));
  const bin = join(root, ".demo-bin");
  const tmuxDir = join(root, ".tmux");
  for (const d of [join(root, "mayor"), join(root, "deacon"), join(root, "daemon"), bin, tmuxDir]) mkdirSync(d, { recursive: true, mode: 0o755 });
  writeFileSync(join(root, "mayor", "town.json"), JSON.stringify({ type: "town", version: 1, name: "demo" }));
  const agentPath = join(bin, "demo-agent");
  const mayorPath = join(bin, "demo-mayor");
  const bdPath = join(bin, "bd");
  writeScript(agentPath, DEMO_DEACON);
  writeScript(mayorPath, DEMO_MAYOR);
  writeScript(bdPath, DEMO_BD);
  const config = {
    heartbeat,
    // Scaled down from 5m/30m and 2m/5m so the whole poke cycle shows within a minute.
    backoff: { strategy: "geometric", base: "5s", max: "30s", factor: 1.5 },
    slots: { maxAge: "5s" },
    freshness: { fresh: "12s", veryStale: "20s" },
    deacon: { command: [agentPath, root] },
    agent: { command: [mayorPath, root] },
    mailbox: {
      inbox: [bdPath, "mail", "inbox", "--identity", "deacon/", "--json"],
      close: [bdPath, "close", "{id}"],
      send: [bdPath, "mail", "send", "{to}", "-s", "{subject}", "-m", "{body}"],
      sync: null,
    },
  };
  writeFileSync(join(root, "daemon", "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  return { root, tmuxDir, agentPath, mayorPath, bdPath, mayorLog: join(root, "mayor", "agent.log") };
}
