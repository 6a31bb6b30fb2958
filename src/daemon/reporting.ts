/**
 * What the daemon tells the world about its passes, beside the log: systemd (READY=1 once the first
 * heartbeat is done, STATUS= after each, RELOADING/STOPPING, and WATCHDOG=1 while the loop makes
 * progress), the opt-in metrics file, and a one-time note when gtd's own executable has been replaced
 * (an upgrade) since this daemon started. Each failure here is logged once and never stops the daemon.
 */
import { statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { Config } from "../config/index.ts";
import { errorText } from "../errors.ts";
import { formatGoTime } from "../gotime.ts";
import { newMetrics, recordPass, renderMetrics } from "../metrics.ts";
import type { DaemonState } from "../state.ts";
import { writeFileAtomic } from "../store.ts";
import type { TickContext } from "../tick/context.ts";
import type { TownPaths } from "../town.ts";
import type { PassKind } from "./pass-queue.ts";
import { createNotifier, type Notifier } from "./sd-notify.ts";

export interface ReportingOptions {
  env: Record<string, string | undefined>;
  pid: number;
  paths: TownPaths;
  log: (line: string) => void;
  config: () => Config;
  /** The file this process runs from (the compiled binary, or the script under bun). */
  executable: string;
  now: () => number;
  /** Save state.json now (the replaced-executable note must not wait for the next heartbeat's save). */
  saveState: () => void;
}

export interface Reporting {
  passStarted(kind: PassKind): void;
  passFinished(kind: PassKind, ctx: TickContext, durationMs: number): void;
  /** Any sign of life inside a pass (a log line): the watchdog pings only while these keep coming. */
  progress(): void;
  reloading(): void;
  reloaded(): void;
  stopping(): void;
  close(): void;
}

type FileId = { ino: number; dev: number; mtimeMs: number } | null;

function fileId(path: string): FileId {
  try {
    const st = statSync(path);
    return { ino: st.ino, dev: st.dev, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

/** One line for systemctl status: the count, the Deacon's session, the requests still open. */
export function statusLine(ctx: TickContext): string {
  const deacon = ctx.sessions?.get(ctx.config.deacon.session);
  const session = ctx.sessions === null ? "sessions unknown" : !deacon ? "Deacon missing" : deacon.paneDead ? "Deacon pane dead" : "Deacon running";
  let open = 0;
  for (const e of ctx.state.requests.values()) if (!e.done) open += 1;
  return `Heartbeat #${ctx.state.heartbeatCount}: ${session}, ${open} lifecycle request${open === 1 ? "" : "s"} open`;
}

/**
 * Ping only while the loop is alive: idle between passes, or inside a pass that showed progress within
 * the window. A pass stuck on one wait longer than that stops the pings, and systemd restarts gtd.
 */
export function watchdogDue(inPass: boolean, nowMs: number, lastProgressMs: number, windowMs: number): boolean {
  return !inPass || nowMs - lastProgressMs < windowMs;
}

export function createReporting(o: ReportingOptions): Reporting {
  const notifier: Notifier = createNotifier(o.env, o.pid);
  const metrics = newMetrics(o.now());
  const exeAtStart = fileId(o.executable);
  let ready = false;
  let replacedSaid = false;
  let inPass = false;
  let lastProgressMs = o.now();
  const failed = new Set<string>();
  const once = (key: string, line: string) => {
    if (!failed.has(key)) o.log(line);
    failed.add(key);
  };

  // Half the window, as sd_watchdog_enabled(3) advises; unref'd so it never keeps a stopping daemon up.
  const watchdog = notifier.watchdogMs
    ? setInterval(() => {
        if (watchdogDue(inPass, o.now(), lastProgressMs, notifier.watchdogMs!)) notifier.watchdog();
      }, notifier.watchdogMs / 2)
    : null;
  watchdog?.unref?.();

  const writeMetrics = (ctx: TickContext) => {
    const file = o.config().metrics.file;
    if (file === null) return;
    const path = isAbsolute(file) ? file : resolve(o.paths.root, file);
    const deacon = ctx.sessions?.get(ctx.config.deacon.session);
    try {
      writeFileAtomic(path, renderMetrics(metrics, { deaconUp: ctx.sessions === null ? null : deacon !== undefined && !deacon.paneDead }));
      failed.delete("metrics");
    } catch (err) {
      once("metrics", `Warning: cannot write the metrics file ${path}: ${errorText(err)} (said once until it works again)`);
    }
  };

  const checkExecutable = (state: DaemonState) => {
    if (replacedSaid || exeAtStart === null) return;
    const now = fileId(o.executable);
    if (now && now.ino === exeAtStart.ino && now.dev === exeAtStart.dev && now.mtimeMs === exeAtStart.mtimeMs) return;
    replacedSaid = true;
    state.extra.executable_replaced = { path: o.executable, noticed_at: formatGoTime(o.now()) };
    o.saveState();
    o.log(`gtd's executable ${o.executable} has been replaced since this daemon started (an upgrade?); this daemon keeps running the old one until it is restarted (gtd stop && gtd start, or systemctl restart)`);
  };

  return {
    passStarted() {
      inPass = true;
      lastProgressMs = o.now();
    },
    passFinished(kind, ctx, durationMs) {
      inPass = false;
      lastProgressMs = o.now();
      recordPass(metrics, { kind, durationMs, decisions: ctx.decisions }, o.now());
      if (kind !== "heartbeat") return;
      checkExecutable(ctx.state);
      writeMetrics(ctx);
      const line = statusLine(ctx);
      if (ready) notifier.status(line);
      else notifier.ready(line);
      ready = true;
    },
    progress() {
      lastProgressMs = o.now();
    },
    reloading() {
      notifier.reloading(process.hrtime.bigint() / 1000n);
    },
    reloaded() {
      notifier.ready("Config reloaded");
    },
    stopping() {
      notifier.stopping();
    },
    close() {
      if (watchdog) clearInterval(watchdog);
      notifier.close();
    },
  };
}
