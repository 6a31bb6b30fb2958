/**
 * Which rigs a town has (§9): `<town>/mayor/rigs.json` when it can be read, else a directory scan.
 * Fixes over the original: sorted (it visited a map in random order), names are validated before any
 * path or session is built from them (§12 defect 23), and a bad rigs.json is reported, not silent.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { isDirectory, outsideTown, readJson } from "../store.ts";
import { quoteList } from "../quote.ts";
import type { RigDiscovery } from "../core/ports.ts";

export type { RigDiscovery };

/**
 * A rig name becomes part of a path, an identity and a tmux session name: letters, digits, `_`, `-`,
 * not starting with `-` (it would read as a flag) and at most 64 characters, the identity rules.
 */
const RIG_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

export function isValidRigName(name: string): boolean {
  return RIG_NAME_RE.test(name);
}

/** Never rigs in the scan (as the original); dot-dirs are skipped as well. */
const NOT_RIGS = new Set(["mayor", "daemon", ".git"]);

const SUPPORTED_VERSION = 1;

// looseObject: `gt rig add` writes more than we read. Entry values are not inspected (only names).
const RigsFileSchema = v.looseObject({
  version: v.optional(v.number(), 0),
  // valibot's record accepts arrays; Go's map decoding does not, so neither do we.
  rigs: v.optional(
    v.nullable(
      v.pipe(
        v.unknown(),
        v.check((r) => !Array.isArray(r), "expected an object of rig name → entry"),
        v.record(v.string(), v.unknown()),
      ),
    ),
    null,
  ),
});

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function joinWarnings(...ws: Array<string | undefined>): string | undefined {
  const present = ws.filter((w): w is string => !!w);
  return present.length ? present.join("; ") : undefined;
}

function invalidNote(names: string[], where: string): string | undefined {
  if (!names.length) return undefined;
  return `ignored invalid rig name${names.length > 1 ? "s" : ""} in ${where}: ${quoteList(names)} (letters, digits, _ and -, not starting with -)`;
}

/** Rig directories that are symlinks leading out of the town: their agents would live (and be acted on) elsewhere. */
function outsideNote(names: string[]): string | undefined {
  if (!names.length) return undefined;
  return `ignored rig${names.length > 1 ? "s" : ""} whose directory resolves outside the town: ${quoteList(names)}`;
}

/** Never throws: every failure becomes a warning and, where it makes sense, the fallback scan. */
export function discoverRigs(townRoot: string): RigDiscovery {
  const file = join(townRoot, "mayor", "rigs.json");
  const r = readJson(file, RigsFileSchema);
  let fallbackWhy: string | undefined;
  if (r.kind === "ok") {
    if (r.value.version > SUPPORTED_VERSION) {
      fallbackWhy = `${file}: unsupported version ${r.value.version} (max ${SUPPORTED_VERSION}); scanning the town directory instead`;
    } else {
      const invalid: string[] = [];
      const outside: string[] = [];
      const rigs: string[] = [];
      for (const name of Object.keys(r.value.rigs ?? {})) {
        if (!isValidRigName(name)) invalid.push(name);
        // A rig listed but not (yet) on disk is skipped silently, as the original does.
        else if (isDirectory(join(townRoot, name))) (outsideTown(townRoot, join(townRoot, name)) ? outside : rigs).push(name);
      }
      const warning = joinWarnings(invalidNote(invalid, file), outsideNote(outside));
      return { rigs: rigs.sort(), source: "rigs.json", ...(warning ? { warning } : {}) };
    }
  } else if (r.kind === "corrupt") {
    fallbackWhy = `${file} is invalid (${r.reason}); scanning the town directory instead`;
  }
  // Missing rigs.json is normal for a small town: scan without a warning.
  const scan = scanRigs(townRoot);
  const warning = joinWarnings(fallbackWhy, scan.warning);
  return { rigs: scan.rigs, source: "scan", ...(warning ? { warning } : {}) };
}

/**
 * The original's fallback: a subdirectory of the town root is a rig if it has `.beads` or a
 * `config.json` directly inside it (`<town>/<rig>/config.json`, as discoverRigsFromDirectory checks).
 */
function scanRigs(townRoot: string): { rigs: string[]; warning?: string } {
  let names: string[];
  try {
    names = readdirSync(townRoot);
  } catch (err) {
    return { rigs: [], warning: `cannot read town directory ${townRoot}: ${(err as Error).message}` };
  }
  const rigs: string[] = [];
  const invalid: string[] = [];
  const outside: string[] = [];
  for (const name of names) {
    if (NOT_RIGS.has(name) || name.startsWith(".")) continue;
    const dir = join(townRoot, name);
    if (!isDirectory(dir)) continue;
    if (!exists(join(dir, ".beads")) && !exists(join(dir, "config.json"))) continue;
    if (!isValidRigName(name)) invalid.push(name);
    else if (outsideTown(townRoot, dir)) outside.push(name);
    else rigs.push(name);
  }
  const warning = joinWarnings(invalidNote(invalid, townRoot), outsideNote(outside));
  return { rigs: rigs.sort(), ...(warning ? { warning } : {}) };
}
