/** processLifecycle against hostile and broken request titles and unknown agents: rejected and closed, nothing runs. */
import { describe, expect, test } from "bun:test";
import { flags, msg, pass, readFlags, useLifecycleTown, world } from "./world.ts";

useLifecycleTown();

describe("hostile and broken titles", () => {
  const titles = [
    "LIFECYCLE: $(touch pwned) requesting cycle",
    "LIFECYCLE: mayor;touch pwned requesting cycle",
    "LIFECYCLE: ../../etc requesting restart",
    "LIFECYCLE: mayor/../x requesting cycle",
    "LIFECYCLE: may\u0007or requesting cycle",
    "LIFECYCLE: mayor\nrequesting cycle",
    `LIFECYCLE: mayor requesting cycle ${"x".repeat(100_000)}`,
    "LIFECYCLE: mayor requesting $(reboot)",
    "LIFECYCLE: mayor requesting",
    "LIFECYCLE: -rf requesting cycle",
  ];
  test("each is rejected and closed once; nothing runs, nothing in tmux changes", async () => {
    const w = world();
    w.sessions.add("gt-mayor");
    flags({ requesting_cycle: true, requesting_restart: true, requesting_shutdown: true });
    w.inbox = [
      ...titles.map((t, i) => msg(`h${i}`, t)),
      msg("s1", "LIFECYCLE: requesting cycle", { sender: "$(touch pwned)" }),
      msg("s2", "LIFECYCLE: requesting cycle"),
    ];
    await pass(w);
    const rejected = w.lines.filter((l) => l.startsWith("Rejecting lifecycle request "));
    expect(rejected).toHaveLength(titles.length + 2);
    for (const l of w.lines) expect(l.length).toBeLessThan(400);
    expect(w.lines.some((l) => l.startsWith("Processing") || l.startsWith("Executing"))).toBe(false);
    expect(w.tmux).toEqual([]);
    expect(w.closed.sort()).toEqual([...titles.map((_, i) => `h${i}`), "s1", "s2"].sort());
    expect(readFlags()).toEqual({ requesting_cycle: true, requesting_restart: true, requesting_shutdown: true });
    w.lines = [];
    await pass(w);
    expect(w.lines).toEqual([]);
  });

  test("an unknown agent is reported as the original did, then closed (it can never succeed)", async () => {
    const w = world();
    w.inbox = [msg("m1", "LIFECYCLE: witness requesting cycle")];
    await pass(w);
    expect(w.lines).toEqual([
      "Processing lifecycle request from witness: cycle",
      "Error executing lifecycle action: unknown agent identity: witness",
      "Closing lifecycle request m1: it can never succeed",
      "Closed lifecycle message m1",
    ]);
  });
});
