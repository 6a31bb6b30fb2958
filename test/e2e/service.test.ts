/**
 * `gtd service` through dist/gtd: print gives a unit systemd itself accepts; install writes it and asks
 * systemctl (a fake on PATH that records its argv) to reload and enable it, uninstall reverses that, and
 * neither touches a unit that runs something else.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDaemon } from "../helpers/e2e-town.ts";
import { GTD, useGtdWorld } from "../helpers/gtd-cli.ts";

const T = 30_000;
const w = useGtdWorld();

/** A fake systemctl first on PATH that appends its argv (one line per call) to a file. */
function fakeSystemctl(): { env: Record<string, string>; calls: () => string[]; unitDir: string } {
  const root = w().tmux.root;
  const bin = join(root, "svc-bin");
  mkdirSync(bin, { recursive: true });
  const log = join(root, "systemctl.log");
  writeFileSync(join(bin, "systemctl"), `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >> '${log}'\n`, { mode: 0o755 });
  const config = join(root, "xdg-config");
  return {
    env: { PATH: `${bin}:${w().env.PATH}`, XDG_CONFIG_HOME: config },
    calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []),
    unitDir: join(config, "systemd", "user"),
  };
}

test("print: a Type=notify unit running this binary for this town, which systemd-analyze verify accepts", async () => {
  const r = await w().run(["service", "print", "--user"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`\nExecStart=${GTD} start --foreground --town ${w().town}\n`);
  expect(r.stdout).toContain("\nType=notify\n");
  expect(r.stdout).toMatch(/\nWatchdogSec=\d+\n/);
  const analyze = Bun.which("systemd-analyze");
  // Debian's systemd is on this machine kind; where it is not, the unit's shape above is what is checked.
  if (analyze) {
    const file = join(w().tmux.root, "gtd-check.service");
    writeFileSync(file, r.stdout);
    const v = Bun.spawnSync([analyze, "verify", file], { stderr: "pipe" });
    expect(v.stderr.toString()).toBe("");
    expect(v.exitCode).toBe(0);
  }
}, T);

test("install --user writes the unit, reloads and enables it; uninstall disables and removes it", async () => {
  const sc = fakeSystemctl();
  const name = `gtd-${w().town.split("/").pop()}.service`;
  const unit = join(sc.unitDir, name);
  const inst = await w().run(["service", "install", "--user"], { extraEnv: sc.env });
  expect(inst.stderr).toBe("");
  expect(inst.code).toBe(0);
  expect(readFileSync(unit, "utf8")).toContain(`--town ${w().town}`);
  expect(sc.calls()).toEqual(["--user daemon-reload", `--user enable --now ${name}`]);
  expect(inst.stdout.split("\n")).toEqual(expect.arrayContaining([`✓ Wrote ${unit}`, "✓ systemctl --user daemon-reload", `✓ systemctl --user enable --now ${name}`]));

  const again = await w().run(["service", "install", "--user"], { extraEnv: sc.env });
  expect(again.code).toBe(0); // our own unit: rewritten in place

  const un = await w().run(["service", "uninstall", "--user"], { extraEnv: sc.env });
  expect(un.stderr).toBe("");
  expect(un.code).toBe(0);
  expect(existsSync(unit)).toBe(false);
  expect(sc.calls().slice(-2)).toEqual([`--user disable --now ${name}`, "--user daemon-reload"]);
}, T);

test("a unit of the same name that runs something else is neither replaced nor removed", async () => {
  const sc = fakeSystemctl();
  const unit = join(sc.unitDir, `gtd-${w().town.split("/").pop()}.service`);
  mkdirSync(sc.unitDir, { recursive: true });
  writeFileSync(unit, "[Service]\nExecStart=/usr/bin/something-else\n");
  const inst = await w().run(["service", "install", "--user"], { extraEnv: sc.env });
  expect(inst.code).toBe(1);
  expect(inst.stderr).toBe(`gtd: ${unit} exists and runs something else (remove it, or rename the town directory)\n`);
  const un = await w().run(["service", "uninstall", "--user"], { extraEnv: sc.env });
  expect(un.code).toBe(1);
  expect(readFileSync(unit, "utf8")).toBe("[Service]\nExecStart=/usr/bin/something-else\n");
  expect(sc.calls()).toEqual([]);
}, T);

test("install refuses while a daemon started by hand runs (the service would fight it for the lock)", async () => {
  const sc = fakeSystemctl();
  const pid = await startDaemon(w());
  const inst = await w().run(["service", "install", "--user"], { extraEnv: sc.env });
  expect(inst.code).toBe(1);
  expect(inst.stderr).toContain(`a daemon is already running for this town (PID ${pid})`);
  expect(sc.calls()).toEqual([]);
}, T);

test("usage: an unknown action or both scopes is exit 2", async () => {
  expect((await w().run(["service", "start"])).code).toBe(2);
  expect((await w().run(["service", "print", "--user", "--system"])).code).toBe(2);
}, T);
