/** src/output.ts in a process of its own: what a command's output does when its reader leaves or is a pipe. */
import { expect, test } from "bun:test";
import { join } from "node:path";

const OUTPUT = join(import.meta.dir, "..", "..", "src", "output.ts");

/** Runs `body` (TypeScript, with writeOut/writeErr/stdoutIsTerminal in scope) under bun, stdout a pipe. */
function spawnWith(body: string) {
  const script = `import { writeErr, writeOut, stdoutIsTerminal } from ${JSON.stringify(OUTPUT)};\n${body}`;
  return Bun.spawn([process.execPath, "-e", script], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
}

test("a reader that leaves ends the output quietly: no error, the rest of the program runs, exit 0", async () => {
  // 64 MiB to stdout: far past a pipe's buffer, so the writes are still going when the reader leaves.
  const p = spawnWith(`for (let i = 0; i < 1024; i++) writeOut("x".repeat(65536));\nwriteErr("after\\n");`);
  const reader = p.stdout.getReader();
  const first = await reader.read();
  expect(first.done).toBe(false);
  await reader.cancel();
  expect(await p.exited).toBe(0);
  expect(await new Response(p.stderr).text()).toBe("after\n");
});

test("writes arrive whole and in order, stdout and stderr apart; a pipe is not a terminal", async () => {
  const p = spawnWith(`writeOut("a"); writeOut(""); writeOut("b\\n"); writeErr("e\\n"); writeOut(String(await stdoutIsTerminal()) + "\\n");`);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  expect(await p.exited).toBe(0);
  expect(out).toBe("ab\nfalse\n");
  expect(err).toBe("e\n");
});
