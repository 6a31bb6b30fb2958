/**
 * The agent process under a tmux pane, from /proc (ProcessPort): the pane's own process tree, read down
 * its children lists, and the whole process table only when that finds nothing (see createProcessPort).
 * `cmdline` is read only for processes in a pane's tree. Never throws: a process that exits mid-scan is
 * simply not there, and an unreadable /proc finds nothing.
 */
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
import { basename, join } from "node:path";
import type { AgentProcess, ProcessPort } from "./ports.ts";

/**
 * Linux reports starttime in clock ticks of USER_HZ, which is 100 on every architecture Linux runs
 * (sysconf(_SC_CLK_TCK)); the kernel converts to it for userspace whatever its internal HZ.
 */
export const CLK_TCK = 100;

/** A `stat` line is ~300 bytes (52 numbers and a ≤15-byte name); 4 KiB holds it with room to spare. */
const STAT_CAP_BYTES = 4096;
/** argv[0] and argv[1] are all that is looked at; 4 KiB holds both for any sane command line. */
const CMDLINE_CAP_BYTES = 4096;
/** /proc/stat's `intr` line, before btime, grows with the interrupt count; 1 MiB holds it on any machine. */
const PROC_STAT_CAP_BYTES = 1024 * 1024;

export interface ProcStat {
  pid: number;
  /** The kernel's process name: the executable's basename, cut to 15 bytes. */
  comm: string;
  /** R, S, D, Z (zombie), X (dead), T, ... */
  state: string;
  ppid: number;
  /** Clock ticks after boot. */
  starttime: number;
}

/**
 * One /proc/<pid>/stat line. The name is in parentheses and may itself hold spaces and `)`, so it runs
 * to the *last* `)`; the fields after it are space-separated: state is field 3, ppid 4, starttime 22.
 */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 1 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const state = rest[0] ?? "";
  const ppid = Number(rest[1]);
  const starttime = Number(rest[19]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !/^[A-Za-z]$/.test(state)) return null;
  if (!Number.isSafeInteger(ppid) || ppid < 0 || !Number.isSafeInteger(starttime) || starttime < 0) return null;
  return { pid, comm: text.slice(open + 1, close), state, ppid, starttime };
}

/** The boot time from /proc/stat (`btime <epoch seconds>`), in epoch ms; null when absent. */
export function parseBootTimeMs(text: string): number | null {
  const m = /^btime (\d+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : null;
}

/** A NUL-separated /proc/<pid>/cmdline, as argv (a cut last element is kept as it is). */
export function parseCmdline(text: string): string[] {
  const argv = text.split("\0");
  if (argv.at(-1) === "") argv.pop();
  return argv;
}

/**
 * Whether a process is the agent `name`: its kernel name, its argv[0], or, for a script started through
 * `#!/usr/bin/env <interpreter>` (comm and argv[0] are then the interpreter's), its argv[1] when that is
 * the script's path. The kernel cuts comm to 15 bytes, so a longer name matches comm by its first 15.
 */
export function isAgent(p: ProcStat, argvOf: (pid: number) => string[] | null, name: string): boolean {
  if (name === "") return false;
  if (p.comm === name || (Buffer.byteLength(name) > 15 && p.comm.length >= 15 && name.startsWith(p.comm))) return true;
  const argv = argvOf(p.pid);
  if (!argv) return false;
  if (argv[0] !== undefined && basename(argv[0]) === name) return true;
  const script = argv[1];
  return script !== undefined && script.includes("/") && basename(script) === name;
}

/**
 * The agent among `procs`: the live (not zombie) matching process nearest the pane's process (the pane
 * process itself, then its children, ...), so a same-named child the agent starts is never taken for it;
 * among several at that depth, the newest.
 */
export function findAgent(procs: ProcStat[], panePid: number, name: string, argvOf: (pid: number) => string[] | null): ProcStat | null {
  const children = new Map<number, ProcStat[]>();
  let root: ProcStat | undefined;
  for (const p of procs) {
    if (p.pid === panePid) root = p;
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  if (!root) return null;
  const seen = new Set<number>([root.pid]);
  let level: ProcStat[] = [root];
  while (level.length > 0) {
    let best: ProcStat | null = null;
    for (const p of level) {
      if (p.state === "Z" || p.state === "X" || !isAgent(p, argvOf, name)) continue;
      if (!best || p.starttime > best.starttime || (p.starttime === best.starttime && p.pid > best.pid)) best = p;
    }
    if (best) return best;
    const next: ProcStat[] = [];
    for (const p of level) {
      for (const c of children.get(p.pid) ?? []) {
        if (seen.has(c.pid)) continue; // pid 0's children include 1 and 2: no cycles, but never loop
        seen.add(c.pid);
        next.push(c);
      }
    }
    level = next;
  }
  return null;
}

/**
 * One read buffer for every small /proc file: a scan reads a `stat` per process on the machine each pass,
 * and a fresh 4 KiB buffer for each was most of what a heartbeat allocated there (allocUnsafe takes
 * 4 KiB and over outside its pool). Safe to share: reads are synchronous and decoded before returning.
 */
const shared = Buffer.allocUnsafe(Math.max(STAT_CAP_BYTES, CMDLINE_CAP_BYTES));

/** Up to `capBytes` of a /proc file; null when it cannot be read (the process is gone). */
function readSmall(path: string, capBytes: number): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    // /proc/stat (read once, up to 1 MiB) gets its own buffer: the shared one stays small.
    const buf = capBytes <= shared.length ? shared : Buffer.allocUnsafe(capBytes);
    let total = 0;
    while (total < capBytes) {
      const n = readSync(fd, buf, total, capBytes - total, null);
      if (n === 0) break;
      total += n;
    }
    return buf.subarray(0, total).toString("utf8");
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** A `children` file lists pids separated by spaces: 4 KiB holds some 500, more than any pane's process has. */
const CHILDREN_CAP_BYTES = 4096;
/** Past this many processes under one pane, stop walking and read the whole table instead. */
const TREE_CAP = 512;

const validPid = (pid: number) => Number.isSafeInteger(pid) && pid > 0;

/**
 * The real ProcessPort; `root` is /proc (a test may point it at a directory laid out the same way).
 *
 * Each pane's agent is looked for in the pane's own process tree first, walked down through the kernel's
 * `/proc/<pid>/task/<tid>/children` lists: a few reads per pane instead of one per process on the
 * machine (a desktop runs hundreds to thousands). A walk that cannot be made (a kernel without those
 * files, a process gone mid-walk, a tree past TREE_CAP) or that finds no agent falls back to one read of
 * the whole table for the pass, so "no agent here" is only ever concluded from the whole table, as before
 * (the kernel documents the children lists as possibly incomplete while processes come and go).
 */
export function createProcessPort(opts: { root?: string } = {}): ProcessPort {
  const root = opts.root ?? "/proc";
  // Fixed from boot on: read once.
  let bootMs: number | null = null;
  const boot = () => (bootMs ??= parseBootTimeMs(readSmall(join(root, "stat"), PROC_STAT_CAP_BYTES) ?? ""));
  const statOf = (pid: number) => parseStat(readSmall(join(root, String(pid), "stat"), STAT_CAP_BYTES) ?? "");
  /** One scan of the process table: every process's stat, or null when /proc cannot be read. */
  const scan = (): ProcStat[] | null => {
    try {
      if (boot() === null) return null;
      const procs: ProcStat[] = [];
      for (const entry of readdirSync(root)) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = statOf(Number(entry));
        if (stat) procs.push(stat);
      }
      return procs;
    } catch {
      return null;
    }
  };
  /** `pid`'s children, from every one of its threads' lists (a child belongs to the thread that forked it). */
  const childrenOf = (pid: number): number[] | null => {
    try {
      const out: number[] = [];
      for (const tid of readdirSync(join(root, String(pid), "task"))) {
        const text = readSmall(join(root, String(pid), "task", tid, "children"), CHILDREN_CAP_BYTES);
        if (text === null) return null;
        for (const word of text.split(" ")) if (/^\d+$/.test(word)) out.push(Number(word));
      }
      return out;
    } catch {
      return null;
    }
  };
  /** The pane's process and everything under it, or null when the walk cannot be made whole. */
  const tree = (panePid: number): ProcStat[] | null => {
    const procs: ProcStat[] = [];
    const seen = new Set<number>();
    let level = [panePid];
    while (level.length > 0) {
      const next: number[] = [];
      for (const pid of level) {
        if (seen.has(pid)) continue;
        seen.add(pid);
        const stat = statOf(pid);
        const children = stat ? childrenOf(pid) : null;
        if (!stat || !children || procs.push(stat) > TREE_CAP) return null;
        next.push(...children);
      }
      level = next;
    }
    return procs;
  };
  const argvOf = (pid: number) => {
    const text = readSmall(join(root, String(pid), "cmdline"), CMDLINE_CAP_BYTES);
    return text === null ? null : parseCmdline(text);
  };
  const find = (procs: ProcStat[], panePid: number, command: string): AgentProcess | null => {
    if (!validPid(panePid) || bootMs === null) return null;
    try {
      const agent = findAgent(procs, panePid, basename(command), argvOf);
      return agent ? { pid: agent.pid, startedAtMs: bootMs + Math.round((agent.starttime * 1000) / CLK_TCK) } : null;
    } catch {
      return null;
    }
  };
  const fromTree = (panePid: number, command: string): AgentProcess | null => {
    if (boot() === null) return null;
    const procs = tree(panePid);
    return procs ? find(procs, panePid, command) : null;
  };
  const agentsUnder: ProcessPort["agentsUnder"] = (queries) => {
    const walked = queries.map((q) => (validPid(q.panePid) ? fromTree(q.panePid, q.command) : null));
    // The whole table at most once a pass, and only when some pane's walk found no agent.
    const rest = queries.some((q, i) => validPid(q.panePid) && walked[i] === null) ? scan() : null;
    return queries.map((q, i) => walked[i] ?? (rest ? find(rest, q.panePid, q.command) : null));
  };
  return {
    agentUnder: (panePid, command) => agentsUnder([{ panePid, command }])[0] ?? null,
    agentsUnder,
  };
}
