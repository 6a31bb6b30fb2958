/**
 * What a pass decides, in words: one Decision per log line (what was decided and why), and the Memory
 * that keeps repeated failures to one line. Pure: no clock, no I/O; `nowMs` always comes in.
 */
export type StepName = "clearStaleSlots" | "observeSessions" | "ensureDeacon" | "supervise" | "pokeAgents" | "processLifecycle" | "saveState";

/** A line of the log before it is a Decision: the step is known from context. */
export interface Note {
  action: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface Decision {
  step: StepName;
  /** A stable word for scripts: `created`, `poked`, `skipped`, `closed`, `error`, ... */
  action: string;
  /** The log line, in the original's wording where it has one. */
  message: string;
  data?: Record<string, unknown>;
}

/** How many keys Memory holds before it prunes; well above the distinct messages of a healthy town. */
export const MEMORY_CAP = 1000;

/**
 * Lives as long as the daemon: what was already said, so repeated failures are logged once (or once per
 * window). Keys carry outside data (message ids, error text), hence a Map: `__proto__` is just a key.
 *
 * Bounded: a key whose text changes every time (a PID, a timestamp in an error) would otherwise grow the
 * map forever. When it holds more than MEMORY_CAP keys, entries whose window has passed are dropped (they
 * would be said again anyway); if that is not enough, the least recently said are dropped, down to three
 * quarters of the cap, windowed and Infinity-window ("said once") keys alike. A prune is one pass over at
 * most MEMORY_CAP + 1 keys, so a call's work is bounded. A key dropped so is only said again, never lost:
 * the worst case under a flood of distinct keys is a repeated line. Callers whose keys carry changing text
 * should pass it through rateKey so one failure keeps one key.
 */
export class Memory {
  /** Key → when it was last said and its window; in order of last said (re-saying moves a key last). */
  private readonly said = new Map<string, { at: number; everyMs: number }>();
  /** True when `key` was not said in the last `everyMs` (or ever, with Infinity); records it. */
  shouldSay(key: string, nowMs: number, everyMs = Number.POSITIVE_INFINITY): boolean {
    const last = this.said.get(key);
    if (last !== undefined && nowMs - last.at < everyMs) return false;
    this.said.delete(key);
    this.said.set(key, { at: nowMs, everyMs });
    if (this.said.size > MEMORY_CAP) this.prune(nowMs);
    return true;
  }
  forget(key: string): void {
    this.said.delete(key);
  }
  /** How many keys are remembered (for tests and diagnostics). */
  get size(): number {
    return this.said.size;
  }
  private prune(nowMs: number): void {
    for (const [key, { at, everyMs }] of this.said) {
      if (nowMs - at >= everyMs) this.said.delete(key);
    }
    const keep = Math.floor((MEMORY_CAP * 3) / 4);
    if (this.said.size <= MEMORY_CAP) return;
    for (const key of this.said.keys()) {
      if (this.said.size <= keep) break;
      this.said.delete(key);
    }
  }
}

/**
 * A rate-limit key for a message whose text varies in its numbers only (`pid 4242`, `at 12:09:13`, a
 * byte count): every run of digits becomes `#`, so one failure is one key however often it recurs.
 * Apply it to the varying text only, not to an id that tells two subjects apart.
 */
export function rateKey(text: string): string {
  return text.replace(/\d+/g, "#");
}

