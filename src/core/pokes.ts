/**
 * pokeAgents: nudge agents that have gone quiet (reference §5.2), in the original's order per agent:
 * session → freshness → backoff → pending slot → poke → slot → backoff. The Deacon always; the Mayor and
 * the Witnesses when enabled (targets.ts).
 *
 * Beyond the original:
 * - Backoff lives in state.json (`backoff`), so a daemon restart does not reset it.
 * - The poke is stamped with the pass's clock reading, taken before any key is sent (defect 18), and both
 *   the backoff and the slot checks allow a small grace for timer jitter: a heartbeat that fires a few ms
 *   early must not find the previous poke "not yet due" and skip a whole tick.
 * - Sessions come from the pass's one session list (exact names, defect 9); a dead pane is not poked.
 */
import { formatGoDuration } from "../duration.ts";
import { clampToConfig, initialBackoff, pokeDueAtMs, recordActivity, recordMiss, recordPoke, shouldPoke, type BackoffState } from "./backoff.ts";
import { judgeFreshness } from "./freshness.ts";
import { act, say, type Decide, type Draft } from "./pass.ts";
import { isCorrupt, judgeSlot, slotFileName, type SendDecision } from "./slot-rules.ts";
import { slotDirUsable } from "./slots.ts";
import { HEARTBEAT_SLOT, pokeTargets, type PokeTarget } from "./targets.ts";
import type { PokeDelivery, SessionInfo } from "./ports.ts";
import { awaitingAnswer, isPaused, recordOf } from "./supervise.ts";
import { superviseSettings, supervisedAgents } from "./supervise-set.ts";
import type { AgentRecord } from "./supervise-state.ts";

const STEP = "pokeAgents";

/**
 * How early a check may run and still count as on time. Ticks are scheduled one interval apart, but the
 * clock is read a few ms after each fires, by a varying amount; without this, a poke whose interval equals
 * the tick would be skipped whenever one heartbeat starts later than the next. Small against any interval.
 */
export function cadenceGraceMs(baseMs: number): number {
  return Math.min(2_000, baseMs / 10);
}

export function* pokeAgents(d: Draft): Decide {
  if (d.sessions === null) {
    say(d, STEP, "error", "Error checking agent sessions: tmux session list failed, skipping pokes");
    return;
  }
  const book = clampToConfig(d.state.backoff ?? new Map(), d.config.backoff);
  const supervised = new Set(supervisedAgents(d.config, d.paths).map((a) => a.identity));
  try {
    warnRigs(d);
    for (const target of pokeTargets(d.config, d.paths, d.obs.rigs)) {
      if (d.stopping) break; // shutdown: no new poke starts
      yield* pokeOne(d, target, book, supervised.has(target.id));
    }
  } finally {
    d.state.backoff = book;
  }
}

/** Rig discovery problems and "no rigs" are said once, not every heartbeat. */
function warnRigs(d: Draft): void {
  const found = d.obs.rigs;
  if (!d.config.poke.witnesses || !found) return;
  if (found.warning && d.memory.shouldSay(`pokeAgents:rigs-warning:${found.warning}`, d.nowMs)) {
    say(d, STEP, "warning", `Warning: rig discovery: ${found.warning}`, { source: found.source });
  }
  const noneKey = "pokeAgents:no-rigs";
  if (found.rigs.length > 0) return d.memory.forget(noneKey);
  if (d.memory.shouldSay(noneKey, d.nowMs)) say(d, STEP, "skipped", "No rigs discovered, no witnesses to poke", { source: found.source });
}

/** `supervised`: the agent's pokes are verified and judged (supervise.ts). */
function* pokeOne(d: Draft, t: PokeTarget, book: Map<string, BackoffState>, supervised: boolean): Decide {
  const info = d.sessions?.get(t.session);
  if (!info) return say(d, STEP, "skipped", t.absent, { agent: t.id, session: t.session });
  if (info.paneDead) {
    return say(d, STEP, "skipped", `${t.Name} session ${t.session} has a dead pane, skipping poke`, { agent: t.id, session: t.session });
  }
  if (isPaused(d, t.id)) return say(d, STEP, "paused", `${t.Name} is paused, skipping poke`, { agent: t.id, session: t.session });
  const cfg = d.config.backoff;
  const fresh = judgeFreshness(t.freshnessFile, d.obs.stamps.get(t.freshnessFile) ?? { kind: "missing" }, d.nowMs, d.config.freshness);
  warnUnusable(d, t, fresh.problem);
  const data = { agent: t.id, session: t.session, freshness: fresh.freshness, why: fresh.reason };
  const state = book.get(t.id) ?? initialBackoff(cfg);

  if (fresh.freshness === "fresh") {
    book.set(t.id, recordActivity(state, d.nowMs, cfg));
    yield* consume(d, t);
    return say(d, STEP, "fresh", `${t.Name} is fresh, skipping poke`, data);
  }

  const checkAt = d.nowMs + cadenceGraceMs(cfg.baseMs);
  if (!shouldPoke(state, checkAt)) {
    const interval = formatGoDuration(state.intervalMs);
    return say(d, STEP, "backoff", `${t.Name} backoff in effect (interval: ${interval}), skipping poke`, { ...data, dueAtMs: pokeDueAtMs(state) });
  }

  const slotsUsable = slotDirUsable(d);
  const slot: SendDecision = slotsUsable ? slotGate(d, t, checkAt) : { send: true, reason: "notification slots unusable" };
  if (!slot.send) return say(d, STEP, "pending", `Heartbeat already pending for ${t.name}, skipping`, { ...data, slot: slot.reason });
  const corruptKey = `pokeAgents:corrupt-slot:${t.session}`;
  if (!slot.corrupt) d.memory.forget(corruptKey);
  else if (d.memory.shouldSay(corruptKey, d.nowMs)) {
    say(d, STEP, "warning", `Warning: heartbeat slot for ${t.session} is corrupt (${slot.corrupt}); poking anyway, the slot will be rewritten`);
  }

  if (d.stopping) return;
  const rec = supervised ? recordOf(d, t.id) : undefined;
  // A new poke would replace the last one before it could be judged (supervise.ts): never hung, however silent.
  if (rec && awaitingAnswer(rec, d.nowMs)) {
    return say(d, STEP, "awaiting", `${t.Name}'s last poke is still awaiting its answer, skipping poke`, data);
  }
  const deferKey = `pokeAgents:deferred:${t.id}`;
  const why = deferral(d, t.session, info);
  if (why) {
    if (rec) rec.deferredWhy = why;
    // Deferred, not dropped: the backoff is untouched, so the first heartbeat after the person goes quiet pokes.
    if (d.memory.shouldSay(deferKey, d.nowMs)) say(d, STEP, "deferred", `Deferring the poke to ${t.name}: ${why}`, { ...data, why });
    return;
  }
  d.memory.forget(deferKey);
  if (rec) rec.deferredWhy = null;
  // The clock reading of this pass, taken before any key is sent: see the file comment.
  const stamp = d.nowMs;
  const veryStale = fresh.freshness === "very-stale";
  let next = recordPoke(state, stamp);
  if (veryStale) next = recordMiss(next, cfg);
  const how = veryStale ? `very stale, backoff now: ${formatGoDuration(next.intervalMs)}` : "stale";

  const out = yield* act(d, {
    kind: "poke",
    session: t.session,
    text: t.text,
    ...(supervised ? { verify: true } : {}),
    step: STEP,
    done: { action: "poked", message: `Poked ${t.name} (${how})`, data: { ...data, text: t.text, intervalMs: next.intervalMs } },
    plan: { action: "would-poke", message: `Would poke ${t.name} (${how}) (dry run: nothing sent)`, data: { ...data, text: t.text } },
  });
  if (!out.ok) return say(d, STEP, "error", `Error poking ${t.name}: ${out.error}`, data);
  book.set(t.id, next);
  if (rec) noteDelivery(d, t, rec, out.delivery?.kind ?? "consumed", stamp);
  if (!slotsUsable) return;
  const recorded = yield* act(d, { kind: "recordSlot", session: t.session, text: t.text, atMs: stamp, step: STEP });
  if (!recorded.ok) say(d, STEP, "warning", `Warning: failed to record the heartbeat slot for ${t.session}: ${recorded.error}`);
}

/**
 * Why a poke must wait: a person was active at a terminal attached to that session within
 * supervise.humanActive, or the pane is in copy mode (the keys would go to the mode). One list-clients
 * call per heartbeat covers every session.
 */
function deferral(d: Draft, session: string, info: SessionInfo): string | null {
  if (info.inMode) return `${session} is in copy mode`;
  const windowMs = superviseSettings(d.config).humanActiveMs;
  let latest: number | null = null;
  for (const c of d.obs.clients ?? []) {
    if (c.session !== session || c.activityMs === null || d.nowMs - c.activityMs >= windowMs) continue;
    if (latest === null || c.activityMs > latest) latest = c.activityMs;
  }
  if (latest === null) return null;
  return `a person at a terminal attached to ${session} was active ${formatGoDuration(Math.max(0, Math.round((d.nowMs - latest) / 1000)) * 1000)} ago`;
}

/** What a verified poke says about the agent: judged at the next heartbeat (supervise.ts), unless it never showed. */
function noteDelivery(d: Draft, t: PokeTarget, rec: AgentRecord, kind: PokeDelivery["kind"], stamp: number): void {
  rec.stranded = kind === "stranded";
  if (kind === "consumed") {
    rec.lastPokeMs = stamp;
    rec.pokeAnswered = null;
  } else if (kind === "stranded") {
    // Typed but never submitted: the agent is alive (its input line took the text), so this is not unanswered.
    say(d, STEP, "stranded", `Poke to ${t.name} was typed but never submitted (stranded on the input line); not counting it as unanswered`, { agent: t.id });
  } else {
    rec.lastPokeMs = stamp;
    rec.pokeAnswered = false;
    rec.unanswered += 1;
    rec.firstUnansweredMs ??= stamp;
    say(d, STEP, "no-echo", `Poke to ${t.name} showed no reaction (the pane never echoed it); ${rec.unanswered} unanswered in a row`, { agent: t.id });
  }
}

/** A freshness file that exists but cannot be read (a FIFO, a device, bad JSON): said once until it is usable again. */
function warnUnusable(d: Draft, t: PokeTarget, problem: string | undefined): void {
  const key = `pokeAgents:unusable:${t.id}`;
  if (problem === undefined) return d.memory.forget(key);
  if (d.memory.shouldSay(key, d.nowMs)) {
    say(d, STEP, "warning", `Warning: ${t.Name}'s heartbeat file is unusable (${problem}); counting it as very stale`, { agent: t.id });
  }
}

/** The slot gate; a slot this pass's cleanup removes counts as absent. */
function slotGate(d: Draft, t: PokeTarget, checkAt: number): SendDecision {
  if (d.removedSlots.has(slotFileName(t.session, HEARTBEAT_SLOT))) return judgeSlot(null, checkAt, d.config.slotMaxAgeMs);
  return judgeSlot(d.obs.slots.get(t.session) ?? null, checkAt, d.config.slotMaxAgeMs);
}

/** The agent answered: its pending notification is consumed (the original ignored failures here too). */
function* consume(d: Draft, t: PokeTarget): Decide {
  if (!slotDirUsable(d)) return;
  const slot = d.obs.slots.get(t.session) ?? null;
  if (slot === null || isCorrupt(slot) || slot.consumed || d.removedSlots.has(slotFileName(t.session, HEARTBEAT_SLOT))) return;
  const out = yield* act(d, { kind: "consumeSlot", session: t.session, atMs: d.nowMs, step: STEP });
  if (!out.ok) say(d, STEP, "warning", `Warning: failed to mark the heartbeat slot for ${t.session} consumed: ${out.error}`);
}
