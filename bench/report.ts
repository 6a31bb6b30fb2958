/** The machine a run was measured on, and the printed tables of a results object. */
import { cpus, loadavg, release } from "node:os";
import { readFileSync } from "node:fs";
import type { CallFigures, CpuFigures, MemoryFigures, ScalingPoint } from "./heartbeat.ts";
import type { CommandFigures, IdleFigures } from "./process.ts";
import type { Figure } from "./stats.ts";

export interface Machine {
  nproc: number;
  model: string;
  kernel: string;
  bun: string;
  tmux: string;
  go: string | null;
  /** 1-minute load average at the start and end: above ~0.3 on an idle machine, the run was shared. */
  loadavg: { start: number; end: number };
}

export function machine(go: string | null): Machine {
  let model = "unknown";
  try {
    model = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? model;
  } catch {}
  const tmux = Bun.spawnSync(["tmux", "-V"]).stdout.toString().trim();
  return { nproc: cpus().length, model, kernel: release(), bun: Bun.version, tmux, go, loadavg: { start: loadavg()[0]!, end: Number.NaN } };
}

export interface Results {
  version: 1;
  date: string;
  quick: boolean;
  durationSeconds: number;
  machine: Machine;
  gtd: { binary: string; version: string; commit: string };
  original: { built: true; commit: string; source: string } | { built: false; why: string };
  method: { cpuAccounting: string; heartbeat: string; notes: string[] };
  figures: {
    cpuPerHeartbeat: Record<string, CpuFigures>;
    subprocessesPerHeartbeat: Record<string, CallFigures>;
    sigusr1ToInboxMs: Record<string, Figure>;
    memory: Record<string, MemoryFigures>;
    idle: Record<string, IdleFigures>;
    commands: Record<string, CommandFigures>;
    scaling: ScalingPoint[];
  };
}

const f1 = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(x !== 0 && Math.abs(x) < 1 ? 2 : 1)) : "–");
const fig = (f: Figure | undefined) => (!f ? "–" : f.n === 1 ? f1(f.median) : `${f1(f.median)} (p95 ${f1(f.p95)})`);
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(1)}×` : "");

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function formatTables(r: Results): string {
  const F = r.figures;
  const one = (x: number | undefined): Figure | undefined => (x === undefined ? undefined : { median: x, p95: x, n: 1 });
  const cols = ["original", "gtd", "floor"];
  const row = (name: string, get: (s: string) => Figure | undefined): string[] => {
    const [o, g, f] = cols.map(get);
    return [name, fig(o), fig(g), fig(f), ratio(g?.median, o?.median), ratio(g?.median, f?.median)];
  };
  const hb = Object.values(F.memory)[0]?.heartbeats ?? 0;
  const idleS = Object.values(F.idle)[0]?.seconds ?? 0;
  const main = table(["figure (ms unless said)", "original (Go)", "gtd", "floor (Bun daemon)", "gtd ÷ original", "gtd ÷ floor"], [
    row("CPU per heartbeat, daemon + children", (s) => F.cpuPerHeartbeat[s]?.totalMs),
    row("… the daemon's own process", (s) => F.cpuPerHeartbeat[s]?.ownMs),
    row("… its child processes", (s) => F.cpuPerHeartbeat[s]?.childrenMs),
    row("tmux server CPU per heartbeat (not counted above)", (s) => F.cpuPerHeartbeat[s]?.tmuxServerMs),
    row("subprocesses per heartbeat", (s) => F.subprocessesPerHeartbeat[s]?.perHeartbeat),
    row("SIGUSR1 → inbox command starts", (s) => F.sigusr1ToInboxMs[s]),
    row(`RSS after ${hb} heartbeats, MiB`, (s) => one(F.memory[s]?.rssMiB)),
    row("… of it anonymous (heap, JIT), MiB", (s) => one(F.memory[s]?.anonMiB)),
    row("… of it file-backed (executable), MiB", (s) => one(F.memory[s]?.fileMiB)),
    row("peak RSS (VmHWM), MiB", (s) => one(F.memory[s]?.hwmMiB)),
    row(`idle CPU over ${idleS} s, 5m heartbeat`, (s) => one(F.idle[s]?.totalMs)),
  ]);
  const calls = Object.entries(F.subprocessesPerHeartbeat).map(([s, c]) => `  ${s}: ${Object.entries(c.calls).map(([k, n]) => `${k} ×${n}`).join(", ") || "none"}`);
  const floor = F.commands["floor (bun)"]?.wallMs.median;
  const cmds = table(["command (whole process)", "wall ms", "CPU ms", "× floor (bun)"], Object.entries(F.commands).map(([name, c]) => [name, fig(c.wallMs), fig(c.cpuMs), ratio(c.wallMs.median, floor)]));
  const subjects = [...new Set(F.scaling.flatMap((p) => Object.keys(p.cpu)))];
  const scale = table(
    ["agents", ...subjects.flatMap((s) => [`${s} CPU/hb`, `${s} own`, `${s} procs/hb`])],
    F.scaling.map((p) => [String(p.agents), ...subjects.flatMap((s) => [fig(p.cpu[s]?.totalMs), fig(p.cpu[s]?.ownMs), fig(p.subprocesses[s]?.perHeartbeat)])]),
  );
  return [
    `gtd bench, ${r.date}${r.quick ? " (--quick: few samples, check only)" : ""}, ${r.durationSeconds} s`,
    `machine: ${r.machine.nproc} × ${r.machine.model}, Linux ${r.machine.kernel}, bun ${r.machine.bun}, ${r.machine.tmux}${r.machine.go ? `, ${r.machine.go}` : ""}; load ${r.machine.loadavg.start.toFixed(2)} → ${r.machine.loadavg.end.toFixed(2)}`,
    `gtd: ${r.gtd.version}; original: ${r.original.built ? `gastown ${r.original.commit}` : `not measured (${r.original.why})`}`,
    `CPU accounting: ${r.method.cpuAccounting}`,
    "",
    main,
    "",
    "calls per heartbeat:",
    ...calls,
    "idle CPU by thread (ms over the idle period):",
    ...Object.entries(F.idle).map(([s, i]) => `  ${s}: ${Object.entries(i.threadsMs).map(([k, ms]) => `${k} ${f1(ms)}`).join(", ") || "none"}`),
    "",
    cmds,
    "",
    scale,
    ...(r.method.notes.length ? ["", "notes:", ...r.method.notes.map((n) => `  ${n}`)] : []),
  ].join("\n");
}
