/** sd_notify against a real Unix datagram socket standing in for systemd (filesystem and abstract). */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNotifier } from "../../../src/daemon/sd-notify.ts";
import { unixAddress } from "../../../src/daemon/unix-datagram.ts";
import { notifySocket, type NotifySocket } from "../../helpers/notify-socket.ts";

let dir: string;
let sock: NotifySocket | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gtd-notify-"));
});
afterEach(() => {
  sock?.stop();
  sock = null;
  rmSync(dir, { recursive: true, force: true });
});

describe("createNotifier", () => {
  test("READY, STATUS, RELOADING, STOPPING and WATCHDOG reach the socket as systemd reads them", async () => {
    sock = await notifySocket(join(dir, "notify"));
    const n = createNotifier({ NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: "30000000", WATCHDOG_PID: "4242" }, 4242);
    expect(n.watchdogMs).toBe(30_000);
    n.ready("Heartbeat #1: Deacon running");
    n.status("line one\nline two");
    n.reloading(123456789n);
    n.watchdog();
    n.stopping();
    await sock.waitFor((m) => m === "STOPPING=1", "STOPPING=1");
    expect(sock.messages()).toEqual([
      "READY=1\nSTATUS=Heartbeat #1: Deacon running",
      "STATUS=line one line two",
      "RELOADING=1\nMONOTONIC_USEC=123456789",
      "WATCHDOG=1",
      "STOPPING=1",
    ]);
    n.close();
  });

  test("an abstract socket (@name) works too", async () => {
    const name = `@gtd-test-${process.pid}-${Date.now()}`;
    sock = await notifySocket(name);
    const n = createNotifier({ NOTIFY_SOCKET: name }, 1);
    n.ready("up");
    await sock.waitFor((m) => m.startsWith("READY=1"), "READY=1");
    n.close();
  });

  test("no NOTIFY_SOCKET, a watchdog meant for another PID, or a socket nobody listens on: quiet no-ops", () => {
    const none = createNotifier({}, 1);
    expect(none.watchdogMs).toBeNull();
    none.ready("x");
    none.watchdog();
    expect(createNotifier({ NOTIFY_SOCKET: join(dir, "x"), WATCHDOG_USEC: "1000000", WATCHDOG_PID: "7" }, 8).watchdogMs).toBeNull();
    const gone = createNotifier({ NOTIFY_SOCKET: join(dir, "nobody-here") }, 1);
    gone.ready("x"); // ECONNREFUSED/ENOENT: no throw
    gone.close();
  });
});

describe("unixAddress", () => {
  test("family AF_UNIX, the path NUL-terminated; abstract names start with a NUL; too long is refused", () => {
    const a = unixAddress("/run/x")!;
    expect([...a.slice(0, 2)]).toEqual([1, 0]);
    expect(Buffer.from(a.slice(2)).toString()).toBe("/run/x\0");
    const b = unixAddress("@abc")!;
    expect([...b.slice(2)]).toEqual([0, 97, 98, 99]);
    expect(unixAddress(`/${"x".repeat(107)}`)).toBeNull();
    expect(unixAddress(`/${"x".repeat(106)}`)).not.toBeNull();
  });
});
