import { describe, expect, test } from "bun:test";
import { PassQueue, type PassKind } from "../../../src/daemon/pass-queue.ts";

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let every queued microtask and one macrotask turn run, so the queue reaches its next await. */
function settle(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * A runPass whose passes finish only when the test says so. Records the kinds run, how many ran at
 * once, and lets the test wait for the n-th pass to start.
 */
function harness() {
  const passes: Array<{ kind: PassKind; done: Deferred }> = [];
  const dropped: Array<[PassKind, PassKind]> = [];
  let active = 0;
  let maxActive = 0;
  let startWaiters: Array<{ n: number; resolve: () => void }> = [];
  const runPass = (kind: PassKind): Promise<void> => {
    active++;
    maxActive = Math.max(maxActive, active);
    const done = deferred();
    passes.push({ kind, done });
    startWaiters = startWaiters.filter((w) => (passes.length >= w.n ? (w.resolve(), false) : true));
    return done.promise.finally(() => {
      active--;
    });
  };
  const queue = new PassQueue(runPass, (kind, busy) => dropped.push([kind, busy]));
  return {
    queue,
    passes,
    dropped,
    kinds: () => passes.map((p) => p.kind),
    maxActive: () => maxActive,
    /** Resolves once the n-th pass (1-based) has started. */
    started(n: number): Promise<void> {
      if (passes.length >= n) return Promise.resolve();
      return new Promise((resolve) => startWaiters.push({ n, resolve }));
    },
    finish(i: number): void {
      passes[i]!.done.resolve();
    },
    fail(i: number, err: unknown): void {
      passes[i]!.done.reject(err);
    },
  };
}

describe("PassQueue", () => {
  test("a request on an idle queue starts a pass at once", () => {
    const h = harness();
    expect(h.queue.busy).toBeNull();
    h.queue.request("heartbeat");
    // Synchronously: the pass has started and the queue says what it is busy with.
    expect(h.kinds()).toEqual(["heartbeat"]);
    expect(h.queue.busy).toBe("heartbeat");
  });

  test("passes never overlap", async () => {
    const h = harness();
    h.queue.request("heartbeat");
    h.queue.request("lifecycle");
    h.queue.request("heartbeat");
    h.queue.request("lifecycle");
    await settle();
    expect(h.passes.length).toBe(1);
    h.finish(0);
    await h.started(2);
    h.queue.request("heartbeat");
    h.queue.request("lifecycle");
    await settle();
    expect(h.passes.length).toBe(2);
    h.finish(1);
    await h.started(3);
    h.finish(2);
    await h.queue.idle();
    expect(h.maxActive()).toBe(1);
    expect(h.queue.busy).toBeNull();
  });

  test("N lifecycle requests during a pass cause exactly one more pass", async () => {
    const h = harness();
    h.queue.request("lifecycle");
    for (let i = 0; i < 5; i++) h.queue.request("lifecycle");
    h.finish(0);
    await h.started(2);
    expect(h.kinds()).toEqual(["lifecycle", "lifecycle"]);
    h.finish(1);
    await h.queue.idle();
    await settle();
    expect(h.kinds()).toEqual(["lifecycle", "lifecycle"]);
    expect(h.queue.busy).toBeNull();
  });

  test("a single lifecycle request runs exactly one pass", async () => {
    const h = harness();
    h.queue.request("lifecycle");
    h.finish(0);
    await h.queue.idle();
    await settle();
    expect(h.kinds()).toEqual(["lifecycle"]);
  });

  test("lifecycle requests during a heartbeat cause exactly one lifecycle pass after it", async () => {
    const h = harness();
    h.queue.request("heartbeat");
    h.queue.request("lifecycle");
    h.queue.request("lifecycle");
    h.finish(0);
    await h.started(2);
    h.finish(1);
    await h.queue.idle();
    await settle();
    expect(h.kinds()).toEqual(["heartbeat", "lifecycle"]);
  });

  test("a heartbeat request during a heartbeat is dropped and reported", async () => {
    const h = harness();
    h.queue.request("heartbeat");
    h.queue.request("heartbeat");
    h.queue.request("heartbeat");
    expect(h.dropped).toEqual([
      ["heartbeat", "heartbeat"],
      ["heartbeat", "heartbeat"],
    ]);
    h.finish(0);
    await h.queue.idle();
    await settle();
    expect(h.kinds()).toEqual(["heartbeat"]);
  });

  test("a heartbeat request during a lifecycle pass is queued, not dropped", async () => {
    const h = harness();
    h.queue.request("lifecycle");
    h.queue.request("heartbeat");
    expect(h.dropped).toEqual([]);
    h.finish(0);
    await h.started(2);
    expect(h.kinds()).toEqual(["lifecycle", "heartbeat"]);
    h.finish(1);
    await h.queue.idle();
  });

  test("a pending heartbeat satisfies a pending lifecycle request (one pass, the heartbeat)", async () => {
    const h = harness();
    h.queue.request("lifecycle");
    // Both arrive while the first pass runs; lifecycle first, to show order does not matter.
    h.queue.request("lifecycle");
    h.queue.request("heartbeat");
    h.finish(0);
    await h.started(2);
    expect(h.kinds()).toEqual(["lifecycle", "heartbeat"]);
    h.finish(1);
    await h.queue.idle();
    await settle();
    expect(h.kinds()).toEqual(["lifecycle", "heartbeat"]);
  });

  test("close() waits for the pass in flight, then accepts nothing", async () => {
    const h = harness();
    h.queue.request("heartbeat");
    h.queue.request("lifecycle"); // pending: close drops it
    let closed = false;
    const closing = h.queue.close().then(() => {
      closed = true;
    });
    await settle();
    expect(closed).toBe(false);
    h.queue.request("lifecycle");
    h.queue.request("heartbeat");
    h.finish(0);
    await closing;
    expect(closed).toBe(true);
    expect(h.queue.busy).toBeNull();
    h.queue.request("heartbeat");
    h.queue.request("lifecycle");
    await settle();
    expect(h.kinds()).toEqual(["heartbeat"]);
    // Requests after close are ignored silently, not reported as "dropped because busy".
    expect(h.dropped).toEqual([]);
  });

  test("close() on an idle queue resolves at once", async () => {
    const h = harness();
    await h.queue.close();
    h.queue.request("heartbeat");
    expect(h.passes.length).toBe(0);
  });

  test("a pass that rejects does not stop the queue", async () => {
    const h = harness();
    h.queue.request("heartbeat");
    h.queue.request("lifecycle");
    h.fail(0, new Error("tmux exploded"));
    await h.started(2);
    h.finish(1);
    await h.queue.idle();
    expect(h.queue.busy).toBeNull();
    h.queue.request("heartbeat");
    expect(h.kinds()).toEqual(["heartbeat", "lifecycle", "heartbeat"]);
    h.finish(2);
    await h.queue.idle();
  });

  test("a pass that throws synchronously does not stop the queue", async () => {
    const kinds: PassKind[] = [];
    const queue = new PassQueue((kind) => {
      kinds.push(kind);
      if (kinds.length === 1) throw new Error("sync boom");
      return Promise.resolve();
    });
    queue.request("heartbeat");
    await queue.idle();
    await settle();
    expect(queue.busy).toBeNull();
    queue.request("lifecycle");
    await queue.idle();
    await settle();
    expect(kinds).toEqual(["heartbeat", "lifecycle"]);
  });

  test("idle() resolves only after the queue has drained every pending pass", async () => {
    const h = harness();
    h.queue.request("heartbeat");
    h.queue.request("lifecycle");
    let idle = false;
    void h.queue.idle().then(() => {
      idle = true;
    });
    h.finish(0);
    await h.started(2);
    await settle();
    expect(idle).toBe(false);
    h.finish(1);
    await settle();
    expect(idle).toBe(true);
  });

  test("a flood (each lifecycle pass asking for the next) lets a heartbeat in right after the pass it arrived in", async () => {
    const kinds: PassKind[] = [];
    let backlog = 6; // further passes the flood needs
    const queue: PassQueue = new PassQueue(async (kind) => {
      kinds.push(kind);
      await settle();
      if (kinds.length === 2) queue.request("heartbeat"); // the tick comes during the second pass
      // As run.ts does when a pass ends with ctx.lifecycleBacklog set.
      if (backlog > 0) {
        backlog -= 1;
        queue.request("lifecycle");
      }
    });
    queue.request("lifecycle");
    await queue.idle();
    // The heartbeat (the Deacon check) waits for one pass only; it handles mail too, and the flood goes on.
    expect(kinds).toEqual(["lifecycle", "lifecycle", "heartbeat", "lifecycle", "lifecycle", "lifecycle", "lifecycle"]);
  });
});
