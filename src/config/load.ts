/**
 * The effective config: defaults < daemon/config.json < GTD_* environment < flags.
 * Every layer is checked value by value; an unknown key or a bad value names the key, the value and
 * the expected form.
 */
import * as v from "valibot";
import { parseDuration } from "../duration.ts";
import { GtdError } from "../errors.ts";
import { readText } from "../store.ts";
import { envName, MAILBOX_PRESETS, SETTING_KEYS, SETTINGS, type MailboxPreset, type Setting, type SettingKey, type SettingKind } from "./settings.ts";
import { quote } from "../quote.ts";
import { parseHeartbeat } from "../schedule.ts";
import { AGENTS_FORM, agentListFromText, checkAgentList } from "./agents.ts";

export type Source = "default" | "config.json" | `env ${string}` | `flag ${string}` | `preset ${MailboxPreset}`;

export interface Layered {
  values: Record<SettingKey, unknown>;
  sources: Record<SettingKey, Source>;
}

/**
 * A session name is an identity component (letters, digits, `_`, `-`; no leading `-`; at most 64): tmux
 * rewrites `.` and `:` in a new session's name, and src/tmux.ts refuses such names, so a Deacon session
 * named so could never be created or found and every heartbeat would fail.
 */
const SESSION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
/** A `tmux -L` socket name: a file name under tmux's directory, so no `/`, no leading `-`, not `.` or `..`. */
const SOCKET_NAME = /^(?!\.\.?$)[A-Za-z0-9_.][A-Za-z0-9_.-]{0,63}$/;

const argvSchema = v.pipe(v.array(v.string()), v.minLength(1), v.check((a) => a[0] !== "", "argv[0] must not be empty"));

/** The valibot schema and the human form expected, for each kind of setting (file and flag values alike). */
const KIND: Record<SettingKind, { schema: v.GenericSchema; form: string; rangedForm?: (lo: string, hi: string) => string }> = {
  schedule: {
    schema: v.pipe(v.string(), v.check((s) => isSchedule(s))),
    form: 'a duration ("30s", "5m") or a 5/6-field cron pattern',
    rangedForm: (lo, hi) => `a duration from ${lo} to ${hi} ("30s", "5m") or a 5/6-field cron pattern`,
  },
  duration: {
    schema: v.pipe(v.string(), v.check((s) => parseDuration(s) !== null)),
    form: 'a duration such as "250ms", "30s", "5m", "1h"',
    rangedForm: (lo, hi) => `a duration from ${lo} to ${hi}, such as "250ms", "30s", "5m", "1h"`,
  },
  size: { schema: v.union([v.pipe(v.number(), v.integer(), v.minValue(1)), v.pipe(v.string(), v.check((s) => parseSize(s) !== null))]), form: 'a size such as "10MB", "512KB" or a byte count' },
  int: { schema: v.pipe(v.number(), v.integer(), v.minValue(1)), form: "a whole number ≥ 1" },
  factor: { schema: v.pipe(v.number(), v.minValue(1)), form: "a number ≥ 1" },
  bool: { schema: v.boolean(), form: "true or false" },
  argv: { schema: argvSchema, form: 'a non-empty array of strings, e.g. ["bd", "close", "{id}"]' },
  optionalArgv: { schema: v.nullable(argvSchema), form: "an array of strings, or null for none" },
  sessionName: {
    schema: v.pipe(v.string(), v.regex(SESSION_NAME)),
    form: "a session name of letters, digits, '_' or '-', not starting with '-', at most 64 characters (tmux rewrites '.' and ':')",
  },
  optionalString: { schema: v.nullable(v.pipe(v.string(), v.minLength(1))), form: "a non-empty string, or null for none" },
  optionalSocket: {
    schema: v.nullable(v.pipe(v.string(), v.regex(SOCKET_NAME))),
    form: "a socket name of letters, digits, '_', '-' or '.' (no '/', not starting with '-'), at most 64 characters, or null for the default server",
  },
  strategy: { schema: v.picklist(["fixed", "geometric", "exponential"]), form: '"fixed", "geometric" or "exponential"' },
  mailboxPreset: { schema: v.picklist(["bd", "gt"]), form: '"bd" (bd mail) or "gt" (gt mail)' },
  logFormat: { schema: v.picklist(["text", "json"]), form: '"text" or "json"' },
  // Checked entry by entry (agents.ts), so an error names the entry; this is the shape alone.
  agents: { schema: v.array(v.string()), form: AGENTS_FORM },
  // Only a .prom file: config.json is writable by the town's agents, and this path is written outside
  // the town; the suffix keeps a hostile config from turning gtd into a writer of arbitrary files.
  metricsFile: {
    schema: v.nullable(v.pipe(v.string(), v.regex(/^[^\0]+\.prom$/))),
    form: 'a path ending in ".prom" (relative paths are from the town root), or null for none',
  },
};

/** A duration or a 5/6-field cron pattern croner accepts and that ever runs (bounds: inRange). */
export function isSchedule(spec: string): boolean {
  return parseHeartbeat(spec) !== null;
}

export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (!m) return null;
  const mult: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
  const n = Math.round(Number(m[1]) * mult[(m[2] ?? "b").toLowerCase()]!);
  return n >= 1 ? n : null;
}

function checkValue(key: SettingKey, raw: unknown, where: string): unknown {
  const setting: Setting = SETTINGS[key];
  if (setting.kind === "agents") return checkAgentList(key, raw, where);
  const kind = KIND[setting.kind];
  const res = v.safeParse(kind.schema, raw);
  if (!res.success || !inRange(setting, res.output) || !atLeastMin(setting, res.output)) {
    const form = setting.range && kind.rangedForm
      ? kind.rangedForm(shortDuration(setting.range.minMs), shortDuration(setting.range.maxMs))
      : setting.min !== undefined ? `a whole number ≥ ${setting.min}` : kind.form;
    throw new GtdError("CONFIG", `${where}: ${key} = ${quote(raw)} is not valid`, `expected ${form}`);
  }
  return res.output;
}

/** A duration within the setting's bounds; a cron pattern (not a duration) is not bounded here. */
function inRange(setting: Setting, value: unknown): boolean {
  if (!setting.range || typeof value !== "string") return true;
  const ms = parseDuration(value);
  return ms === null || (ms >= setting.range.minMs && ms <= setting.range.maxMs);
}

/** An int with a floor above 1 (the int kind's own): crashLoop.restarts of 1 would hold after any restart. */
function atLeastMin(setting: Setting, value: unknown): boolean {
  return setting.min === undefined || typeof value !== "number" || value >= setting.min;
}

/** 100 → "100ms", 2073600000 → "24d": the bound as a user would write it. */
function shortDuration(ms: number): string {
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Where a layered value came from, as the error names it: the file, the variable or the flag. */
function describeSource(source: Source, configFile: string): string {
  if (source === "config.json") return configFile;
  if (source === "default") return "the default";
  if (source.startsWith("env ")) return `environment ${source.slice(4)}`;
  return source;
}

/**
 * Settings that are each valid but cannot work together, checked once every layer is in: a backoff or a
 * restart delay that starts above its cap, a "fresh" window that is not shorter than "very stale".
 */
function checkCombinations(values: Record<SettingKey, unknown>, sources: Record<SettingKey, Source>, configFile: string): void {
  const pair = (a: SettingKey, b: SettingKey, ok: (x: number, y: number) => boolean, relation: string, rule: string) => {
    const x = parseDuration(values[a] as string)!;
    const y = parseDuration(values[b] as string)!;
    if (ok(x, y)) return;
    const show = (k: SettingKey) => `${k} = ${quote(values[k])} (from ${describeSource(sources[k], configFile)})`;
    throw new GtdError("CONFIG", `${show(a)} ${relation} ${show(b)}`, `expected ${rule}; change one of them`);
  };
  pair("backoff.base", "backoff.max", (base, max) => base <= max, "is greater than", "backoff.base ≤ backoff.max");
  pair("freshness.fresh", "freshness.veryStale", (fresh, very) => fresh < very, "is not less than", "freshness.fresh < freshness.veryStale");
  pair("supervise.restart.base", "supervise.restart.max", (base, max) => base <= max, "is greater than", "supervise.restart.base ≤ supervise.restart.max");
}

/** Flatten config.json into dotted keys, refusing any key gtd does not know. */
function flattenFile(obj: unknown, file: string): Map<SettingKey, unknown> {
  const out = new Map<SettingKey, unknown>();
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new GtdError("CONFIG", `${file}: expected a JSON object`, "see `gtd config` for the keys");
  }
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, val] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      const section = SETTING_KEYS.filter((s) => s.startsWith(`${key}.`));
      // Own keys only: `constructor` or `__proto__` in a config file is an unknown key, not Object's.
      if (Object.hasOwn(SETTINGS, key)) out.set(key as SettingKey, val);
      else if (section.length > 0 && typeof val === "object" && val && !Array.isArray(val)) {
        walk(val as Record<string, unknown>, key);
      } else if (section.length > 0) {
        // A known section with a value that is not an object: say so, rather than "unknown key".
        throw new GtdError(
          "CONFIG",
          `${file}: ${key} = ${quote(val)} is not valid`,
          `expected an object with keys ${section.map((s) => s.slice(key.length + 1)).join(", ")}`,
        );
      } else {
        throw new GtdError("CONFIG", `${file}: unknown key ${quote(key)}`, `known keys: ${SETTING_KEYS.join(", ")}`);
      }
    }
  };
  walk(obj as Record<string, unknown>, "");
  return out;
}

/** Env values are text: JSON where the kind is structured, plain text otherwise. */
function envValue(key: SettingKey, text: string, name: string): unknown {
  const kind = SETTINGS[key].kind;
  if (kind === "int" || kind === "factor") return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  if (kind === "agents") return agentListFromText(text, name);
  if (kind === "bool") return text === "true" || text === "1" ? true : text === "false" || text === "0" ? false : text;
  if (kind === "argv" || kind === "optionalArgv") {
    try {
      return JSON.parse(text);
    } catch {
      throw new GtdError("CONFIG", `${name}: ${quote(text)} is not valid`, `expected ${KIND[kind].form} as JSON`);
    }
  }
  if ((kind === "optionalString" || kind === "optionalSocket") && (text === "" || text === "null")) return null;
  if (kind === "size" && /^\d+$/.test(text)) return Number(text);
  return text;
}

/** A config.json holds a few dozen short keys; 1 MiB is far beyond any real one. */
export const CONFIG_CAP_BYTES = 1024 * 1024;

/** The preset fills every mailbox.* key left at its default; `gtd config` shows them as `preset gt`. */
function applyMailboxPreset(values: Record<SettingKey, unknown>, sources: Record<SettingKey, Source>): void {
  const preset = values["mailbox.preset"] as MailboxPreset;
  if (preset === "bd") return; // the defaults are the bd set
  for (const [key, argv] of Object.entries(MAILBOX_PRESETS[preset]) as Array<[SettingKey, readonly string[] | null]>) {
    if (sources[key] !== "default") continue;
    values[key] = argv === null ? null : [...argv];
    sources[key] = `preset ${preset}`;
  }
}

export interface LoadInput {
  configFile: string;
  env: Record<string, string | undefined>;
  flags?: Partial<Record<SettingKey, string>>;
}

export function loadLayers(input: LoadInput): Layered {
  const values = {} as Record<SettingKey, unknown>;
  const sources = {} as Record<SettingKey, Source>;
  for (const key of SETTING_KEYS) {
    values[key] = SETTINGS[key].default;
    sources[key] = "default";
  }
  let text: string | null;
  try {
    // The operator's file may be a symlink (a dotfiles repo); it is still a regular file within the cap.
    text = readText(input.configFile, { follow: true, maxBytes: CONFIG_CAP_BYTES });
  } catch (err) {
    throw new GtdError("CONFIG", `${input.configFile}: cannot read (${(err as Error).message})`, "it must be a readable JSON file, or absent");
  }
  if (text !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new GtdError("CONFIG", `${input.configFile}: invalid JSON (${(err as Error).message})`, "fix the file or remove it to use the defaults");
    }
    for (const [key, raw] of flattenFile(parsed, input.configFile)) {
      values[key] = checkValue(key, raw, input.configFile);
      sources[key] = "config.json";
    }
  }
  const byEnv = new Map(SETTING_KEYS.map((k) => [envName(k), k] as const));
  for (const [name, text] of Object.entries(input.env)) {
    if (!name.startsWith("GTD_") || text === undefined) continue;
    const key = byEnv.get(name);
    if (!key) throw new GtdError("CONFIG", `unknown environment variable ${quote(name)}`, `known: ${[...byEnv.keys()].join(", ")}`);
    values[key] = checkValue(key, envValue(key, text, name), `environment ${name}`);
    sources[key] = `env ${name}`;
  }
  for (const [key, text] of Object.entries(input.flags ?? {}) as Array<[SettingKey, string | undefined]>) {
    if (text === undefined) continue;
    values[key] = checkValue(key, envValue(key, text, `--${key}`), `flag --${key}`);
    sources[key] = `flag --${key}`;
  }
  applyMailboxPreset(values, sources);
  checkCombinations(values, sources, input.configFile);
  return { values, sources };
}
