import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GtdError } from "../../src/errors.ts";
import { findTownRoot, townPaths } from "../../src/town.ts";

let base: string;

beforeEach(() => {
  // realpath: the temp dir itself may sit under a symlink (/tmp → /private/tmp on macOS).
  base = realpathSync(mkdtempSync(join(tmpdir(), "gtd-town-")));
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

function makeTown(dir: string): string {
  mkdirSync(join(dir, "mayor"), { recursive: true });
  writeFileSync(join(dir, "mayor", "town.json"), '{"type":"town","version":1,"name":"t"}');
  return dir;
}

function thrown(fn: () => unknown): GtdError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GtdError);
    return err as GtdError;
  }
  throw new Error("expected a GtdError, nothing was thrown");
}

describe("precedence", () => {
  test("--town wins over GT_TOWN_ROOT, which wins over discovery", () => {
    const a = makeTown(join(base, "a"));
    const b = makeTown(join(base, "b"));
    const c = makeTown(join(base, "c"));
    const cwd = join(c, "rig");
    mkdirSync(cwd);
    expect(findTownRoot({ town: a, env: b, cwd })).toBe(a);
    expect(findTownRoot({ env: b, cwd })).toBe(b);
    expect(findTownRoot({ cwd })).toBe(c);
  });

  test("an empty GT_TOWN_ROOT counts as unset", () => {
    const t = makeTown(join(base, "t"));
    expect(findTownRoot({ env: "", cwd: t })).toBe(t);
  });

  test("a relative --town is resolved against cwd and symlinks resolved", () => {
    const t = makeTown(join(base, "t"));
    symlinkSync(t, join(base, "link"));
    expect(findTownRoot({ town: "link", cwd: base })).toBe(t);
    expect(findTownRoot({ town: "./t/mayor/..", cwd: base })).toBe(t);
  });

  test("--town naming a missing directory is a clear error", () => {
    const missing = join(base, "nope");
    const err = thrown(() => findTownRoot({ town: missing, cwd: base }));
    expect(err.code).toBe("NOT_IN_TOWN");
    expect(err.message).toBe(`town directory not found: ${missing}`);
    expect(err.hint).toContain("--town");
    expect(err.exitCode).toBe(1);
  });

  test("GT_TOWN_ROOT naming a missing directory names the variable", () => {
    const missing = join(base, "nope");
    const err = thrown(() => findTownRoot({ env: missing, cwd: base }));
    expect(err.message).toBe(`town directory not found: ${missing}`);
    expect(err.hint).toContain("GT_TOWN_ROOT");
  });

  test("--town naming a file is refused", () => {
    writeFileSync(join(base, "file"), "");
    expect(thrown(() => findTownRoot({ town: join(base, "file"), cwd: base })).code).toBe("NOT_IN_TOWN");
  });
});

describe("discovery", () => {
  test("walks up from <town>/rigA/crew/joe to <town>", () => {
    const town = makeTown(join(base, "town"));
    const joe = join(town, "rigA", "crew", "joe");
    mkdirSync(joe, { recursive: true });
    expect(findTownRoot({ cwd: joe })).toBe(town);
    expect(findTownRoot({ cwd: town })).toBe(town);
    expect(findTownRoot({ cwd: join(town, "mayor") })).toBe(town);
  });

  test("a mayor/town.json higher up beats a deeper bare mayor/ directory", () => {
    const town = makeTown(join(base, "town"));
    const rig = join(town, "rigA");
    mkdirSync(join(rig, "mayor"), { recursive: true });
    const deep = join(rig, "crew", "joe");
    mkdirSync(deep, { recursive: true });
    expect(findTownRoot({ cwd: deep })).toBe(town);
  });

  test("with no town.json anywhere, the deepest mayor/ directory wins", () => {
    mkdirSync(join(base, "outer", "mayor"), { recursive: true });
    mkdirSync(join(base, "outer", "inner", "mayor"), { recursive: true });
    const cwd = join(base, "outer", "inner", "work");
    mkdirSync(cwd, { recursive: true });
    expect(findTownRoot({ cwd })).toBe(join(base, "outer", "inner"));
  });

  test("a file named mayor is not a mayor/ directory", () => {
    const town = makeTown(join(base, "town"));
    const sub = join(town, "sub");
    mkdirSync(sub);
    writeFileSync(join(sub, "mayor"), "");
    expect(findTownRoot({ cwd: sub })).toBe(town);
  });

  test("a symlinked cwd is resolved to the real town", () => {
    const town = makeTown(join(base, "real", "town"));
    const joe = join(town, "rigA", "crew", "joe");
    mkdirSync(joe, { recursive: true });
    // The link lives outside the town: walking up the link's own path would find nothing.
    symlinkSync(joe, join(base, "joe-link"));
    expect(findTownRoot({ cwd: join(base, "joe-link") })).toBe(town);
  });

  test("no town anywhere → NOT_IN_TOWN with the exact message and hint", () => {
    const cwd = join(base, "nowhere", "deep");
    mkdirSync(cwd, { recursive: true });
    const err = thrown(() => findTownRoot({ cwd }));
    expect(err.code).toBe("NOT_IN_TOWN");
    expect(err.message).toBe("not in a Gas Town workspace");
    expect(err.hint).toBe(`looked for mayor/town.json above ${cwd}; pass --town or set GT_TOWN_ROOT`);
    expect(err.oneLine()).toBe(
      `gtd: not in a Gas Town workspace (looked for mayor/town.json above ${cwd}; pass --town or set GT_TOWN_ROOT)`,
    );
    expect(err.exitCode).toBe(1);
  });

  test("the hint names the resolved cwd when cwd is a symlink", () => {
    const real = join(base, "real");
    mkdirSync(real);
    symlinkSync(real, join(base, "alias"));
    const err = thrown(() => findTownRoot({ cwd: join(base, "alias") }));
    expect(err.hint).toBe(`looked for mayor/town.json above ${real}; pass --town or set GT_TOWN_ROOT`);
  });
});

describe("townPaths", () => {
  test("every path under the town, as the original lays them out", () => {
    expect(townPaths("/srv/town")).toEqual({
      root: "/srv/town",
      daemonDir: "/srv/town/daemon",
      pidFile: "/srv/town/daemon/daemon.pid",
      lockFile: "/srv/town/daemon/daemon.lock",
      stateFile: "/srv/town/daemon/state.json",
      logFile: "/srv/town/daemon/daemon.log",
      configFile: "/srv/town/daemon/config.json",
      notificationsDir: "/srv/town/daemon/notifications",
      deaconHeartbeat: "/srv/town/deacon/heartbeat.json",
      mayorDir: "/srv/town/mayor",
      rigsFile: "/srv/town/mayor/rigs.json",
      townKeepalive: "/srv/town/.gastown/keepalive.json",
    });
  });
});
