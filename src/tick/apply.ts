/**
 * apply: the one interpreter. It drives a pass's decide generator (src/core/pass.ts): each effect is
 * carried out through the ports, in order, and its outcome fed back; or, in a dry run, its plan line is
 * recorded and it is answered "done", so the plan is exactly the effects a real pass applies when
 * everything succeeds. Every decision is logged as soon as it is taken, in order.
 */
import type { Config } from "../config/index.ts";
import type { Decision, StepName } from "../core/decision.ts";
import type { Effect, FailureKind, Outcome } from "../core/effects.ts";
import type { Decide, Draft } from "../core/pass.ts";
import type { PokeDelivery, Ports, TmuxOutcome } from "../core/ports.ts";
import type { DaemonState } from "../core/state.ts";
import { errorText } from "../errors.ts";
import { presyncWorkspace } from "../lifecycle/presync.ts";

/** kill-session returns once the session is gone; the poll only guards against a slow server. */
export const KILL_POLL_MS = 100;
export const KILL_POLLS = 50;
/** The original waited 2 s after starting the agent before typing the prime command. */
export const PRIME_DELAY_MS = 2000;

export interface ApplyOptions {
  ports: Ports;
  config: Config;
  /** Print the plan, change nothing. */
  dryRun: boolean;
  /** Aborted on shutdown: waits end early. */
  signal: AbortSignal;
  /** Told each state that was saved, so the caller's own copy is never older than state.json. */
  saved?: (state: DaemonState) => void;
}

type Result = ({ ok: true; changed: boolean } | { ok: false; kind: FailureKind; error: string }) & { delivery?: PokeDelivery };
const done = (changed = true): Result => ({ ok: true, changed });
const failed = (err: unknown, kind: FailureKind = "failed"): Result => ({ ok: false, kind, error: errorText(err) });

/** Run the pass to its end; returns the effects it applied (or planned), in order. */
export async function applyPass(d: Draft, pass: Decide, o: ApplyOptions): Promise<Effect[]> {
  const effects: Effect[] = [];
  let logged = 0;
  const flush = () => {
    for (; logged < d.decisions.length; logged++) {
      const x: Decision = d.decisions[logged]!;
      o.ports.log(x.message, `${x.step}.${x.action}`, x.data);
    }
  };
  const record = (step: StepName, n: { action: string; message: string; data?: Record<string, unknown> } | undefined) => {
    if (!n) return;
    d.decisions.push(n.data ? { step, ...n } : { step, action: n.action, message: n.message });
    flush();
  };
  let next = pass.next();
  while (!next.done) {
    flush();
    const e = next.value;
    effects.push(e);
    let r: Result;
    if (o.dryRun) {
      record(e.step, e.plan);
      r = e.kind === "poke" && e.verify ? { ...done(), delivery: { kind: "consumed" } } : done();
    } else if (e.exclusive && o.ports.exclusive?.() === false) {
      r = { ok: false, kind: "not-exclusive", error: "this process no longer holds the town's lock" };
    } else {
      record(e.step, e.start);
      r = await carryOut(e, o, (action, message) => record(e.step, { action, message }));
      if (r.ok && r.changed) record(e.step, e.done);
    }
    const out: Outcome = { ...r, nowMs: o.ports.clock.now(), stopping: o.signal.aborted };
    next = pass.next(out);
  }
  flush();
  return effects;
}

async function carryOut(e: Effect, o: ApplyOptions, say: (action: string, message: string) => void): Promise<Result> {
  const { ports } = o;
  try {
    switch (e.kind) {
      case "removeSlot":
        return done(ports.store.removeSlot(e.name));
      case "poke":
        if (!e.verify) {
          await ports.tmux.poke(e.session, e.text);
          return done();
        }
        return { ...done(), delivery: await ports.tmux.pokeVerified(e.session, e.text) };
      case "respawnPane":
        return fromTmux(await ports.tmux.respawnPane(e.paneId));
      case "setHold":
        return done(ports.store.setHold(e.identity, e.on));
      case "takeRequest":
        return done(ports.store.takeRequest(e.identity, e.request));
      case "recordSlot":
        ports.store.recordSlot(e.session, e.text, e.atMs);
        return done();
      case "consumeSlot":
        return done(ports.store.consumeSlot(e.session, e.atMs));
      case "killSession":
        await ports.tmux.killSession(e.session);
        return done();
      case "awaitGone":
        return (await awaitGone(e.session, o)) ? done() : failed(`${e.session} still exists after kill-session`);
      case "newSession":
        return fromTmux(await ports.tmux.newSession(e.spec));
      case "presync":
        await presyncWorkspace(
          {
            run: ports.run,
            say,
            gitTimeoutMs: o.config.timeouts.gitMs,
            syncTimeoutMs: o.config.timeouts.mailboxMs,
            sync: o.config.mailbox.sync,
            signal: o.signal,
          },
          e.identity,
          e.workDir,
        );
        return done();
      case "prime":
        await ports.sleep(PRIME_DELAY_MS, o.signal);
        if (o.signal.aborted) return failed("shutting down", "aborted");
        await ports.tmux.sendLine(e.session, e.text);
        return done();
      case "clearFlag":
        return done(ports.store.clearFlag(e.stateFile, e.action));
      case "closeMessage":
        // No abort signal: the close ends the current request (the mailbox timeout bounds it).
        await ports.mailbox.close(e.id);
        return done();
      case "saveState":
        ports.store.saveState(e.state);
        o.saved?.(e.state);
        return done();
    }
  } catch (err) {
    return failed(err);
  }
}

/** A tmux outcome as an effect's result (the port's failure kinds are the outcome's). */
const fromTmux = (r: TmuxOutcome): Result => (r.ok ? done() : { ok: false, kind: r.kind, error: r.error });

/** Poll instead of the original's fixed 500 ms: usually the first check already finds it gone. */
async function awaitGone(session: string, o: ApplyOptions): Promise<boolean> {
  for (let i = 0; i < KILL_POLLS; i++) {
    if (!(await o.ports.tmux.hasSession(session).catch(() => true))) return true;
    // Shutdown: stop waiting; the session may still be there, so recreating it would fail anyway.
    if (o.signal.aborted) return false;
    await o.ports.sleep(KILL_POLL_MS, o.signal);
  }
  return false;
}
