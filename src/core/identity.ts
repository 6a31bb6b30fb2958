/**
 * Agent identities (from LIFECYCLE mail) → the session, state file, working directory and tmux look of
 * the agent, as the original's table (reference §7.4), with the identity validated first (defect #23):
 * mail is untrusted text, and an identity becomes a path component, a tmux session name and, through the
 * status-right `#(…)`, part of a command tmux runs with a shell.
 */
import { join } from "node:path";
import { quote } from "../quote.ts";

export type AgentRole = "mayor" | "witness" | "refinery" | "crew";

export interface Theme {
  name: string;
  bg: string;
  fg: string;
}

export interface AgentSpec {
  /** Canonical dash form (`gastown-witness`, `gastown-crew-joe`); role words lowercase, names keep case. */
  identity: string;
  role: AgentRole;
  rig: string | null;
  crewName: string | null;
  session: string;
  stateFile: string;
  workDir: string;
  /** Refinery and crew trees are synced (git fetch/pull, bd sync) before the session is recreated. */
  presync: boolean;
  theme: Theme;
  statusLeft: string;
  statusRight: string;
}

/** The original's palette, in index order (theme.go); the index is FNV-1a-32(rig) mod 10. */
export const PALETTE: readonly Theme[] = [
  { name: "ocean", bg: "#1e3a5f", fg: "#e0e0e0" },
  { name: "forest", bg: "#2d5a3d", fg: "#e0e0e0" },
  { name: "rust", bg: "#8b4513", fg: "#f5f5dc" },
  { name: "plum", bg: "#4a3050", fg: "#e0e0e0" },
  { name: "slate", bg: "#4a5568", fg: "#e0e0e0" },
  { name: "ember", bg: "#b33a00", fg: "#f5f5dc" },
  { name: "midnight", bg: "#1a1a2e", fg: "#c0c0c0" },
  { name: "wine", bg: "#722f37", fg: "#f5f5dc" },
  { name: "teal", bg: "#0d5c63", fg: "#e0e0e0" },
  { name: "copper", bg: "#6d4c41", fg: "#f5f5dc" },
];
export const MAYOR_THEME: Theme = { name: "mayor", bg: "#3d3200", fg: "#ffd700" };
export const DEACON_THEME: Theme = { name: "deacon", bg: "#2d1f3d", fg: "#c0b0d0" };

/** FNV-1a 32-bit over the UTF-8 bytes, unsigned (Go's hash/fnv New32a). */
export function fnv1a32(text: string): number {
  let h = 2166136261;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h >>> 0;
}

export function themeForRig(rig: string): Theme {
  return PALETTE[fnv1a32(rig) % PALETTE.length]!;
}

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

interface Shape {
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
function dashShape(id: string): Shape | null {
  const lower = id.toLowerCase();
  if (lower === "mayor") return { role: "mayor", rig: null, crewName: null };
  if (lower.endsWith("-witness")) return { role: "witness", rig: id.slice(0, -"-witness".length), crewName: null };
  if (lower.endsWith("-refinery")) return { role: "refinery", rig: id.slice(0, -"-refinery".length), crewName: null };
  const at = lower.indexOf("-crew-");
  if (at >= 0) return { role: "crew", rig: id.slice(0, at), crewName: id.slice(at + "-crew-".length) };
  return null;
}

function slashShape(parts: string[]): Shape | null {
  const [rig, role, name] = parts;
  if (parts.length === 2 && ci(role!, "witness")) return { role: "witness", rig: rig!, crewName: null };
  if (parts.length === 2 && ci(role!, "refinery")) return { role: "refinery", rig: rig!, crewName: null };
  if (parts.length === 3 && ci(role!, "crew")) return { role: "crew", rig: rig!, crewName: name! };
  return null;
}

function canonical(s: Shape): string {
  if (s.role === "mayor") return "mayor";
  if (s.role === "crew") return `${s.rig}-crew-${s.crewName}`;
  return `${s.rig}-${s.role}`;
}

const sameShape = (a: Shape, b: Shape | null) =>
  b !== null && a.role === b.role && a.rig === b.rig && a.crewName === b.crewName;

/** Map an identity (dash or slash form) to everything needed to check and recreate its session. */
export function resolveAgent(identity: string, townRoot: string): AgentSpec | { error: string } {
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
  return buildSpec(id, shape, townRoot);
}

function buildSpec(id: string, s: Shape, town: string): AgentSpec {
  const session = `gt-${id}`;
  // The session name is safe inside tmux's `#(…)` (run by a shell) only because it was validated.
  const statusRight = `#(gt status-line --session=${session} 2>/dev/null) %H:%M`;
  const base = { identity: id, role: s.role, rig: s.rig, crewName: s.crewName, session, statusRight };
  if (s.role === "mayor") {
    return {
      ...base,
      stateFile: join(town, "mayor", "state.json"),
      workDir: town,
      presync: false,
      theme: MAYOR_THEME,
      statusLeft: "[Mayor] coordinator ",
    };
  }
  const rig = s.rig!;
  const theme = themeForRig(rig);
  if (s.role === "witness") {
    return {
      ...base,
      stateFile: join(town, rig, "witness", "state.json"),
      workDir: join(town, rig),
      presync: false,
      theme,
      statusLeft: `[${rig}/witness] witness `,
    };
  }
  if (s.role === "refinery") {
    return {
      ...base,
      stateFile: join(town, rig, "refinery", "state.json"),
      workDir: join(town, rig, "refinery", "rig"),
      presync: true,
      theme,
      statusLeft: `[${rig}/refinery] refinery `,
    };
  }
  const dir = join(town, rig, "crew", s.crewName!);
  return {
    ...base,
    stateFile: join(dir, "state.json"),
    workDir: dir,
    presync: true,
    theme,
    // The original shows `[<rig>/crew] crew `: the crew member's name is not in the status line.
    statusLeft: `[${rig}/crew] crew `,
  };
}

/** The original's ConfigureGasTownSession `set-option` pairs, in its order. */
export function sessionOptions(spec: AgentSpec): Array<[string, string]> {
  return [
    ["status-style", `bg=${spec.theme.bg},fg=${spec.theme.fg}`],
    ["status-left-length", "40"],
    ["status-left", spec.statusLeft],
    ["status-right-length", "50"],
    ["status-interval", "5"],
    ["status-right", spec.statusRight],
  ];
}
