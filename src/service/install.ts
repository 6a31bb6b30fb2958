/**
 * `gtd service install|uninstall`: write (or remove) the unit or plist, then tell systemd or launchd,
 * saying each step. The host (files, commands, who we are) comes in as a port so tests can point it at
 * a temp directory and a fake systemctl.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { GtdError } from "../errors.ts";
import { describeFailure, type Runner } from "../proc.ts";
import { readText, safeUnlink, writeFileAtomic } from "../store.ts";
import { launchdLabel, xml, launchdPlist, serviceName, systemdUnit, type ServiceKind, type ServiceScope, type ServiceSpec } from "./units.ts";

export interface ServiceHost {
  run: Runner;
  env: Record<string, string | undefined>;
  uid: number;
  user: string;
  say: (line: string) => void;
}

/** systemctl and launchctl answer in well under a second; a hung bus must not hang the command. */
const SERVICE_COMMAND_TIMEOUT_MS = 30_000;

export function serviceFile(kind: ServiceKind, scope: ServiceScope, town: string, env: ServiceHost["env"]): string {
  const home = env.HOME ?? "/root";
  if (kind === "launchd") {
    const dir = scope === "user" ? join(home, "Library", "LaunchAgents") : "/Library/LaunchDaemons";
    return join(dir, `${launchdLabel(town)}.plist`);
  }
  const dir = scope === "user" ? join(env.XDG_CONFIG_HOME || join(home, ".config"), "systemd", "user") : "/etc/systemd/system";
  return join(dir, `${serviceName(town)}.service`);
}

export function renderService(spec: ServiceSpec): string {
  return spec.kind === "systemd" ? systemdUnit(spec) : launchdPlist(spec);
}

async function must(host: ServiceHost, argv: string[]): Promise<void> {
  const r = await host.run(argv, { timeoutMs: SERVICE_COMMAND_TIMEOUT_MS });
  if (r.code !== 0) {
    throw new GtdError("INTERNAL", `${argv.join(" ")}: ${describeFailure(r, SERVICE_COMMAND_TIMEOUT_MS)}`, r.notFound ? `is ${argv[0]} installed?` : "see the message above");
  }
  host.say(`✓ ${argv.join(" ")}`);
}

/** Ours when the file runs gtd for this very town; anything else in that place is not ours to replace. */
function ownedBy(text: string, town: string, kind: ServiceKind): boolean {
  if (kind === "launchd") return text.includes(`<string>${xml(town)}</string>`);
  return text.split("\n").some((l) => l.startsWith("ExecStart=") && l.includes(" start --foreground --town ") && l.includes(town));
}

export async function installService(spec: ServiceSpec, host: ServiceHost): Promise<string> {
  const file = serviceFile(spec.kind, spec.scope, spec.town, host.env);
  const existing = readText(file, { follow: true });
  if (existing !== null && !ownedBy(existing, spec.town, spec.kind)) {
    throw new GtdError("INTERNAL", `${file} exists and runs something else`, "remove it, or rename the town directory");
  }
  writeFileAtomic(file, renderService(spec));
  host.say(`✓ Wrote ${file}`);
  const user = spec.scope === "user";
  if (spec.kind === "systemd") {
    const ctl = ["systemctl", ...(user ? ["--user"] : [])];
    await must(host, [...ctl, "daemon-reload"]);
    await must(host, [...ctl, "enable", "--now", `${serviceName(spec.town)}.service`]);
    if (user && !existsSync(join("/var/lib/systemd/linger", host.user))) {
      host.say(`○ User services stop at logout: run \`loginctl enable-linger ${host.user}\` so gtd starts at boot and keeps running`);
    }
  } else {
    await must(host, ["launchctl", "bootstrap", user ? `gui/${host.uid}` : "system", file]);
  }
  return file;
}

export async function uninstallService(kind: ServiceKind, scope: ServiceScope, town: string, host: ServiceHost): Promise<string> {
  const file = serviceFile(kind, scope, town, host.env);
  const existing = readText(file, { follow: true });
  if (existing === null) throw new GtdError("NOT_FOUND", `no ${kind} service for this town at ${file}`, `installed with --${scope === "user" ? "system" : "user"}?`);
  if (!ownedBy(existing, town, kind)) throw new GtdError("INTERNAL", `${file} runs something else; left alone`, "remove it by hand if it is yours");
  const user = scope === "user";
  if (kind === "systemd") {
    const ctl = ["systemctl", ...(user ? ["--user"] : [])];
    await must(host, [...ctl, "disable", "--now", `${serviceName(town)}.service`]);
    safeUnlink(file);
    host.say(`✓ Removed ${file}`);
    await must(host, [...ctl, "daemon-reload"]);
  } else {
    await must(host, ["launchctl", "bootout", `${user ? `gui/${host.uid}` : "system"}/${launchdLabel(town)}`]);
    safeUnlink(file);
    host.say(`✓ Removed ${file}`);
  }
  return file;
}
