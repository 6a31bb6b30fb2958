import { describe, expect, test } from "bun:test";
import { MAX_TITLE_LENGTH, parseLifecycleTitle } from "../../../src/core/parse.ts";

const ok = (identity: string, action: "cycle" | "restart" | "shutdown") => ({ identity, action });

function expectError(result: ReturnType<typeof parseLifecycleTitle>, pattern?: RegExp) {
  expect("error" in result).toBe(true);
  expect("identity" in result).toBe(false);
  if (pattern && "error" in result) expect(result.error).toMatch(pattern);
}

describe("reference §7.3 table, with the fixed results", () => {
  test.each([
    ["LIFECYCLE: mayor requesting cycle", undefined, ok("mayor", "cycle")],
    ["lifecycle: gastown-witness requesting cycling", undefined, ok("gastown-witness", "cycle")],
    // Defect #1: the original said cycle for all three.
    ["LIFECYCLE: mayor requesting restart", undefined, ok("mayor", "restart")],
    ["LIFECYCLE: mayor requesting shutdown", undefined, ok("mayor", "shutdown")],
    ["lifecycle: witness requesting stop", undefined, ok("witness", "shutdown")],
    // Defect #23: the original lowercased to gastown-crew-joe.
    ["Lifecycle: Gastown-Crew-Joe Requesting cycle", undefined, ok("Gastown-Crew-Joe", "cycle")],
    ["LIFECYCLE: requesting cycle", "fallback-sender", ok("fallback-sender", "cycle")],
    // The original took `requesting cycle` as the identity; the word `requesting` is found without a space.
    ["LIFECYCLE:requesting cycle", "fallback-sender", ok("fallback-sender", "cycle")],
  ] as const)("%p (sender %p)", (title, sender, expected) => {
    expect(parseLifecycleTitle(title, sender)).toEqual(expected);
  });

  test("`mayor wants a cycle` has no `requesting` word: an error to log and close, not an identity", () => {
    expectError(parseLifecycleTitle("LIFECYCLE: mayor wants a cycle"), /no "requesting <action>"/);
  });

  test.each([
    "  LIFECYCLE: mayor requesting cycle",
    "\tLIFECYCLE: mayor requesting cycle",
    "Regular message",
    "HEARTBEAT: check rigs",
    "lifecycle without colon",
    "Something else: requesting cycle",
    "",
  ])("%p is not lifecycle mail: ignored", (title) => {
    expect(parseLifecycleTitle(title, "mayor")).toEqual({ ignore: true });
  });
});

describe("actions", () => {
  test.each([
    ["cycle", "cycle"],
    ["cycling", "cycle"],
    ["CYCLE", "cycle"],
    ["restart", "restart"],
    ["Restarting", "restart"],
    ["shutdown", "shutdown"],
    ["stop", "shutdown"],
    ["stopping", "shutdown"],
    ["SHUTDOWN.", "shutdown"],
  ] as const)("requesting %p → %p", (word, action) => {
    expect(parseLifecycleTitle(`LIFECYCLE: mayor requesting ${word}`)).toEqual(ok("mayor", action));
  });

  test("words after the action are ignored", () => {
    expect(parseLifecycleTitle("LIFECYCLE: mayor requesting restart please")).toEqual(ok("mayor", "restart"));
  });

  test("an action is a whole word: `recycle`, `cycles`, `stopped` are unknown", () => {
    for (const word of ["recycle", "cycles", "stopped", "restart-now", "kill"]) {
      expectError(parseLifecycleTitle(`LIFECYCLE: mayor requesting ${word}`), /unknown lifecycle action/);
    }
  });

  test("`requesting` must be a whole word too", () => {
    expectError(parseLifecycleTitle("LIFECYCLE: mayor requestingcycle"), /no "requesting/);
    expectError(parseLifecycleTitle("LIFECYCLE: mayor unrequesting cycle"), /no "requesting/);
  });

  test("no action after `requesting`", () => {
    expectError(parseLifecycleTitle("LIFECYCLE: mayor requesting"), /no action/);
    expectError(parseLifecycleTitle("LIFECYCLE: mayor requesting   "), /no action/);
  });

  test("the action does not come from the `lifecycle:` prefix (defect #1)", () => {
    expectError(parseLifecycleTitle("LIFECYCLE: mayor requesting nothing"), /unknown lifecycle action "nothing"/);
  });
});

describe("identities", () => {
  test("case is kept, prefix matched case-insensitively", () => {
    expect(parseLifecycleTitle("LiFeCyClE: MyRig-witness requesting cycle")).toEqual(ok("MyRig-witness", "cycle"));
  });

  test("slash forms pass through (resolveAgent maps them)", () => {
    expect(parseLifecycleTitle("LIFECYCLE: gastown/witness requesting restart")).toEqual(ok("gastown/witness", "restart"));
    expect(parseLifecycleTitle("LIFECYCLE: gastown/crew/joe requesting cycle")).toEqual(ok("gastown/crew/joe", "cycle"));
  });

  test("sender fallback keeps case and is validated too", () => {
    expect(parseLifecycleTitle("LIFECYCLE: requesting cycle", "Gastown-Witness")).toEqual(ok("Gastown-Witness", "cycle"));
    expectError(parseLifecycleTitle("LIFECYCLE: requesting cycle", "../etc"), /invalid agent identity/);
    expectError(parseLifecycleTitle("LIFECYCLE: requesting cycle", "deacon/"), /invalid agent identity/);
    expectError(parseLifecycleTitle("LIFECYCLE: requesting cycle"), /no sender/);
    expectError(parseLifecycleTitle("LIFECYCLE: requesting cycle", ""), /no sender/);
  });

  test("the title's identity wins over the sender", () => {
    expect(parseLifecycleTitle("LIFECYCLE: mayor requesting cycle", "someone-else")).toEqual(ok("mayor", "cycle"));
  });

  test.each([
    "$(touch /tmp/pwned)",
    "`id`",
    "mayor;rm -rf ~",
    "mayor && reboot",
    "../../etc",
    "gastown/../mayor",
    "/etc/passwd",
    "gastown-crew-..",
    "my.rig-witness",
    "rig:1-witness",
    "-rf",
    "--all",
    "a/b/c/d",
    "gastown//witness",
    "gastown/witness/",
    "mayor wants",
    "x".repeat(65),
  ])("identity %p is an error, never returned", (identity) => {
    const result = parseLifecycleTitle(`LIFECYCLE: ${identity} requesting cycle`);
    expectError(result, /invalid agent identity/);
  });

  test("control characters anywhere in the title are an error, escaped in the message", () => {
    for (const title of ["LIFECYCLE: may\u0000or requesting cycle", "LIFECYCLE: mayor\nrequesting cycle", "LIFECYCLE: mayor requesting cycle\r", "LIFECYCLE: \u001b[31mmayor requesting cycle"]) {
      const result = parseLifecycleTitle(title);
      expectError(result, /control characters/);
      if ("error" in result) expect(result.error).not.toMatch(/[\u0000-\u001f]/);
    }
  });

  test("error messages quote the identity with control characters escaped", () => {
    const result = parseLifecycleTitle("LIFECYCLE: requesting cycle", "a\u0007b");
    expectError(result, /invalid agent identity: "a\\u0007b"/);
  });
});

describe("size limits", () => {
  test("a 100 KB lifecycle title is an error, not processed", () => {
    const title = `LIFECYCLE: ${"a".repeat(100 * 1024)} requesting cycle`;
    expectError(parseLifecycleTitle(title), /too long/);
  });

  test("a 100 KB title that is not lifecycle mail is ignored", () => {
    expect(parseLifecycleTitle("x".repeat(100 * 1024))).toEqual({ ignore: true });
  });

  test("the limit is on the whole title", () => {
    const pad = MAX_TITLE_LENGTH - "LIFECYCLE: mayor requesting cycle".length;
    expect(parseLifecycleTitle(`LIFECYCLE: mayor requesting cycle${" ".repeat(pad)}`)).toEqual(ok("mayor", "cycle"));
    expectError(parseLifecycleTitle(`LIFECYCLE: mayor requesting cycle${" ".repeat(pad + 1)}`), /too long/);
  });
});
