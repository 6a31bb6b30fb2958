/** The typed config the core reads: durations in milliseconds, carried in names that say so. */
import { parseDuration } from "../duration.ts";
import { loadLayers, parseSize, type Layered, type LoadInput } from "./load.ts";
import type { MailboxPreset, SettingKey } from "./settings.ts";

export type BackoffStrategy = "fixed" | "geometric" | "exponential";

export interface BackoffConfig {
  strategy: BackoffStrategy;
  baseMs: number;
  maxMs: number;
  factor: number;
}

/** Supervision (README "Supervision"): who is supervised besides the Deacon, and when gtd steps in. */
export interface SuperviseConfig {
  /** Canonical identities (`mayor`, `gastown-witness`, ...), in the order given; the Deacon is always supervised. */
  agents: string[];
  graceMs: number;
  hung: { unansweredPokes: number; afterMs: number };
  restart: { baseMs: number; maxMs: number; resetAfterMs: number };
  crashLoop: { restarts: number; withinMs: number; holdMs: number };
  humanActiveMs: number;
}

export interface Config {
  /** A duration or a cron pattern, as given. */
  heartbeat: string;
  backoff: BackoffConfig;
  slotMaxAgeMs: number;
  freshness: { freshMs: number; veryStaleMs: number; futureSkewMs: number };
  deacon: { session: string; command: string[] };
  agent: { command: string[]; prime: string | null };
  poke: { mayor: boolean; witnesses: boolean };
  mailbox: { preset: MailboxPreset; inbox: string[]; close: string[]; send: string[]; sync: string[] | null };
  requests: { maxAttempts: number; maxAgeMs: number };
  timeouts: { tmuxMs: number; mailboxMs: number; gitMs: number; stopMs: number };
  log: { maxBytes: number; files: number; format: "text" | "json" };
  tmux: { socket: string | null };
  /** Where the metrics file goes, as configured (resolved against the town root by the daemon); null: none. */
  metrics: { file: string | null };
  supervise: SuperviseConfig;
}

export function buildConfig(values: Record<SettingKey, unknown>): Config {
  const ms = (k: SettingKey) => parseDuration(values[k] as string)!;
  const str = (k: SettingKey) => values[k] as string;
  const size = values["log.maxSize"];
  return {
    heartbeat: str("heartbeat"),
    backoff: {
      strategy: values["backoff.strategy"] as BackoffStrategy,
      baseMs: ms("backoff.base"),
      maxMs: ms("backoff.max"),
      factor: values["backoff.factor"] as number,
    },
    slotMaxAgeMs: ms("slots.maxAge"),
    freshness: { freshMs: ms("freshness.fresh"), veryStaleMs: ms("freshness.veryStale"), futureSkewMs: ms("freshness.futureSkew") },
    deacon: { session: str("deacon.session"), command: values["deacon.command"] as string[] },
    agent: { command: values["agent.command"] as string[], prime: values["agent.prime"] as string | null },
    poke: { mayor: values["poke.mayor"] as boolean, witnesses: values["poke.witnesses"] as boolean },
    mailbox: {
      preset: values["mailbox.preset"] as MailboxPreset,
      inbox: values["mailbox.inbox"] as string[],
      close: values["mailbox.close"] as string[],
      send: values["mailbox.send"] as string[],
      sync: values["mailbox.sync"] as string[] | null,
    },
    requests: { maxAttempts: values["requests.maxAttempts"] as number, maxAgeMs: ms("requests.maxAge") },
    timeouts: { tmuxMs: ms("timeouts.tmux"), mailboxMs: ms("timeouts.mailbox"), gitMs: ms("timeouts.git"), stopMs: ms("timeouts.stop") },
    log: { maxBytes: typeof size === "number" ? size : parseSize(size as string)!, files: values["log.files"] as number, format: values["log.format"] as "text" | "json" },
    tmux: { socket: values["tmux.socket"] as string | null },
    metrics: { file: values["metrics.file"] as string | null },
    supervise: {
      agents: [...(values["supervise.agents"] as string[])],
      graceMs: ms("supervise.grace"),
      hung: { unansweredPokes: values["supervise.hung.unansweredPokes"] as number, afterMs: ms("supervise.hung.after") },
      restart: { baseMs: ms("supervise.restart.base"), maxMs: ms("supervise.restart.max"), resetAfterMs: ms("supervise.restart.resetAfter") },
      crashLoop: { restarts: values["supervise.crashLoop.restarts"] as number, withinMs: ms("supervise.crashLoop.within"), holdMs: ms("supervise.crashLoop.hold") },
      humanActiveMs: ms("supervise.humanActive"),
    },
  };
}

export interface LoadedConfig {
  config: Config;
  layers: Layered;
}

export function loadConfig(input: LoadInput): LoadedConfig {
  const layers = loadLayers(input);
  return { config: buildConfig(layers.values), layers };
}

/** The defaults alone, for unit tests and tools that have no town. */
export function defaultConfig(): Config {
  return loadConfig({ configFile: "/nonexistent/gtd/config.json", env: {} }).config;
}

export type { Layered, LoadInput, Source } from "./load.ts";
