/**
 * Properties of identity mapping (src/agents/identity.ts): resolveAgent never throws, and every identity
 * it accepts becomes a tmux-safe session name and paths confined to the town root, the same agent
 * whichever form (dash or slash, any case of the role words) names it.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { isAbsolute, normalize, relative, sep } from "node:path";
import { resolveAgent, sessionOptions, validateIdentity, type AgentSpec } from "../../src/core/identity.ts";
import { anyString, component, nearIdentity, randomCase, RUNS } from "./arbitraries.ts";

const towns = fc.constantFrom("/town", "/tmp/gt town", "/home/u/gt", "/srv/a b/(x)", "/");

/**
 * An agent and the forms that name it. Rig and crew names come from a small pool rich in role words
 * (`a-crew-b`, `witness`, `b-witness`), so ambiguous and colliding spellings come up often.
 */
const name = fc.oneof(component(), fc.constantFrom("a", "b", "crew", "witness", "refinery", "mayor", "a-crew-b", "b-witness", "x-refinery", "crew-x", "Gastown"));
const agent = fc.oneof(
  fc.record({ role: fc.constant("mayor" as const), rig: fc.constant(""), crew: fc.constant("") }),
  fc.record({ role: fc.constantFrom("witness" as const, "refinery" as const), rig: name, crew: fc.constant("") }),
  fc.record({ role: fc.constant("crew" as const), rig: name, crew: name }),
);
type Agent = { role: "mayor" | "witness" | "refinery" | "crew"; rig: string; crew: string };

/** The dash form, with role words lowercase or in a random case. */
function dashForm(a: Agent, role = a.role as string, crew = "crew"): string {
  if (a.role === "mayor") return role;
  if (a.role === "crew") return `${a.rig}-${crew}-${a.crew}`;
  return `${a.rig}-${role}`;
}
function slashForm(a: Agent, role = a.role as string): string | null {
  if (a.role === "mayor") return null;
  if (a.role === "crew") return `${a.rig}/${role}/${a.crew}`;
  return `${a.rig}/${role}`;
}
const casedAgent = agent.chain((a) => fc.tuple(fc.constant(a as Agent), randomCase(a.role), randomCase("crew")));

const anyIdentity = fc.oneof(anyString, nearIdentity, agent.map((a) => dashForm(a)), agent.map((a) => slashForm(a) ?? "mayor"));

const isSpec = (r: AgentSpec | { error: string }): r is AgentSpec => !("error" in r);

/** `p` is the town root or below it, with no `.`/`..` segment left to resolve. */
function confined(town: string, p: string): boolean {
  const rel = relative(town, p);
  return normalize(p) === p && !rel.startsWith("..") && !isAbsolute(rel) && (p === town || p.startsWith(town.endsWith(sep) ? town : town + sep));
}

describe("resolveAgent on any input", () => {
  test("never throws; an identity is either a full spec or an error naming it in one line", () => {
    fc.assert(
      fc.property(anyIdentity, towns, (id, town) => {
        const r = resolveAgent(id, town);
        if (!isSpec(r)) {
          expect(r.error).toMatch(/^(invalid|unknown) agent identity: /);
          expect(r.error).not.toMatch(/[\u0000-\u001f]/);
          expect(r.error.length).toBeLessThanOrEqual(300);
        }
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("an accepted identity gives a session tmux keeps as named, and paths inside the town root", () => {
    fc.assert(
      fc.property(anyIdentity, towns, (id, town) => {
        const r = resolveAgent(id, town);
        if (!isSpec(r)) return;
        expect(validateIdentity(id).ok).toBe(true);
        // tmux rewrites `.` and `:` in session names; `#`, `$`, quotes and spaces would matter in #(…).
        expect(r.session).toMatch(/^gt-[A-Za-z0-9_][A-Za-z0-9_-]*$/);
        expect(r.identity).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]*$/);
        expect(confined(town, r.stateFile)).toBe(true);
        expect(confined(town, r.workDir)).toBe(true);
        expect(r.stateFile.endsWith(`${sep}state.json`)).toBe(true);
        if (r.role !== "mayor") expect(r.workDir).not.toBe(town);
        // The only `#(` tmux will run is gtd's own status command, with the validated session name.
        expect(r.statusRight).toBe(`#(gt status-line --session=${r.session} 2>/dev/null) %H:%M`);
        // status-left is a tmux format too: a `#` from a rig name there would be interpreted.
        expect(r.statusLeft).not.toContain("#");
        expect(sessionOptions(r).filter(([, value]) => value.includes("#(")).map(([k]) => k)).toEqual(["status-right"]);
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("the canonical identity of a spec resolves to the same spec (one agent, one name)", () => {
    fc.assert(
      fc.property(anyIdentity, towns, (id, town) => {
        const r = resolveAgent(id, town);
        if (isSpec(r)) expect(resolveAgent(r.identity, town)).toEqual(r);
      }),
      { numRuns: RUNS.pure },
    );
  });
});

describe("forms of one agent", () => {
  test("the slash form, when accepted, is the same agent as the dash form; when refused as ambiguous, the dash form names another agent", () => {
    fc.assert(
      fc.property(agent, towns, (a, town) => {
        const slash = slashForm(a);
        fc.pre(slash !== null);
        const s = resolveAgent(slash!, town);
        const d = resolveAgent(dashForm(a), town);
        if (isSpec(s)) {
          expect(d).toEqual(s);
          expect({ role: s.role, rig: s.rig, crew: s.crewName ?? "" }).toEqual(a);
        } else if (s.error.includes("ambiguous")) {
          expect(isSpec(d) && d.role === a.role && d.rig === a.rig && (d.crewName ?? "") === a.crew).toBe(false);
        }
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("role words in any case name the same agent; rig and crew names keep their case", () => {
    fc.assert(
      fc.property(casedAgent, towns, ([a, role, crew], town) => {
        // Only where the lowercase dash form reads back as this agent: in `a-crew-b-witness` the role
        // word that counts is the suffix, and a `crew` inside a name is just part of the name.
        const plain = resolveAgent(dashForm(a), town);
        fc.pre(isSpec(plain) && plain.role === a.role && (plain.rig ?? "") === a.rig && (plain.crewName ?? "") === a.crew);
        expect(resolveAgent(dashForm(a, role, crew), town)).toEqual(resolveAgent(dashForm(a), town));
        const slash = slashForm(a, role);
        if (slash !== null) expect(resolveAgent(slash, town)).toEqual(resolveAgent(slashForm(a)!, town));
      }),
      { numRuns: RUNS.pure },
    );
  });

  test("two different agents never share a session name, a state file or a working directory", () => {
    fc.assert(
      fc.property(agent, agent, fc.boolean(), fc.boolean(), towns, (a, b, slashA, slashB, town) => {
        const ra = resolveAgent((slashA && slashForm(a)) || dashForm(a), town);
        const rb = resolveAgent((slashB && slashForm(b)) || dashForm(b), town);
        fc.pre(isSpec(ra) && isSpec(rb) && ra.identity !== rb.identity);
        const x = ra as AgentSpec;
        const y = rb as AgentSpec;
        expect(x.session).not.toBe(y.session);
        expect(x.stateFile).not.toBe(y.stateFile);
        expect(x.workDir).not.toBe(y.workDir);
      }),
      { numRuns: RUNS.pure },
    );
  });
});
