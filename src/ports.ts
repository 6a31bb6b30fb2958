/** The ports, for the edge that implements them (they live with the core, which is written against them), and the real clock and sleep. */
import type { Clock, Sleep } from "./core/ports.ts";

export * from "./core/ports.ts";

export const systemClock: Clock = { now: () => Date.now() };

export const abortableSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
