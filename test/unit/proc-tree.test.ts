/** The /proc reader: stat lines, boot time, cmdline, the tree walk, and the port over a /proc laid out in a temp dir. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLK_TCK, createProcessPort, findAgent, parseBootTimeMs, parseCmdline, parseStat, type ProcStat } from "../../src/proc-tree.ts";

/** A real-shaped stat line: pid (comm) state ppid, then fields 5..21 as zeros, starttime (22), then more. */
function statLine(pid: number, comm: string, state: string, ppid: number, starttime: number): string {
  return `${pid} (${comm}) ${state} ${ppid} ${Array(17).fill("0").join(" ")} ${starttime} 12345 678 18446744073709551615 1 1 0 0 0 0\n`;
}

describe("parseStat", () => {
  test("the fields around the name", () => {
    expect(parseStat(statLine(42, "sleep", "S", 7, 9000))).toEqual({ pid: 42, comm: "sleep", state: "S", ppid: 7, starttime: 9000 });
  });

  test("a name with spaces, parentheses and ')' runs to the last ')'", () => {
    for (const comm of ["a b", ") S 1 2", "x) (y", "((", "", "tmux: server"]) {
      expect(parseStat(statLine(5, comm, "Z", 1, 77))).toEqual({ pid: 5, comm, state: "Z", ppid: 1, starttime: 77 });
    }
  });

  test("what is not a stat line is null", () => {
    for (const text of ["", "42", "42 sleep S 1", "(x) S 1 2", "x (a) S 1", "42 (a) S", "42 (a) 1 1 1", statLine(42, "a", "S", -1, 5), "42 (a) S 1 2 3"]) {
      expect(parseStat(text)).toBeNull();
    }
  });
});

test("boot time and cmdline", () => {
  expect(parseBootTimeMs("cpu  1 2 3\nintr 1 2 3\nctxt 9\nbtime 1796000000\nprocesses 5\n")).toBe(1_796_000_000_000);
  expect(parseBootTimeMs("cpu 1\n")).toBeNull();
  expect(parseCmdline("bash\0-c\0echo hi\0")).toEqual(["bash", "-c", "echo hi"]);
  expect(parseCmdline("cut-off\0argu")).toEqual(["cut-off", "argu"]);
  expect(parseCmdline("")).toEqual([]);
});

describe("findAgent", () => {
  const p = (pid: number, ppid: number, comm: string, starttime = pid, state = "S"): ProcStat => ({ pid, ppid, comm, state, starttime });
  const noArgv = () => null;

  test("the pane process itself, a child, a grandchild; never outside the pane's tree", () => {
    const procs = [p(1, 0, "init"), p(10, 1, "bash"), p(11, 10, "bash"), p(12, 11, "claude"), p(20, 1, "claude", 999)];
    expect(findAgent(procs, 10, "claude", noArgv)?.pid).toBe(12);
    expect(findAgent(procs, 10, "bash", noArgv)?.pid).toBe(10);
    expect(findAgent(procs, 11, "claude", noArgv)?.pid).toBe(12);
    expect(findAgent(procs, 12, "bash", noArgv)).toBeNull();
    expect(findAgent(procs, 99, "claude", noArgv)).toBeNull();
  });

  test("nearest the pane first (a same-named child of the agent is not it), then the newest", () => {
    const procs = [p(10, 1, "bash"), p(12, 10, "claude", 500), p(13, 12, "claude", 900), p(14, 10, "claude", 600), p(15, 10, "claude", 600)];
    expect(findAgent(procs, 10, "claude", noArgv)?.pid).toBe(15);
  });

  test("a zombie or dead process is not the agent", () => {
    const procs = [p(10, 1, "bash"), p(12, 10, "claude", 900, "Z"), p(13, 10, "claude", 100, "X"), p(14, 10, "sleep")];
    expect(findAgent(procs, 10, "claude", noArgv)).toBeNull();
    expect(findAgent([...procs, p(15, 14, "claude", 50)], 10, "claude", noArgv)?.pid).toBe(15);
  });

  test("argv[0]'s basename; a script path in argv[1]; a name past comm's 15 bytes", () => {
    const argv: Record<number, string[]> = {
      11: ["/opt/agent/bin/my-agent", "--x"], // renamed process: comm differs
      12: ["bash", "/home/u/bin/claude", "--flag"], // `#!/usr/bin/env bash` script
      13: ["grep", "claude"], // a word, not a script path
      14: ["bash", "-c", "claude"],
    };
    const argvOf = (pid: number) => argv[pid] ?? null;
    const procs = [p(10, 1, "bash"), p(11, 10, "node"), p(12, 10, "bash"), p(13, 10, "grep"), p(14, 10, "bash"), p(15, 10, "a-very-long-age")];
    expect(findAgent(procs, 10, "my-agent", argvOf)?.pid).toBe(11);
    expect(findAgent(procs, 10, "claude", argvOf)?.pid).toBe(12);
    expect(findAgent(procs.filter((x) => x.pid !== 12), 10, "claude", argvOf)).toBeNull();
    expect(findAgent(procs, 10, "a-very-long-agent-name", argvOf)?.pid).toBe(15);
    expect(findAgent(procs, 10, "a-very-long-age", argvOf)?.pid).toBe(15);
    expect(findAgent(procs, 10, "", argvOf)).toBeNull();
  });

  test("pid 0 as parent of init and kthreadd, and a self-parented entry, do not loop", () => {
    const procs = [p(1, 0, "init"), p(2, 0, "kthreadd"), p(7, 7, "odd"), p(8, 7, "claude")];
    expect(findAgent(procs, 1, "kthreadd", noArgv)).toBeNull();
    expect(findAgent(procs, 7, "claude", noArgv)?.pid).toBe(8);
  });
});

describe("createProcessPort over a /proc-shaped directory", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gtd-proc-"));
    writeFileSync(join(root, "stat"), "cpu  1 2 3\nbtime 1796000000\n");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function proc(pid: number, comm: string, ppid: number, starttime: number, argv?: string[], state = "S"): void {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), "stat"), statLine(pid, comm, state, ppid, starttime));
    if (argv) writeFileSync(join(root, String(pid), "cmdline"), `${argv.join("\0")}\0`);
  }

  test("pid and start time (boot time + starttime / CLK_TCK)", () => {
    proc(100, "bash", 1, 500, ["bash", "-c", "loop", "gtd-agent", "claude"]);
    proc(101, "claude", 100, 12_345, ["claude", "--dangerously-skip-permissions"]);
    mkdirSync(join(root, "self"));
    mkdirSync(join(root, "102")); // exited between readdir and read: no stat
    const found = createProcessPort({ root }).agentUnder(100, "/usr/local/bin/claude");
    expect(found).toEqual({ pid: 101, startedAtMs: 1_796_000_000_000 + (12_345 * 1000) / CLK_TCK });
    expect(CLK_TCK).toBe(100);
  });

  test("several panes from one read of the process table, in the order asked", () => {
    proc(100, "bash", 1, 500, ["bash"]);
    proc(101, "claude", 100, 1_000, ["claude"]);
    proc(200, "bash", 1, 600, ["bash"]);
    proc(300, "bash", 1, 700, ["bash"]);
    proc(301, "agent", 300, 2_000, ["agent"]);
    const port = createProcessPort({ root });
    const found = port.agentsUnder([
      { panePid: 300, command: "agent" },
      { panePid: 200, command: "claude" },
      { panePid: 100, command: "claude" },
      { panePid: 0, command: "claude" },
    ]);
    expect(found.map((f) => f?.pid ?? null)).toEqual([301, null, 101, null]);
    // The same answers as one pane at a time.
    expect(found[2]).toEqual(port.agentUnder(100, "claude"));
    expect(port.agentsUnder([])).toEqual([]);
  });

  /** The kernel's children lists: `threads` maps each thread id of `pid` to the children it forked. */
  function children(pid: number, threads: Record<number, number[]>): void {
    for (const [tid, kids] of Object.entries(threads)) {
      mkdirSync(join(root, String(pid), "task", tid), { recursive: true });
      writeFileSync(join(root, String(pid), "task", tid, "children"), kids.map((k) => `${k} `).join(""));
    }
  }

  test("the pane's tree is walked down its children lists, the rest of the table never looked at", () => {
    proc(100, "bash", 1, 500, ["bash"]);
    proc(101, "node", 100, 1_000, ["node"]);
    proc(102, "claude", 101, 1_100, ["claude"]);
    // Forked by a second thread of the node process: on that thread's list, not the leader's.
    children(100, { 100: [101] });
    children(101, { 101: [], 107: [102] });
    children(102, { 102: [] });
    // A newer "claude" that names 100 as its parent but is on no list: only a table scan would see it.
    proc(150, "claude", 100, 9_000, ["claude"]);
    expect(createProcessPort({ root }).agentUnder(100, "claude")?.pid).toBe(102);
  });

  test("no agent in the walked tree, or no children lists at all: the whole table decides", () => {
    proc(100, "bash", 1, 500, ["bash"]);
    children(100, { 100: [] });
    proc(150, "claude", 100, 9_000, ["claude"]); // on no list (say it was forked mid-read)
    proc(200, "bash", 1, 600, ["bash"]); // a kernel without the lists: no task/ entries
    proc(201, "claude", 200, 9_100, ["claude"]);
    const found = createProcessPort({ root }).agentsUnder([
      { panePid: 100, command: "claude" },
      { panePid: 200, command: "claude" },
    ]);
    expect(found.map((f) => f?.pid)).toEqual([150, 201]);
  });

  test("a tree that loops or a child gone mid-walk never hangs or throws", () => {
    proc(100, "bash", 1, 500, ["bash"]);
    proc(101, "claude", 100, 1_000, ["claude"]);
    children(100, { 100: [101, 100] });
    children(101, { 101: [100, 999] }); // 999: listed, then gone
    // The walk is abandoned at 999 (no stat); the table scan finds the agent.
    expect(createProcessPort({ root }).agentUnder(100, "claude")?.pid).toBe(101);
  });

  test("never throws: no boot time, garbage stat, no /proc, a bad pane pid", () => {
    proc(100, "bash", 1, 500);
    writeFileSync(join(root, "100", "stat"), "garbage");
    expect(createProcessPort({ root }).agentUnder(100, "bash")).toBeNull();
    expect(createProcessPort({ root: join(root, "missing") }).agentUnder(100, "bash")).toBeNull();
    for (const pid of [0, -1, 1.5, Number.NaN]) expect(createProcessPort({ root }).agentUnder(pid, "bash")).toBeNull();
    proc(200, "bash", 1, 500);
    writeFileSync(join(root, "stat"), "cpu 1\n");
    expect(createProcessPort({ root }).agentUnder(200, "bash")).toBeNull();
  });
});
