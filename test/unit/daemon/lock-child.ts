/** A child bun process that holds a lock through the real lock module: another daemon, as far as the lock goes. */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const LOCK_MODULE = resolve(import.meta.dir, "../../../src/daemon/lock.ts");

export interface LockChild {
  proc: ReturnType<typeof Bun.spawn>;
  pid: number;
}

/** Takes the lock at `lockPath`, writes its PID as the owner, prints READY, then waits forever. */
export async function childHoldingLock(scratchDir: string, lockPath: string): Promise<LockChild> {
  const script = join(scratchDir, "hold-lock.ts");
  writeFileSync(
    script,
    `import { tryLock } from ${JSON.stringify(LOCK_MODULE)};
const h = tryLock(process.argv[2]);
if (!h) { console.log("BUSY"); process.exit(3); }
h.writeOwner(String(process.pid));
console.log("READY");
setInterval(() => {}, 1 << 30);
`,
  );
  const proc = Bun.spawn([process.execPath, script, lockPath], { stdout: "pipe", stderr: "pipe" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  if (out.trim() !== "READY") {
    const err = await new Response(proc.stderr as ReadableStream<Uint8Array>).text();
    proc.kill("SIGKILL");
    throw new Error(`child did not take the lock: ${JSON.stringify(out)} ${err}`);
  }
  return { proc, pid: proc.pid };
}
