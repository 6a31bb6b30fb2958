import { describe, expect, test } from "bun:test";
import {
  DEACON_THEME,
  MAYOR_THEME,
  fnv1a32,
  resolveAgent,
  sessionOptions,
  themeForRig,
  validateIdentity,
  type AgentSpec,
} from "../../../src/core/identity.ts";

const TOWN = "/town";

function spec(identity: string): AgentSpec {
  const r = resolveAgent(identity, TOWN);
  if ("error" in r) throw new Error(`expected a spec for ${identity}, got ${r.error}`);
  return r;
}

function error(identity: string): string {
  const r = resolveAgent(identity, TOWN);
  if (!("error" in r)) throw new Error(`expected an error for ${identity}, got session ${r.session}`);
  return r.error;
}

describe("themes (reference §6 vectors)", () => {
  test("FNV-1a-32 of gastown", () => {
    expect(fnv1a32("gastown")).toBe(1221201258);
    expect(fnv1a32("")).toBe(2166136261);
  });

  test.each([
    ["gastown", "teal"],
    ["beads", "ocean"],
    ["myrig", "copper"],
    ["my-rig-name", "midnight"],
    ["a", "ocean"],
    ["", "forest"],
    ["MyRig", "ember"],
  ])("%p → %p", (rig, name) => {
    expect(themeForRig(rig).name).toBe(name);
  });

  test("colours", () => {
    expect(themeForRig("gastown")).toMatchObject({ bg: "#0d5c63", fg: "#e0e0e0" });
    expect(MAYOR_THEME).toMatchObject({ bg: "#3d3200", fg: "#ffd700" });
    expect(DEACON_THEME).toMatchObject({ bg: "#2d1f3d", fg: "#c0b0d0" });
  });
});

describe("reference §7.4 table", () => {
  test("mayor", () => {
    expect(spec("mayor")).toEqual({
      identity: "mayor",
      role: "mayor",
      rig: null,
      crewName: null,
      session: "gt-mayor",
      stateFile: "/town/mayor/state.json",
      workDir: "/town",
      presync: false,
      theme: MAYOR_THEME,
      statusLeft: "[Mayor] coordinator ",
      statusRight: "#(gt status-line --session=gt-mayor 2>/dev/null) %H:%M",
    });
  });

  test("<rig>-witness", () => {
    expect(spec("gastown-witness")).toEqual({
      identity: "gastown-witness",
      role: "witness",
      rig: "gastown",
      crewName: null,
      session: "gt-gastown-witness",
      stateFile: "/town/gastown/witness/state.json",
      workDir: "/town/gastown",
      presync: false,
      theme: themeForRig("gastown"),
      statusLeft: "[gastown/witness] witness ",
      statusRight: "#(gt status-line --session=gt-gastown-witness 2>/dev/null) %H:%M",
    });
  });

  test("<rig>-refinery", () => {
    expect(spec("beads-refinery")).toMatchObject({
      identity: "beads-refinery",
      role: "refinery",
      rig: "beads",
      session: "gt-beads-refinery",
      stateFile: "/town/beads/refinery/state.json",
      workDir: "/town/beads/refinery/rig",
      presync: true,
      theme: { name: "ocean" },
      statusLeft: "[beads/refinery] refinery ",
    });
  });

  test("<rig>-crew-<name>, split at the first -crew-; the name is not in the status line", () => {
    expect(spec("gastown-crew-joe")).toMatchObject({
      identity: "gastown-crew-joe",
      role: "crew",
      rig: "gastown",
      crewName: "joe",
      session: "gt-gastown-crew-joe",
      stateFile: "/town/gastown/crew/joe/state.json",
      workDir: "/town/gastown/crew/joe",
      presync: true,
      theme: { name: "teal" },
      statusLeft: "[gastown/crew] crew ",
    });
    expect(spec("a-crew-b-crew-c")).toMatchObject({ rig: "a", crewName: "b-crew-c", session: "gt-a-crew-b-crew-c" });
  });

  test("the original's check order: witness suffix, then refinery suffix, then crew", () => {
    expect(spec("a-crew-b-witness")).toMatchObject({ role: "witness", rig: "a-crew-b" });
    expect(spec("a-crew-b-refinery")).toMatchObject({ role: "refinery", rig: "a-crew-b" });
    expect(spec("my-rig-name-witness")).toMatchObject({ rig: "my-rig-name", theme: { name: "midnight" } });
  });

  test.each(["witness", "deacon", "refinery", "polecat", "gastown", "gastown-polecat", "-witness", "-refinery", "gastown-crew-", "crew", "deacon/", "mayor/x"])(
    "%p → unknown agent identity (the original's wording)",
    (identity) => {
      const message = error(identity);
      if (identity === "deacon/" || identity === "mayor/x") expect(message).toMatch(/^unknown agent identity: |^invalid agent identity: /);
      else expect(message).toBe(`unknown agent identity: ${identity}`);
    },
  );
});

describe("case is kept (defect #23)", () => {
  test("rig and crew names keep their case; role words are canonical lowercase", () => {
    expect(spec("MyRig-witness")).toMatchObject({
      identity: "MyRig-witness",
      session: "gt-MyRig-witness",
      stateFile: "/town/MyRig/witness/state.json",
      theme: { name: "ember" },
      statusLeft: "[MyRig/witness] witness ",
    });
    expect(spec("Gastown-Crew-Joe")).toMatchObject({
      identity: "Gastown-crew-Joe",
      rig: "Gastown",
      crewName: "Joe",
      workDir: "/town/Gastown/crew/Joe",
    });
    expect(spec("MAYOR").session).toBe("gt-mayor");
    expect(spec("gastown-WITNESS").identity).toBe("gastown-witness");
  });
});

describe("slash forms map to the same spec", () => {
  test.each([
    ["gastown/witness", "gastown-witness"],
    ["gastown/refinery", "gastown-refinery"],
    ["gastown/crew/joe", "gastown-crew-joe"],
    ["My_Rig/Witness", "My_Rig-witness"],
  ])("%p ≡ %p", (slash, dash) => {
    expect(spec(slash)).toEqual(spec(dash));
  });

  test("a slash form whose dash form names another agent is refused", () => {
    expect(error("a-crew-b/crew/c")).toMatch(/^invalid agent identity: .*ambiguous/);
    expect(error("a/crew/b-witness")).toMatch(/ambiguous/);
    expect(error("a/crew/b-refinery")).toMatch(/ambiguous/);
  });

  test("unknown slash forms", () => {
    expect(error("gastown/polecat")).toBe("unknown agent identity: gastown/polecat");
    expect(error("gastown/crew")).toBe("unknown agent identity: gastown/crew");
    expect(error("gastown/witness/x")).toBe("unknown agent identity: gastown/witness/x");
  });
});

describe("validation", () => {
  test.each([
    "../etc-witness",
    "..-witness",
    "my.rig-witness",
    "rig:1-witness",
    "a b-witness",
    "$(id)-witness",
    "a;b-witness",
    "`x`-crew-y",
    "gastown-crew-../../x",
    "gastown-crew-joe/../../x",
    "/etc-witness",
    "x\u0000-witness",
    "x\n-witness",
    "rig\u00e9-witness",
    "--x-witness",
    "a/b/c/d",
    "gastown//witness",
    "/witness",
    "",
  ])("%p is refused", (identity) => {
    expect(error(identity)).toMatch(/^(invalid|unknown) agent identity: /);
    expect(validateIdentity(identity).ok).toBe(false);
  });

  test("invalid identities are JSON-quoted, control characters escaped", () => {
    expect(error("x\u0000-witness")).toBe('invalid agent identity: "x\\u0000-witness" (only letters, digits, _ and - are allowed)');
    expect(error("..-witness")).toMatch(/^invalid agent identity: "\.\.-witness" \(/);
    expect(error("--x-witness")).toBe('invalid agent identity: "--x-witness" (a component starts with -)');
  });

  test("length: 64 accepted, 65 refused", () => {
    const rig64 = "r".repeat(64 - "-witness".length);
    expect(spec(`${rig64}-witness`).session).toBe(`gt-${rig64}-witness`);
    expect(error(`${rig64}x-witness`)).toMatch(/longer than 64/);
    expect(validateIdentity("x".repeat(65))).toEqual({ ok: false, error: expect.stringMatching(/longer than 64/) });
  });

  test("validateIdentity accepts the forms the parser may pass on", () => {
    for (const id of ["mayor", "witness", "Gastown-Crew-Joe", "gastown/witness", "gastown/crew/joe", "a_b-c"]) {
      expect(validateIdentity(id)).toEqual({ ok: true, identity: id });
    }
  });

  test("every accepted identity yields paths inside the town and a plain session name", () => {
    for (const id of ["mayor", "a-witness", "A_b-refinery", "r-crew-n", "r/crew/n_1"]) {
      const s = spec(id);
      for (const p of [s.stateFile, s.workDir]) expect(p === TOWN || p.startsWith(`${TOWN}/`)).toBe(true);
      expect(s.session).toMatch(/^gt-[A-Za-z0-9_-]+$/);
    }
  });
});

describe("sessionOptions", () => {
  test("the original's set-option pairs, in order", () => {
    expect(sessionOptions(spec("gastown-witness"))).toEqual([
      ["status-style", "bg=#0d5c63,fg=#e0e0e0"],
      ["status-left-length", "40"],
      ["status-left", "[gastown/witness] witness "],
      ["status-right-length", "50"],
      ["status-interval", "5"],
      ["status-right", "#(gt status-line --session=gt-gastown-witness 2>/dev/null) %H:%M"],
    ]);
    expect(sessionOptions(spec("mayor"))[0]).toEqual(["status-style", "bg=#3d3200,fg=#ffd700"]);
  });
});
