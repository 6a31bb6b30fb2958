/**
 * Send one datagram to a Unix socket (systemd's NOTIFY_SOCKET). Node and Bun have no AF_UNIX datagram
 * sockets, so this is socket(2) and sendto(2) through bun:ffi, as flock is in libc.ts. Linux only: a
 * NOTIFY_SOCKET exists only under systemd.
 */
import { libcCandidates } from "./libc.ts";

type Net = {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: number): number;
  close(fd: number): number;
};

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
/** No SIGPIPE if the peer is gone: the daemon must never die of a missing systemd. */
const MSG_NOSIGNAL = 0x4000;
/** sizeof(sun_path) on Linux. */
const SUN_PATH_BYTES = 108;

let net: Net | null = null;

function getNet(): Net {
  if (net) return net;
  const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
  let lastErr: unknown;
  for (const name of libcCandidates()) {
    try {
      const lib = dlopen(name, {
        socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
        sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
        close: { args: [FFIType.i32], returns: FFIType.i32 },
      });
      const s = lib.symbols;
      net = {
        socket: (d, t, p) => s.socket(d, t, p) as number,
        sendto: (fd, buf, len, flags, addr, addrLen) => Number(s.sendto(fd, buf, len, flags, addr, addrLen)),
        close: (fd) => s.close(fd) as number,
      };
      return net;
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}

/** sockaddr_un for a path, or for the abstract namespace when it starts with `@`; null when too long. */
export function unixAddress(path: string): Uint8Array | null {
  const abstract = path.startsWith("@");
  const name = Buffer.from(abstract ? `\0${path.slice(1)}` : path);
  // A filesystem path needs its terminating NUL inside sun_path; an abstract name is counted exactly.
  if (name.length + (abstract ? 0 : 1) > SUN_PATH_BYTES || name.length === 0) return null;
  const addr = new Uint8Array(2 + name.length + (abstract ? 0 : 1));
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, 2);
  return addr;
}

export interface DatagramSender {
  send(text: string): boolean;
  close(): void;
}

/** A sender bound to one socket path; null when the path is unusable or no socket can be made. */
export function datagramSender(path: string): DatagramSender | null {
  const addr = unixAddress(path);
  if (!addr) return null;
  let fd: number;
  try {
    fd = getNet().socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  } catch {
    return null;
  }
  if (fd < 0) return null;
  return {
    send(text) {
      if (fd < 0) return false;
      const buf = Buffer.from(text);
      return getNet().sendto(fd, buf, buf.length, MSG_NOSIGNAL, addr, addr.length) === buf.length;
    },
    close() {
      if (fd >= 0) getNet().close(fd);
      fd = -1;
    },
  };
}
