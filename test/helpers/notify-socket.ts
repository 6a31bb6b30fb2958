/**
 * A stand-in for systemd's notify socket: a real AF_UNIX datagram socket, bound by a small python3
 * process that prints each datagram it receives as one JSON line. Python, because neither Node nor Bun
 * can bind a Unix datagram socket.
 */
import type { Subprocess } from "bun";
import { existsSync } from "node:fs";
import { waitFor } from "./wait.ts";

const RECEIVER = `
import json, os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path if not path.startswith("@") else "\\0" + path[1:])
print(json.dumps("BOUND"), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode("utf-8", "replace")), flush=True)
`;

export interface NotifySocket {
  path: string;
  /** Every datagram received so far, in order. */
  messages(): string[];
  waitFor(match: (m: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  stop(): void;
}

export async function notifySocket(path: string): Promise<NotifySocket> {
  const proc: Subprocess<"ignore", "pipe", "inherit"> = Bun.spawn(["python3", "-c", RECEIVER, path], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const lines: string[] = [];
  void (async () => {
    let buf = "";
    const dec = new TextDecoder();
    for await (const chunk of proc.stdout) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)) as string);
        buf = buf.slice(nl + 1);
      }
    }
  })();
  await waitFor(() => lines[0] === "BOUND" && (path.startsWith("@") || existsSync(path)), { what: `notify socket ${path} bound` });
  const messages = () => lines.slice(1);
  return {
    path,
    messages,
    waitFor: (match, what, timeoutMs = 10_000) =>
      waitFor(() => messages().find(match), { timeoutMs, what: `${what} (got: ${JSON.stringify(messages().slice(-5))})` }),
    stop: () => proc.kill("SIGKILL"),
  };
}
