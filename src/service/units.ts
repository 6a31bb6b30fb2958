/**
 * What `gtd service` writes: a systemd unit (Type=notify) or a launchd plist that runs
 * `gtd start --foreground --town <town>` and restarts it on failure. Pure text from a spec.
 */
import { basename } from "node:path";

export type ServiceKind = "systemd" | "launchd";
export type ServiceScope = "user" | "system";

export interface ServiceSpec {
  kind: ServiceKind;
  scope: ServiceScope;
  /** The command that runs gtd: the compiled binary, or bun plus the script in a checkout. */
  argv: string[];
  town: string;
  /** Heartbeat interval in ms (for a cron pattern, the gap between its next two runs). */
  heartbeatMs: number;
  /** The longest subprocess timeout: a pass may legitimately wait this long on one command. */
  longestTimeoutMs: number;
  /** PATH for the service: systemd and launchd start with a minimal one, without tmux, bd or the agent. */
  path: string;
  /** For a system unit of a town owned by someone else: run as that user (numeric uid). */
  uid: number | null;
}

/**
 * The watchdog window. gtd pings from its own loop while the loop is idle or its pass is making
 * progress, so the window must exceed both a heartbeat (the longest idle gap a cron schedule can leave
 * unpinged is covered by the timer, but a pass starts at each one) and the longest single wait of a
 * pass (one subprocess timeout); twice each, and never under a minute, so a loaded machine is not
 * mistaken for a wedged loop.
 */
export function watchdogSec(heartbeatMs: number, longestTimeoutMs: number): number {
  return Math.ceil(Math.max(60_000, 2 * heartbeatMs, 2 * longestTimeoutMs) / 1000);
}

/** `gtd-<town dir name>`: one service per town; letters, digits, `-` and `_` only. */
export function serviceName(town: string): string {
  const base = basename(town).replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "town";
  return `gtd-${base}`;
}

/** systemd quoting for one ExecStart word: double quotes with \ and " escaped, `%` doubled, `$` doubled. */
function systemdWord(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) && !s.includes("%")) return s;
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

/** An Environment= assignment, quoted as a whole so spaces survive (systemd expands no `$` there). */
function systemdEnv(name: string, value: string): string {
  return `"${`${name}=${value}`.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%")}"`;
}

export function systemdUnit(spec: ServiceSpec): string {
  const exec = [...spec.argv, "start", "--foreground", "--town", spec.town].map(systemdWord).join(" ");
  const lines = [
    "# Written by `gtd service install`; `gtd service uninstall` removes it.",
    "[Unit]",
    `Description=gtd, the Gas Town daemon for ${spec.town.replace(/%/g, "%%")}`,
    "",
    "[Service]",
    // READY=1 comes once the lock is held and the first heartbeat is done; STATUS= after each one.
    "Type=notify",
    "NotifyAccess=main",
    `ExecStart=${exec}`,
    "ExecReload=/bin/kill -HUP $MAINPID",
    "KillSignal=SIGTERM",
    // Only gtd itself: the tmux server it may have started holds the agents, which outlive the daemon.
    "KillMode=process",
    "Restart=on-failure",
    "RestartSec=5s",
    `WatchdogSec=${watchdogSec(spec.heartbeatMs, spec.longestTimeoutMs)}`,
    // Taken to the end of the line (no quoting); only specifiers need escaping.
    `WorkingDirectory=${spec.town.replace(/%/g, "%%")}`,
    `Environment=${systemdEnv("PATH", spec.path)}`,
    `Environment=${systemdEnv("GT_TOWN_ROOT", spec.town)}`,
    ...(spec.uid !== null ? [`User=${spec.uid}`] : []),
    "",
    "[Install]",
    `WantedBy=${spec.scope === "user" ? "default.target" : "multi-user.target"}`,
    "",
  ];
  return lines.join("\n");
}

/** Text as XML character data or an attribute value. */
export const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The launchd label: reverse-DNS, one per town. */
export function launchdLabel(town: string): string {
  return `com.gastown.${serviceName(town)}`;
}

export function launchdPlist(spec: ServiceSpec): string {
  const args = [...spec.argv, "start", "--foreground", "--town", spec.town].map((a) => `    <string>${xml(a)}</string>`);
  const log = `${spec.town}/daemon/daemon.log`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    "<dict>",
    "  <key>Label</key>",
    `  <string>${xml(launchdLabel(spec.town))}</string>`,
    "  <key>ProgramArguments</key>",
    "  <array>",
    ...args,
    "  </array>",
    "  <key>WorkingDirectory</key>",
    `  <string>${xml(spec.town)}</string>`,
    "  <key>EnvironmentVariables</key>",
    "  <dict>",
    "    <key>PATH</key>",
    `    <string>${xml(spec.path)}</string>`,
    "    <key>GT_TOWN_ROOT</key>",
    `    <string>${xml(spec.town)}</string>`,
    "  </dict>",
    "  <key>RunAtLoad</key>",
    "  <true/>",
    // Restart after a crash, not after a clean stop (`gtd stop`, SIGTERM).
    "  <key>KeepAlive</key>",
    "  <dict>",
    "    <key>SuccessfulExit</key>",
    "    <false/>",
    "  </dict>",
    // stderr is the log, as under `gtd start`: gtd then writes each line once, crash output included.
    "  <key>StandardErrorPath</key>",
    `  <string>${xml(log)}</string>`,
    "  <key>StandardOutPath</key>",
    "  <string>/dev/null</string>",
    "</dict>",
    "</plist>",
    "",
  ].join("\n");
}
