/**
 * Agent identities as text: the syntax every identity from outside must have (mail, config, file names)
 * and the original's dash and slash forms mapped to a role, rig and crew name in canonical dash form.
 * Pure, and outside src/core/ so that config (supervise.agents) checks names by the same rules as the
 * core (src/core/identity.ts) without the two folders importing each other.
 */
import { quote } from "./quote.ts";

export type AgentRole = "mayor" | "witness" | "refinery" | "crew";

export const MAX_IDENTITY_LENGTH = 64;
const COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const ALLOWED_CHARS = /^[A-Za-z0-9_/-]*$/;

function invalid(identity: string, why: string): { error: string } {
  return { error: `invalid agent identity: ${quote(identity)} (${why})` };
}

/** The original's wording, unquoted: only called once the characters are known to be safe. */
function unknown(identity: string): { error: string } {
  return { error: `unknown agent identity: ${identity}` };
}

/** Characters and length only: the part of validation that does not depend on the identity's shape. */
function checkCharacters(identity: string): string | null {
  if (identity.length === 0) return "empty";
  if (identity.length > MAX_IDENTITY_LENGTH) return `longer than ${MAX_IDENTITY_LENGTH} characters`;
  if (!ALLOWED_CHARS.test(identity)) return "only letters, digits, _ and - are allowed";
  return null;
}

/** Why `identity` is not acceptable, or null: the rules of validateIdentity. */
function identityProblem(identity: string): string | null {
  const bad = checkCharacters(identity);
  if (bad) return bad;
  const parts = identity.split("/");
  if (parts.length > 3) return "too many / separators";
  if (parts.some((p) => p === "")) return "empty component";
  if (parts.some((p) => !COMPONENT.test(p))) return "a component starts with -";
  return null;
}

/**
 * Syntactic check for any identity text from mail (title or sender): up to three `/`-separated
 * components, each letters, digits, `_`, `-`, not starting with `-` (it would read as a flag).
 * This rules out `.`, `..`, absolute paths, shell metacharacters, whitespace and control characters.
 */
export function validateIdentity(identity: string): { ok: true; identity: string } | { ok: false; error: string } {
  const why = identityProblem(identity);
  return why ? { ok: false, ...invalid(identity, why) } : { ok: true, identity };
}

export interface AgentShape {
  role: AgentRole;
  rig: string | null;
  crewName: string | null;
}

const ci = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The original's dash-form rules, in its order: `mayor`, suffix `-witness`, suffix `-refinery`, then
 * split at the first `-crew-`. Role words match case-insensitively (the original lowercased the whole
 * title); the rig and crew name keep their case (defect #23: lowercasing broke uppercase rig names).
 */
function dashShape(id: string): AgentShape | null {
  const lower = id.toLowerCase();
  if (lower === "mayor") return { role: "mayor", rig: null, crewName: null };
  if (lower.endsWith("-witness")) return { role: "witness", rig: id.slice(0, -"-witness".length), crewName: null };
  if (lower.endsWith("-refinery")) return { role: "refinery", rig: id.slice(0, -"-refinery".length), crewName: null };
  const at = lower.indexOf("-crew-");
  if (at >= 0) return { role: "crew", rig: id.slice(0, at), crewName: id.slice(at + "-crew-".length) };
  return null;
}

function slashShape(parts: string[]): AgentShape | null {
  const [rig, role, name] = parts;
  if (parts.length === 2 && ci(role!, "witness")) return { role: "witness", rig: rig!, crewName: null };
  if (parts.length === 2 && ci(role!, "refinery")) return { role: "refinery", rig: rig!, crewName: null };
  if (parts.length === 3 && ci(role!, "crew")) return { role: "crew", rig: rig!, crewName: name! };
  return null;
}

function canonical(s: AgentShape): string {
  if (s.role === "mayor") return "mayor";
  if (s.role === "crew") return `${s.rig}-crew-${s.crewName}`;
  return `${s.rig}-${s.role}`;
}

const sameShape = (a: AgentShape, b: AgentShape | null) =>
  b !== null && a.role === b.role && a.rig === b.rig && a.crewName === b.crewName;

/** An identity (dash or slash form) in canonical dash form with its shape, or why it names no agent. */
export function parseAgentName(identity: string): (AgentShape & { identity: string }) | { error: string } {
  const bad = checkCharacters(identity);
  if (bad) return invalid(identity, bad);
  const parts = identity.split("/");
  const shape = parts.length === 1 ? dashShape(identity) : slashShape(parts);
  // Empty rig or crew name (`-witness`, `gastown-crew-`) is an unknown identity, as in the original.
  if (!shape || shape.rig === "" || shape.crewName === "") return unknown(identity);
  const id = canonical(shape);
  // The canonical form is what the session is named after and what GT_ROLE carries, so a slash form
  // must read back as the same agent (`a/crew/b-witness` would come back as witness `a-crew-b`).
  if (parts.length > 1 && !sameShape(shape, dashShape(id))) {
    return invalid(identity, `ambiguous: its dash form ${id} names a different agent`);
  }
  const why = identityProblem(id);
  if (why) return invalid(identity, why);
  return { identity: id, ...shape };
}
