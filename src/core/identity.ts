/**
 * Agent identities (from LIFECYCLE mail) → the session, state file, working directory and tmux look of
 * the agent, as the original's table (reference §7.4), with the identity validated first (defect #23):
 * mail is untrusted text, and an identity becomes a path component, a tmux session name and, through the
 * status-right `#(…)`, part of a command tmux runs with a shell.
 */
import { join } from "node:path";
import { parseAgentName, type AgentRole, type AgentShape } from "../agent-name.ts";

// The name rules live in src/agent-name.ts (config checks supervise.agents by them too).
export { MAX_IDENTITY_LENGTH, validateIdentity, type AgentRole } from "../agent-name.ts";

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

/** Map an identity (dash or slash form) to everything needed to check and recreate its session. */
export function resolveAgent(identity: string, townRoot: string): AgentSpec | { error: string } {
  const name = parseAgentName(identity);
  return "error" in name ? name : buildSpec(name.identity, name, townRoot);
}

function buildSpec(id: string, s: AgentShape, town: string): AgentSpec {
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
