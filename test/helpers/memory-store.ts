/** A StorePort kept in memory: the town's files as maps, every write recorded. No temp dirs. */
import type { HeartbeatStamp } from "../../src/core/freshness.ts";
import type { AgentFacts, RigDiscovery, StorePort } from "../../src/core/ports.ts";
import type { CorruptSlot, Slot, SlotDirEntry } from "../../src/core/slot-rules.ts";
import type { DaemonState } from "../../src/core/state.ts";

export interface MemoryStore extends StorePort {
  slots: Map<string, Slot | CorruptSlot | null>;
  stamps: Map<string, HeartbeatStamp>;
  entries: SlotDirEntry[];
  facts: Map<string, AgentFacts>;
  rigs: RigDiscovery;
  saved: DaemonState[];
  /** One line per write: `removeSlot x`, `recordSlot s`, `clearFlag file cycle`, ... */
  writes: string[];
}

export function memoryStore(): MemoryStore {
  const s: MemoryStore = {
    slots: new Map(),
    stamps: new Map(),
    entries: [],
    facts: new Map(),
    rigs: { rigs: [], source: "scan" },
    saved: [],
    writes: [],
    slotDirProblem: () => null,
    listSlotDir: () => s.entries,
    readSlot: (session) => s.slots.get(session) ?? null,
    removeSlot: (name) => {
      s.writes.push(`removeSlot ${name}`);
      s.entries = s.entries.filter((e) => e.name !== name);
      return true;
    },
    recordSlot: (session, text, atMs) => {
      s.writes.push(`recordSlot ${session}`);
      s.slots.set(session, { slot: "heartbeat", session, message: text, sentAtMs: atMs, sentAtText: "", consumed: false, consumedAtMs: null });
    },
    consumeSlot: (session) => {
      s.writes.push(`consumeSlot ${session}`);
      return true;
    },
    readStamp: (path) => s.stamps.get(path) ?? { kind: "missing" },
    discoverRigs: () => s.rigs,
    agentFacts: (spec, action) => s.facts.get(`${spec.identity}:${action}`) ?? { outside: null, flag: { ok: false, reason: "not set" }, workDirExists: true },
    clearFlag: (file, action) => {
      s.writes.push(`clearFlag ${file} ${action}`);
      return true;
    },
    saveState: (state) => {
      s.writes.push("saveState");
      s.saved.push(state);
    },
    findCommand: () => ({ found: true, PATH: "/usr/bin" }),
  };
  return s;
}
