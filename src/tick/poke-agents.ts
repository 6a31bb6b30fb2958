/**
 * Heartbeat step: nudge agents that have gone quiet (reference §5.2), in the original's order per agent:
 * session → freshness → backoff → pending slot → poke → slot → backoff. The Deacon always; the Mayor and
 * the Witnesses when enabled (poke-targets.ts).
 *
 * Beyond the original:
 * - Backoff lives in state.json (`backoff` key), so a daemon restart does not reset it.
 * - The poke is stamped with the heartbeat's clock reading, taken before any key is sent (defect 18),
 *   and both the backoff and the slot checks allow a small grace for timer jitter: a heartbeat that fires
 *   a few ms early must not find the previous poke "not yet due" and skip a whole tick.
 * - Sessions come from the heartbeat's one session list (exact names, defect 9); a dead pane is not poked.
 */
import {
  fromJson,
  initialBackoff,
  pokeDueAtMs,
  recordActivity,
  recordMiss,
  recordPoke,
  shouldPoke,
  toJson,
  type BackoffState,
} from "../core/backoff.ts";
import { readFreshness } from "../agents/freshness.ts";
import { formatGoDuration } from "../duration.ts";
import { errorText } from "../errors.ts";
import { markConsumed, recordSend, shouldSend, slotFileName, type SendDecision } from "../slots.ts";
import { decide, type Step, type TickContext } from "./context.ts";
import { HEARTBEAT_SLOT, pokeTargets, type PokeTarget } from "./poke-targets.ts";
import { plannedSlotRemovals, slotDirUsable } from "./slots-step.ts";

const STEP = "pokeAgents";

/**
 * How early a check may run and still count as on time. Ticks are scheduled one interval apart, but the
 * clock is read a few ms after each fires, by a varying amount; without this, a poke whose interval equals
 * the tick would be skipped whenever one heartbeat starts later than the next. Small against any interval.
 */
export function cadenceGraceMs(baseMs: number): number {
  return Math.min(2_000, baseMs / 10);
}

export const pokeAgents: Step = async (ctx) => {
  if (ctx.sessions === null) {
    decide(ctx, STEP, "error", "Error checking agent sessions: tmux session list failed, skipping pokes");
    return ctx;
  }
  const book = loadBackoff(ctx);
  try {
    for (const target of pokeTargets(ctx)) {
      if (ctx.signal.aborted) break; // shutdown: no new poke starts
      await pokeOne(ctx, target, book);
    }
  } finally {
    // A dry run changes nothing, not even the in-memory state a caller might save afterwards.
    if (!ctx.dryRun) ctx.state.extra.backoff = toJson(book);
  }
  return ctx;
};

function loadBackoff(ctx: TickContext): Map<string, BackoffState> {
  const { states, invalid } = fromJson(ctx.state.extra.backoff, ctx.config.backoff);
  for (const line of invalid) {
    if (ctx.memory.shouldSay(`pokeAgents:backoff-invalid:${line}`, ctx.nowMs)) {
      decide(ctx, STEP, "warning", `Warning: ignoring saved backoff state (${line}); that agent starts again from base`);
    }
  }
  return states;
}

async function pokeOne(ctx: TickContext, t: PokeTarget, book: Map<string, BackoffState>): Promise<void> {
  const info = ctx.sessions?.get(t.session);
  if (!info) {
    decide(ctx, STEP, "skipped", t.absent, { agent: t.id, session: t.session });
    return;
  }
  if (info.paneDead) {
    decide(ctx, STEP, "skipped", `${t.Name} session ${t.session} has a dead pane, skipping poke`, { agent: t.id, session: t.session });
    return;
  }
  const cfg = ctx.config.backoff;
  const fresh = readFreshness(t.freshnessFile, ctx.nowMs, ctx.config.freshness);
  warnUnusable(ctx, t, fresh.problem);
  const data = { agent: t.id, session: t.session, freshness: fresh.freshness, why: fresh.reason };
  const state = book.get(t.id) ?? initialBackoff(cfg);

  if (fresh.freshness === "fresh") {
    book.set(t.id, recordActivity(state, ctx.nowMs, cfg));
    if (!ctx.dryRun) consume(ctx, t);
    decide(ctx, STEP, "fresh", `${t.Name} is fresh, skipping poke`, data);
    return;
  }

  const checkAt = ctx.nowMs + cadenceGraceMs(cfg.baseMs);
  if (!shouldPoke(state, checkAt)) {
    const interval = formatGoDuration(state.intervalMs);
    decide(ctx, STEP, "backoff", `${t.Name} backoff in effect (interval: ${interval}), skipping poke`, {
      ...data,
      dueAtMs: pokeDueAtMs(state),
    });
    return;
  }

  const slotsUsable = slotDirUsable(ctx);
  const slot: SendDecision = slotsUsable ? slotCheck(ctx, t, checkAt) : { send: true, reason: "notification slots unusable" };
  if (!slot.send) {
    decide(ctx, STEP, "pending", `Heartbeat already pending for ${t.name}, skipping`, { ...data, slot: slot.reason });
    return;
  }
  const corruptKey = `pokeAgents:corrupt-slot:${t.session}`;
  if (!slot.corrupt) ctx.memory.forget(corruptKey);
  else if (ctx.memory.shouldSay(corruptKey, ctx.nowMs)) {
    decide(ctx, STEP, "warning", `Warning: heartbeat slot for ${t.session} is corrupt (${slot.corrupt}); poking anyway, the slot will be rewritten`);
  }

  if (ctx.signal.aborted) return;
  // The clock reading of this heartbeat, taken before any key is sent: see the file comment.
  const stamp = ctx.nowMs;
  const veryStale = fresh.freshness === "very-stale";
  let next = recordPoke(state, stamp);
  if (veryStale) next = recordMiss(next, cfg);
  const how = veryStale ? `very stale, backoff now: ${formatGoDuration(next.intervalMs)}` : "stale";

  if (ctx.dryRun) {
    decide(ctx, STEP, "would-poke", `Would poke ${t.name} (${how}) (dry run: nothing sent)`, { ...data, text: t.text });
    return;
  }
  try {
    await ctx.ports.tmux.poke(t.session, t.text);
  } catch (err) {
    decide(ctx, STEP, "error", `Error poking ${t.name}: ${errorText(err)}`, data);
    return;
  }
  try {
    if (slotsUsable) recordSend(ctx.paths.notificationsDir, t.session, HEARTBEAT_SLOT, t.text, stamp);
  } catch (err) {
    decide(ctx, STEP, "warning", `Warning: failed to record the heartbeat slot for ${t.session}: ${errorText(err)}`);
  }
  book.set(t.id, next);
  decide(ctx, STEP, "poked", `Poked ${t.name} (${how})`, { ...data, text: t.text, intervalMs: next.intervalMs });
}

/** A freshness file that exists but cannot be read (a FIFO, a device, bad JSON): said once until it is usable again. */
function warnUnusable(ctx: TickContext, t: PokeTarget, problem: string | undefined): void {
  const key = `pokeAgents:unusable:${t.id}`;
  if (problem === undefined) {
    ctx.memory.forget(key);
    return;
  }
  if (ctx.memory.shouldSay(key, ctx.nowMs)) {
    decide(ctx, STEP, "warning", `Warning: ${t.Name}'s heartbeat file is unusable (${problem}); counting it as very stale`, { agent: t.id });
  }
}

/** The slot gate; in a dry run, a slot the dry-run cleanup would have removed counts as absent. */
function slotCheck(ctx: TickContext, t: PokeTarget, checkAt: number): SendDecision {
  if (ctx.dryRun && plannedSlotRemovals(ctx).has(slotFileName(t.session, HEARTBEAT_SLOT))) {
    return { send: true, reason: "stale slot would be removed" };
  }
  return shouldSend(ctx.paths.notificationsDir, t.session, HEARTBEAT_SLOT, checkAt, ctx.config.slotMaxAgeMs);
}

/** The agent answered: its pending notification is consumed (the original ignored failures here too). */
function consume(ctx: TickContext, t: PokeTarget): void {
  if (!slotDirUsable(ctx)) return;
  try {
    markConsumed(ctx.paths.notificationsDir, t.session, HEARTBEAT_SLOT, ctx.nowMs);
  } catch (err) {
    decide(ctx, STEP, "warning", `Warning: failed to mark the heartbeat slot for ${t.session} consumed: ${errorText(err)}`);
  }
}
