import { describe, expect, test } from "bun:test";
import { launchdLabel, launchdPlist, serviceName, systemdUnit, watchdogSec, type ServiceSpec } from "../../../src/service/units.ts";

const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
  kind: "systemd",
  scope: "user",
  argv: ["/usr/local/bin/gtd"],
  town: "/home/me/gt",
  heartbeatMs: 300_000,
  longestTimeoutMs: 120_000,
  path: "/usr/local/bin:/usr/bin:/bin",
  uid: null,
  ...over,
});

describe("systemd unit", () => {
  test("Type=notify, the foreground start, reload by SIGHUP, restart on failure, a watchdog, agents left alone", () => {
    const unit = systemdUnit(spec());
    const lines = unit.split("\n");
    for (const line of [
      "Type=notify",
      "ExecStart=/usr/local/bin/gtd start --foreground --town /home/me/gt",
      "ExecReload=/bin/kill -HUP $MAINPID",
      "Restart=on-failure",
      "KillMode=process",
      "WatchdogSec=600",
      "WorkingDirectory=/home/me/gt",
      'Environment="PATH=/usr/local/bin:/usr/bin:/bin"',
      "WantedBy=default.target",
    ]) {
      expect(lines).toContain(line);
    }
    expect(unit).not.toContain("User=");
  });

  test("a system unit for a town owned by someone else runs as that user", () => {
    const unit = systemdUnit(spec({ scope: "system", uid: 1000 }));
    expect(unit).toContain("\nUser=1000\n");
    expect(unit).toContain("\nWantedBy=multi-user.target\n");
  });

  test("spaces, quotes, % and $ in paths are quoted so systemd reads them back as written", () => {
    const unit = systemdUnit(spec({ argv: ["/opt/my tools/gtd"], town: '/srv/50% "town" $HOME' }));
    expect(unit).toContain('ExecStart="/opt/my tools/gtd" start --foreground --town "/srv/50%% \\"town\\" $$HOME"');
    expect(unit).toContain('WorkingDirectory=/srv/50%% "town" $HOME');
    expect(unit).toContain('Environment="GT_TOWN_ROOT=/srv/50%% \\"town\\" $HOME"');
  });
});

describe("watchdogSec", () => {
  test("twice the heartbeat or the longest timeout, never under a minute", () => {
    expect(watchdogSec(300_000, 120_000)).toBe(600);
    expect(watchdogSec(1_000, 5_000)).toBe(60);
    expect(watchdogSec(30_000, 30_001)).toBe(61);
    expect(watchdogSec(30_000, 30_000)).toBe(60);
  });
});

describe("names", () => {
  test("one service per town, named after its directory with only safe characters", () => {
    expect(serviceName("/home/me/gt")).toBe("gtd-gt");
    expect(serviceName("/srv/my town!")).toBe("gtd-my-town");
    expect(serviceName("/")).toBe("gtd-town");
    expect(launchdLabel("/Users/me/gt")).toBe("com.gastown.gtd-gt");
  });
});

describe("launchd plist", () => {
  test("runs the foreground start at load, restarts after a crash only, logs to daemon.log, XML-escaped", () => {
    const plist = launchdPlist(spec({ kind: "launchd", town: "/Users/me/a&b" }));
    expect(plist).toContain("<string>com.gastown.gtd-a-b</string>");
    expect(plist).toContain("<string>/usr/local/bin/gtd</string>\n    <string>start</string>\n    <string>--foreground</string>\n    <string>--town</string>\n    <string>/Users/me/a&amp;b</string>");
    expect(plist).toContain("<key>SuccessfulExit</key>\n    <false/>");
    expect(plist).toContain("<string>/Users/me/a&amp;b/daemon/daemon.log</string>");
  });
});
