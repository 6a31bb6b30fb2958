/**
 * CPU accounting for one daemon and everything it spawns.
 *
 * A daemon's children live for milliseconds, so sampling /proc for them misses most; the kernel's
 * counters for reaped children (cutime/cstime) are in clock ticks (10 ms), coarser than one heartbeat.
 * So the daemon runs in a cgroup of its own when one can be made (root, a writable cpuacct or cgroup2
 * hierarchy): the group's usage counts every process in it, exited ones included, in nanoseconds. The
 * daemon's own share is the sum over its threads' schedstat (nanoseconds, live threads). Without a
 * cgroup the figures fall back to /proc ticks, summed over windows of heartbeats (see `windowed`).
 */
import { mkdirSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";

/** Linux reports process times in USER_HZ ticks; it is 100 on every Linux the bench targets. */
const TICK_MS = 10;

export interface CpuGroup {
  kind: "cpuacct" | "cgroup2";
  dir: string;
  /** The file a process id is written to, to move it into the group. */
  procsFile: string;
  usageNs(): number;
  remove(): void;
}

function mountPoint(fstype: string, option?: string): string | null {
  let text: string;
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return null;
  }
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const [type, , superOpts = ""] = right.split(" ");
    if (type !== fstype) continue;
    if (option && !superOpts.split(",").includes(option)) continue;
    return left.split(" ")[4] ?? null;
  }
  return null;
}

let seq = 0;

/** A fresh, empty CPU-accounting cgroup, or null (with the reason in `why`) when none can be made. */
export function createCpuGroup(why: string[] = []): CpuGroup | null {
  const name = `gtd-bench-${process.pid}-${seq++}`;
  const v1 = mountPoint("cgroup", "cpuacct");
  if (v1) {
    const dir = join(v1, name);
    try {
      mkdirSync(dir);
      return {
        kind: "cpuacct",
        dir,
        procsFile: join(dir, "cgroup.procs"),
        usageNs: () => Number(readFileSync(join(dir, "cpuacct.usage"), "utf8").trim()),
        remove: () => removeDir(dir),
      };
    } catch (err) {
      why.push(`cpuacct at ${v1}: ${(err as Error).message}`);
    }
  }
  const v2 = mountPoint("cgroup2");
  if (v2) {
    const dir = join(v2, name);
    try {
      mkdirSync(dir);
      return {
        kind: "cgroup2",
        dir,
        procsFile: join(dir, "cgroup.procs"),
        usageNs: () => Number(/usage_usec (\d+)/.exec(readFileSync(join(dir, "cpu.stat"), "utf8"))?.[1] ?? Number.NaN) * 1000,
        remove: () => removeDir(dir),
      };
    } catch (err) {
      why.push(`cgroup2 at ${v2}: ${(err as Error).message}`);
    }
  }
  if (!v1 && !v2) why.push("no cpuacct or cgroup2 mount");
  return null;
}

/** A group can only be removed once its last process is gone; an exited daemon's children may lag. */
function removeDir(dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      Bun.sleepSync(20);
    }
  }
}

/** True when `pid` is a member of `group` (the move can silently not happen, e.g. in a container). */
export function inGroup(pid: number, group: CpuGroup): boolean {
  try {
    const name = group.dir.slice(group.dir.lastIndexOf("/"));
    return readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").some((l) => l.endsWith(name));
  } catch {
    return false;
  }
}

/** Cumulative counters of one daemon at one moment; differences of two give the cost in between. */
export interface CpuCounters {
  atMs: number;
  /** The daemon and every process it started (the cgroup), ns; NaN without a cgroup. */
  groupNs: number;
  /** The daemon's own threads (schedstat), ns. */
  ownNs: number;
  /** The daemon's own time in ticks, as ms (utime + stime; includes threads that exited). */
  ownTickMs: number;
  /** Reaped children's time in ticks, as ms (cutime + cstime). */
  childTickMs: number;
}

function procStatFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces and parentheses: the fields start after the last ")".
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * Sum of sum_exec_runtime over a process's threads, ns, that never goes down: a thread that exits keeps
 * the last value read for it (what it ran after that reading is lost: it shows up as children's time).
 * Bun starts and ends threads (JIT workers, warm-up), so a plain sum over the live threads can drop.
 */
export function threadClock(pid: number): () => number {
  const last = new Map<string, number>();
  return () => {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      // The process is gone: its threads keep their last values.
    }
    for (const tid of tids) {
      try {
        last.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]));
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    let ns = 0;
    for (const v of last.values()) ns += v;
    return ns;
  };
}

/** Per-thread CPU (name → ns), for finding which thread an idle daemon spends its time in. */
export function threadTimes(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      out[`${name} ${tid}`] = ns;
    } catch {
      // Ended meanwhile.
    }
  }
  return out;
}

/** A reader of one daemon's counters (it keeps the threads' last values between readings). */
export function counterReader(pid: number, group: CpuGroup | null): () => CpuCounters {
  const own = threadClock(pid);
  return () => {
    const f = procStatFields(pid);
    // Fields 14-17 of stat (utime, stime, cutime, cstime) are at 11-14 after the command name.
    return {
      atMs: performance.now(),
      groupNs: group ? group.usageNs() : Number.NaN,
      ownNs: own(),
      ownTickMs: (Number(f[11]) + Number(f[12])) * TICK_MS,
      childTickMs: (Number(f[13]) + Number(f[14])) * TICK_MS,
    };
  };
}

export interface CpuDelta {
  /** Daemon plus children, ms. */
  totalMs: number;
  ownMs: number;
  childrenMs: number;
}

/** The cost between two samples: from the cgroup and schedstat when there is a group, else ticks. */
export function cpuDelta(a: CpuCounters, b: CpuCounters): CpuDelta {
  if (Number.isFinite(a.groupNs) && Number.isFinite(b.groupNs)) {
    const totalMs = (b.groupNs - a.groupNs) / 1e6;
    const ownMs = (b.ownNs - a.ownNs) / 1e6;
    return { totalMs, ownMs, childrenMs: totalMs - ownMs };
  }
  const ownMs = b.ownTickMs - a.ownTickMs;
  const childrenMs = b.childTickMs - a.childTickMs;
  return { totalMs: ownMs + childrenMs, ownMs, childrenMs };
}

/** Per-interval deltas over `width` intervals each, divided by `width` (width 1: one per interval). */
export function windowed(samples: CpuCounters[], width: number): CpuDelta[] {
  const out: CpuDelta[] = [];
  for (let i = 0; i + width < samples.length; i += width) {
    const d = cpuDelta(samples[i]!, samples[i + width]!);
    out.push({ totalMs: d.totalMs / width, ownMs: d.ownMs / width, childrenMs: d.childrenMs / width });
  }
  return out;
}

/**
 * VmRSS and VmHWM (peak) of a process, in MiB, and the resident split: anonymous (heap, JIT code) and
 * file-backed (the executable's pages: for a compiled Bun program, the runtime and the embedded bundle).
 */
export function memoryMiB(pid: number): { rss: number; hwm: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024, anon: kb("RssAnon") / 1024, file: kb("RssFile") / 1024 };
}
