/**
 * The screen judgements behind pokeVerified, and the procedure's tmux calls over a scripted pane (the real
 * programs are in test/integration/tmux-poke.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { consumed, echoRow, fragment, parseView, verifiedPoke, type PaneView, type VerifyIo } from "../../src/tmux-verify.ts";

const view = (lines: string[], cursor = "0,0,0"): PaneView => ({ lines, cursor });

test("parseView: the lines (trailing blanks cut) then the cursor line", () => {
  expect(parseView("a  \n\n> x \n3,2,0\n")).toEqual({ lines: ["a", "", "> x"], cursor: "3,2,0" });
  expect(parseView("3,2,0\n")).toEqual({ lines: [], cursor: "3,2,0" });
  expect(parseView("a\nb\n")).toBeNull();
  expect(parseView("")).toBeNull();
});

test("fragment: the end of the text, at most 32 characters", () => {
  expect(fragment("  HEARTBEAT: run your rounds ")).toBe("HEARTBEAT: run your rounds");
  expect(fragment(`${"x".repeat(40)} the last words of a long poke`)).toBe("xx the last words of a long poke");
  expect(fragment("   ")).toBe("");
});

describe("echoRow", () => {
  const frag = "HEARTBEAT";
  test("the changed line holding the text, the last one", () => {
    expect(echoRow(view(["$", ""]), view(["$", "> HEARTBEAT"], "11,1,0"), frag)).toBe(1);
    expect(echoRow(view(["> HEARTBEAT", ""]), view(["> HEARTBEAT", "> HEARTBEAT"], "11,1,0"), frag)).toBe(1);
  });
  test("an old echo elsewhere on the screen is not this one", () => {
    expect(echoRow(view(["> HEARTBEAT", "x"], "0,1,0"), view(["> HEARTBEAT", "x"], "0,1,0"), frag)).toBeNull();
  });
  test("the same text already on the input line: nothing changed, not seen (no-echo)", () => {
    expect(echoRow(view(["> HEARTBEAT"], "11,0,0"), view(["> HEARTBEAT"], "11,0,0"), frag)).toBeNull();
  });
  test("scrolled: the lines moved up and the cursor or history changed", () => {
    const before = view(["a", "> HEARTBEAT"], "0,1,4");
    expect(echoRow(before, view(["a", "> HEARTBEAT"], "11,1,5"), frag)).toBe(1);
  });
  test("text that never showed", () => {
    expect(echoRow(view([""]), view(["junk"], "4,0,0"), frag)).toBeNull();
  });
});

test("consumed: the text's line changed or the cursor moved; other lines (a spinner) do not count", () => {
  const shown = view(["✻ working", "> HEARTBEAT"], "11,1,0");
  expect(consumed(shown, view(["✻ still working", "> HEARTBEAT"], "11,1,0"), 1)).toBe(false);
  expect(consumed(shown, view(["✻ working", ">"], "2,1,0"), 1)).toBe(true);
  expect(consumed(shown, view(["✻ working", "> HEARTBEAT", ""], "0,2,0"), 1)).toBe(true);
});

describe("verifiedPoke's calls", () => {
  /** A pane whose screen the test scripts: each look returns the next view (the last one repeats). */
  function pane(views: string[], ready = true) {
    const calls: string[][][] = [];
    let i = 0;
    const io: VerifyIo = {
      pane: async () => ({ id: "%7", ready }),
      exec: async (commands) => {
        calls.push(commands);
        if (commands[0]?.[0] !== "capture-pane") return "";
        const out = views[Math.min(i, views.length - 1)] as string;
        i += 1;
        return out;
      },
      sleep: async () => {},
    };
    return { io, calls };
  }
  const timing = { stepMs: 50, echoMs: 200, submitMs: 200, enterDelayMs: 100 };
  const keys = (calls: string[][][]) => calls.flatMap((c) => c.filter((x) => x[0] === "send-keys").map((x) => x.slice(3).join(" ")));

  test("shown, Enter, consumed: the capture goes with the keys in one call", async () => {
    const { io, calls } = pane(["\n0,0,0\n", "> hi\n4,0,0\n", "> hi\n4,0,0\n", "> hi\n\n0,1,0\n"]);
    expect(await verifiedPoke(io, "hi", timing)).toEqual({ kind: "consumed" });
    expect(calls[0]?.map((c) => c[0])).toEqual(["capture-pane", "display-message", "send-keys", "send-keys"]);
    expect(keys(calls)).toEqual(["C-u", "-l -- hi", "Enter"]);
    expect(calls.every((c) => c.every((x) => x.includes("%7")))).toBe(true);
  });

  test("Enter changes nothing: C-m once, then stranded", async () => {
    const { io, calls } = pane(["\n0,0,0\n", "> hi\n4,0,0\n"]);
    expect(await verifiedPoke(io, "hi", timing)).toEqual({ kind: "stranded" });
    expect(keys(calls)).toEqual(["C-u", "-l -- hi", "Enter", "C-m"]);
  });

  test("never shown: no submit key", async () => {
    const { io, calls } = pane(["\n0,0,0\n"]);
    expect(await verifiedPoke(io, "hi", timing)).toEqual({ kind: "no-echo" });
    expect(keys(calls)).toEqual(["C-u", "-l -- hi"]);
  });

  test("a pane that cannot take keys gets none", async () => {
    const { io, calls } = pane(["\n0,0,0\n"], false);
    expect(await verifiedPoke(io, "hi", timing)).toEqual({ kind: "no-echo" });
    expect(calls).toEqual([]);
  });
});
