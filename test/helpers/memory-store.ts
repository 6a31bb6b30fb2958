/** A StorePort kept in memory: the town's files as maps, every write recorded. No temp dirs. */
import type { HeartbeatStamp } from "../../src/core/freshness.ts";
import type { AgentFacts, RigDiscovery, StorePort, SupervisionRead } from "../../src/core/ports.ts";
import type { CorruptSlot, Slot, SlotDirEntry } from "../../src/core/slot-rules.ts";
import type { DaemonState } from "../../src/core/state.ts";

export interface MemoryStore extends StorePort {
  slots: Map<string, Slot | CorruptSlot | null>;
  stamps: Map<string, HeartbeatStamp>;
  entries: SlotDirEntry[];
  facts: Map<string, AgentFacts>;
  rigs: RigDiscovery;
  saved: DaemonState[];
  /** daemon/supervise/ as supervisionFiles returns it (holds and requests change with setHold/takeRequest). */
  supervision: { paused: Set<string>; holds: Set<string>; runs: Map<string, { runs: number; status: number }>; requests: Array<{ identity: string; kind: "restart" | "reset" }>; problems: string[] };
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
    supervision: { paused: new Set(), holds: new Set(), runs: new Map(), requests: [], problems: [] },
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
    supervisionFiles: (identities): SupervisionRead => {
      const sup = s.supervision;
      const mine = (id: string) => identities.includes(id);
      return {
        paused: new Set(sup.paused),
        holds: new Set([...sup.holds].filter(mine)),
        runs: new Map([...sup.runs].filter(([id]) => mine(id))),
        requests: [...sup.requests],
        problems: [...sup.problems],
      };
    },
    setHold: (identity, on) => {
      s.writes.push(`setHold ${identity} ${on ? "on" : "off"}`);
      const had = s.supervision.holds.has(identity);
      if (on) s.supervision.holds.add(identity);
      else s.supervision.holds.delete(identity);
      return had !== on;
    },
    takeRequest: (identity, kind) => {
      s.writes.push(`takeRequest ${identity} ${kind}`);
      const before = s.supervision.requests.length;
      s.supervision.requests = s.supervision.requests.filter((r) => r.identity !== identity || r.kind !== kind);
      return s.supervision.requests.length < before;
    },
  };
  return s;
}
