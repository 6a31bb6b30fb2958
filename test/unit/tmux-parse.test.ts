import { describe, expect, test } from "bun:test";
import { parseClients, parseListing, parseSessions } from "../../src/tmux-parse.ts";

const P = "a1b2c3d4e5f60718";
const C = "0f1e2d3c4b5a6978";
/** One pane line as `list-panes -a -F "<marker>\t<PANE_FORMAT>"` prints it. */
const pane = (session: string, id: number, command: string, pid = 100 + id) => `${P}\t${session}\t%${id}\t${pid}\t0\t\t0\t1700000000\t${command}`;

describe("parseListing: list-panes and list-clients in one call", () => {
  test("panes up to the first client line, clients after it", () => {
    const out = [pane("gt-deacon", 1, "claude"), pane("gt-x", 2, "bash"), `${C}\tgt-x\t1700000005`, `${C}\tgt-deacon\t`, ""].join("\n");
    const { sessions, clients } = parseListing(out, P, C);
    expect([...sessions.keys()]).toEqual(["gt-deacon", "gt-x"]);
    expect(sessions.get("gt-x")).toMatchObject({ paneId: "%2", panePid: 102, paneCommand: "bash", activityMs: 1_700_000_000_000 });
    expect(clients).toEqual([
      { session: "gt-x", activityMs: 1_700_000_005_000 },
      { session: "gt-deacon", activityMs: null },
    ]);
  });

  test("a pane command spanning lines stays the pane's: it cannot start a client record without the marker", () => {
    const forged = `${pane("s", 1, "evil")}\ngt-deacon\t1700000009\nmore`;
    const out = [forged, `${C}\ts\t1700000001`, ""].join("\n");
    const { sessions, clients } = parseListing(out, P, C);
    expect(sessions.get("s")?.paneCommand).toBe("evil\ngt-deacon\t1700000009\nmore");
    expect(clients).toEqual([{ session: "s", activityMs: 1_700_000_001_000 }]);
  });

  test("no client lines: the sessions alone, no clients; the same as parseSessions", () => {
    const out = [pane("a", 3, "sleep"), pane("a", 4, "bash"), ""].join("\n");
    expect(parseListing(out, P, C)).toEqual({ sessions: parseSessions(out, P), clients: [] });
    expect(parseListing(out, P, C).sessions.get("a")).toMatchObject({ paneId: "%3", panes: 2 });
  });

  test("a client line with another marker is not a client (nor a pane)", () => {
    const out = [pane("a", 1, "x"), `${C}\ta\t1`, `ffffffffffffffff\tb\t2`, ""].join("\n");
    expect(parseListing(out, P, C).clients).toEqual([{ session: "a", activityMs: 1000 }]);
  });
});

describe("parseClients", () => {
  test("a session name holding a tab is kept whole; a client still attaching (no session) is skipped", () => {
    expect(parseClients("we\tird\t5\n\t7\n")).toEqual([{ session: "we\tird", activityMs: 5000 }]);
  });
});
