/**
 * Every setting gtd has, with its default and the reason for it: the one defaults object.
 * Keys are dotted paths as written in daemon/config.json; each maps to a `GTD_*` environment variable.
 */

export type SettingKind =
  | "schedule" // a duration or a 5/6-field cron pattern
  | "duration" // "250ms", "30s", "5m", "1h"
  | "size" // "10MB", "512KB", or a byte count
  | "int"
  | "factor" // a number > 1
  | "bool"
  | "argv" // a non-empty array of strings (from env: a JSON array)
  | "optionalArgv" // argv, or null for "none"
  | "sessionName" // a tmux session name gtd can find again (the identity component rule)
  | "optionalString" // a string, or null for "none"
  | "optionalSocket" // a tmux -L socket name, or null for the default server
  | "strategy"
  | "mailboxPreset" // "bd" or "gt": which mail command set the mailbox.* defaults come from
  | "metricsFile" // a path ending in .prom, or null for none
  | "logFormat" // "text" (the original's lines) or "json" (one object per line)
  | "agents"; // a list of agent identities (from env: a JSON array, or names separated by commas or spaces)

export interface Setting {
  kind: SettingKind;
  default: unknown;
  /** Why the default is what it is; printed by `gtd config`. */
  why: string;
  /** For a duration (or a schedule given as a duration): the bounds, in milliseconds, inclusive. */
  range?: { minMs: number; maxMs: number };
  /** For an int: the least value that works, when it is above 1. */
  min?: number;
}

/**
 * The bounds of anything that becomes a timer: below 100ms a timeout is no protection (and 0 would read as
 * "no timeout"); above 24 days setTimeout's 2^31 ms limit overflows and the timer fires at once, in a loop.
 */
export const TIMER_RANGE = { minMs: 100, maxMs: 24 * 86_400_000 } as const;

/**
 * A heartbeat runs tmux and the mailbox command: more than one a second is load, not supervision, and a
 * cron pattern cannot go below a second either. The top stays the timers' bound.
 */
export const HEARTBEAT_RANGE = { minMs: 1000, maxMs: TIMER_RANGE.maxMs } as const;

/**
 * A restart delay: the in-pane loop sleeps whole seconds, and a delay under a second is the restart every
 * couple of seconds, forever, that the delay exists to stop. The top stays the timers' bound.
 */
export const RESTART_DELAY_RANGE = { minMs: 1000, maxMs: TIMER_RANGE.maxMs } as const;

export const SETTINGS = {
  heartbeat: { kind: "schedule", default: "5m", why: "the original's heartbeat interval", range: HEARTBEAT_RANGE },
  "backoff.strategy": { kind: "strategy", default: "geometric", why: "the original grows the poke interval ×factor per unanswered poke" },
  "backoff.base": { kind: "duration", default: "5m", why: "first poke interval; equal to the heartbeat, as in the original" },
  "backoff.max": { kind: "duration", default: "30m", why: "a silent agent is still poked twice an hour" },
  "backoff.factor": { kind: "factor", default: 1.5, why: "the original's geometric factor: 5m, 7m30s, 11m15s, ..." },
  "slots.maxAge": { kind: "duration", default: "5m", why: "a poke counts as pending for one heartbeat" },
  "freshness.fresh": { kind: "duration", default: "2m", why: "the Deacon writes its heartbeat every round; under 2m it is working" },
  "freshness.veryStale": { kind: "duration", default: "5m", why: "a whole heartbeat without a round means the Deacon is stuck" },
  "freshness.futureSkew": { kind: "duration", default: "1m", why: "clock skew tolerated before a future timestamp counts as very stale" },
  "deacon.session": { kind: "sessionName", default: "gt-deacon", why: "the original's Deacon session name" },
  "deacon.command": { kind: "argv", default: ["claude", "--dangerously-skip-permissions"], why: "the original's agent command" },
  "agent.command": { kind: "argv", default: ["claude", "--dangerously-skip-permissions"], why: "what a cycled or restarted agent runs, as in the original" },
  "agent.prime": { kind: "optionalString", default: null, why: "the original typed `gt prime` into the agent as a prompt (a defect); none unless asked" },
  "poke.mayor": { kind: "bool", default: false, why: "the original has the mayor poke but never calls it" },
  "poke.witnesses": { kind: "bool", default: false, why: "the original has the witness pokes but never calls them" },
  "mailbox.preset": { kind: "mailboxPreset", default: "bd", why: "the original's `bd mail`; \"gt\" selects upstream's `gt mail` set; the mailbox.* keys below still override it" },
  "mailbox.inbox": { kind: "argv", default: ["bd", "mail", "inbox", "--identity", "deacon/", "--json"], why: "the original's inbox command" },
  "mailbox.close": { kind: "argv", default: ["bd", "close", "{id}"], why: "the original's close command; {id} is the message id" },
  "mailbox.send": { kind: "argv", default: ["bd", "mail", "send", "{to}", "-s", "{subject}", "-m", "{body}"], why: "what handoffs send with; {to} {subject} {body} are filled in as whole arguments" },
  "mailbox.sync": { kind: "optionalArgv", default: ["bd", "sync"], why: "the original's pre-sync step after git" },
  "requests.maxAttempts": { kind: "int", default: 3, why: "a request that fails three times will not succeed on the fourth; it is closed" },
  "requests.maxAge": { kind: "duration", default: "6h", why: "an older request is stale (upstream's fix for crews killed by days-old mail)" },
  "timeouts.tmux": { kind: "duration", default: "5s", why: "a tmux call answers in milliseconds; 5s means the server is wedged", range: TIMER_RANGE },
  "timeouts.mailbox": { kind: "duration", default: "30s", why: "bd may sync over the network; a hung bd must not freeze the heartbeat", range: TIMER_RANGE },
  "timeouts.git": { kind: "duration", default: "2m", why: "a fetch of a large repository over a slow link", range: TIMER_RANGE },
  "timeouts.stop": { kind: "duration", default: "10s", why: "long enough for a lifecycle action to finish; then `gtd stop` sends SIGKILL", range: TIMER_RANGE },
  "log.maxSize": { kind: "size", default: "10MB", why: "weeks of heartbeats in one file" },
  "log.format": { kind: "logFormat", default: "text", why: "the original's lines; \"json\" writes one object per line with a stable event field, for log shippers" },
  "log.files": { kind: "int", default: 3, why: "the current log plus two rotated ones" },
  "metrics.file": { kind: "metricsFile", default: null, why: "opt-in: a Prometheus text file for node_exporter's textfile collector, rewritten after each heartbeat" },
  "tmux.socket": { kind: "optionalSocket", default: null, why: "the default tmux server, as the original (TMUX_TMPDIR respected)" },
  "supervise.agents": { kind: "agents", default: [], why: "opt-in: the agents supervised besides the Deacon (always); none, so a town that does not list any behaves as before" },
  "supervise.grace": { kind: "duration", default: "5m", why: "an agent needs a few minutes to boot and write its first heartbeat; it is never judged hung before", range: TIMER_RANGE },
  "supervise.hung.unansweredPokes": { kind: "int", default: 3, why: "one unanswered poke is a long tool call or a lost keystroke; three in a row is a pattern" },
  "supervise.hung.after": { kind: "duration", default: "30m", why: "outlasts a long build or test run, during which an agent reads no input; staleness alone never counts", range: TIMER_RANGE },
  "supervise.restart.base": { kind: "duration", default: "30s", why: "a crash every 2s burns tokens and floods logs; 30s stops that, yet a one-off crash is barely noticed", range: RESTART_DELAY_RANGE },
  "supervise.restart.max": { kind: "duration", default: "10m", why: "the delay doubles up to this: an agent down for a cause that heals (an API outage) is back within 10m of it", range: RESTART_DELAY_RANGE },
  "supervise.restart.resetAfter": { kind: "duration", default: "30m", why: "a run this long was not a crash loop (twice crashLoop.within): the next crash starts from restart.base again", range: TIMER_RANGE },
  "supervise.crashLoop.restarts": { kind: "int", default: 5, why: "five restarts with the growing delay (30s+1m+2m+4m of waiting) is a loop, not bad luck; one restart cannot be a loop", min: 2 },
  "supervise.crashLoop.within": { kind: "duration", default: "15m", why: "holds the five restarts of an agent that dies at once (7m30s of delays), never one that crashes every few hours", range: TIMER_RANGE },
  "supervise.crashLoop.hold": { kind: "duration", default: "1h", why: "long enough to stop the token burn and for someone to see it; short enough that a passing cause heals unattended", range: TIMER_RANGE },
  "supervise.humanActive": { kind: "duration", default: "60s", why: "a person reading or thinking pauses for tens of seconds; one who has left delays a poke by only a minute", range: TIMER_RANGE },
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

export type MailboxPreset = "bd" | "gt";

/**
 * The whole mail command set per preset: upstream Gas Town moved lifecycle mail from `bd mail` to
 * `gt mail` (and `bd close` to `gt mail delete`). A mailbox.* key that is set explicitly wins over it.
 */
export const MAILBOX_PRESETS: Record<MailboxPreset, Record<"mailbox.inbox" | "mailbox.close" | "mailbox.send" | "mailbox.sync", readonly string[] | null>> = {
  bd: {
    "mailbox.inbox": SETTINGS["mailbox.inbox"].default,
    "mailbox.close": SETTINGS["mailbox.close"].default,
    "mailbox.send": SETTINGS["mailbox.send"].default,
    "mailbox.sync": SETTINGS["mailbox.sync"].default,
  },
  gt: {
    "mailbox.inbox": ["gt", "mail", "inbox", "--identity", "deacon/", "--json"],
    "mailbox.close": ["gt", "mail", "delete", "{id}"],
    "mailbox.send": ["gt", "mail", "send", "{to}", "-s", "{subject}", "-m", "{body}"],
    // The beads database is still synced by bd under gt mail.
    "mailbox.sync": SETTINGS["mailbox.sync"].default,
  },
};

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** `backoff.maxAttempts` → `GTD_BACKOFF_MAX_ATTEMPTS`. */
export function envName(key: string): string {
  return `GTD_${key.replace(/\./g, "_").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()}`;
}
