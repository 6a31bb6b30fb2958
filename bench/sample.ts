/**
 * Reading a running daemon once per heartbeat, halfway between two heartbeats: the last one is over
 * (state.json written) and the next has not begun, so the difference of two readings is exactly one
 * heartbeat plus the idle timer around it. An interval that saw more or fewer than one heartbeat (the
 * machine stalled) is divided by the heartbeats it saw.
 */
import { cpuDelta, threadClock, type CpuCounters, type CpuDelta } from "./cpu.ts";
import type { RunningDaemon } from "./daemon.ts";
import { linesOf, type World } from "./world.ts";

/** Half of the 1 s heartbeat: a heartbeat of either daemon ends within a few tens of ms. */
const HALFWAY_MS = 500;
/** The fake town's freshness files are rewritten this often, well within the 2 min "fresh" window. */
const REFRESH_EVERY_MS = 30_000;

export interface Reading<T> {
  heartbeats: number;
  value: T;
}

async function sleepUntil(atMs: number): Promise<void> {
  const wait = atMs - Date.now();
  if (wait > 0) await Bun.sleep(wait);
}

/** `count` + 1 readings, one between each pair of consecutive heartbeats, after the first two. */
export async function readEachHeartbeat<T>(d: RunningDaemon, world: World, count: number, read: () => T): Promise<Array<Reading<T>>> {
  let hb = await d.waitHeartbeat(2, 30_000);
  let refreshed = Date.now();
  const out: Array<Reading<T>> = [];
  while (out.length <= count) {
    await sleepUntil(hb.atMs + HALFWAY_MS);
    const now = d.heartbeat() ?? hb;
    out.push({ heartbeats: now.count, value: read() });
    if (Date.now() - refreshed > REFRESH_EVERY_MS) {
      world.refresh();
      refreshed = Date.now();
    }
    if (out.length > count) break;
    // The next heartbeat is due about a second after the last; no point reading state.json before.
    await sleepUntil(now.atMs + 900);
    hb = await d.waitHeartbeat(now.count + 1, 30_000);
  }
  return out;
}

export interface HeartbeatCpu extends CpuDelta {
  /** The tmux server's CPU in the same interval (not the daemon's, but work it caused). */
  serverMs: number;
}

export interface CpuReading {
  cpu: CpuCounters;
  serverNs: number;
}

export function readCpu(d: RunningDaemon, serverPid: number): () => CpuReading {
  const server = threadClock(serverPid);
  return () => ({ cpu: d.counters(), serverNs: server() });
}

/**
 * Per-heartbeat CPU from consecutive readings grouped `width` intervals at a time: 1 with a cgroup
 * (nanoseconds), 10 without (clock ticks of 10 ms are coarser than one heartbeat).
 */
export function cpuPerHeartbeat(readings: Array<Reading<CpuReading>>, width: number): HeartbeatCpu[] {
  const out: HeartbeatCpu[] = [];
  for (let i = 0; i + width < readings.length; i += width) {
    const a = readings[i]!;
    const b = readings[i + width]!;
    const n = b.heartbeats - a.heartbeats;
    if (n <= 0) continue;
    const d = cpuDelta(a.value.cpu, b.value.cpu);
    out.push({ totalMs: d.totalMs / n, ownMs: d.ownMs / n, childrenMs: d.childrenMs / n, serverMs: (b.value.serverNs - a.value.serverNs) / 1e6 / n });
  }
  return out;
}

/** Subprocess calls per heartbeat from the counting shims' file, and which calls they were. */
export function callsPerHeartbeat(readings: Array<Reading<number>>, callsFile: string): { perHeartbeat: number[]; kinds: Record<string, number> } {
  const perHeartbeat: number[] = [];
  for (let i = 0; i + 1 < readings.length; i++) {
    const n = readings[i + 1]!.heartbeats - readings[i]!.heartbeats;
    if (n > 0) perHeartbeat.push((readings[i + 1]!.value - readings[i]!.value) / n);
  }
  // Which calls: those made between the first and last reading, per heartbeat.
  const lines = linesOf(callsFile).slice(readings[0]?.value ?? 0, readings.at(-1)?.value ?? 0);
  const beats = (readings.at(-1)?.heartbeats ?? 0) - (readings[0]?.heartbeats ?? 0);
  const kinds: Record<string, number> = {};
  for (const l of lines) kinds[l] = (kinds[l] ?? 0) + 1;
  for (const k of Object.keys(kinds)) kinds[k] = beats > 0 ? Math.round((kinds[k]! / beats) * 100) / 100 : kinds[k]!;
  return { perHeartbeat, kinds };
}
