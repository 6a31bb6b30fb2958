/**
 * The layering rule holds: .dependency-cruiser.cjs finds no violation in src/, no folder cycle runs
 * through a top-level file, and nothing under src/core/ reaches for the process, the clock, the
 * filesystem or a subprocess. By hand: `npx depcruise src`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const CONFIG = join(ROOT, ".dependency-cruiser.cjs");
const CORE = join(ROOT, "src", "core");
/** A cruise of src/ takes ~2 s alone; a loaded 2-core machine can take many times that. */
const CRUISE_TIMEOUT_MS = 60_000;

interface Violation {
  type: string;
  from: string;
  to: string;
  rule: { name: string };
  cycle?: { name: string }[];
}
interface CruiseResult {
  modules: { source: string; dependencies: { resolved: string }[] }[];
  summary: { violations: Violation[] };
}

/** Runs the repo's depcruise on `dir`/src with the repo's config; its JSON report. */
function cruise(dir: string): CruiseResult {
  const bin = join(ROOT, "node_modules", ".bin", "depcruise");
  const run = Bun.spawnSync([bin, "--config", CONFIG, "--output-type", "json", "src"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`depcruise failed (exit ${run.exitCode}): ${run.stderr.toString().slice(0, 2000)}`);
  return JSON.parse(run.stdout.toString()) as CruiseResult;
}

function describeViolation(v: Violation): string {
  const loop = v.cycle ? ` (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(" → ")})` : "";
  return `${v.rule.name}: ${v.from} → ${v.to}${loop}`;
}

/**
 * dependency-cruiser's folder view folds top-level files into "src", so it cannot see a loop such as
 * daemon → metrics.ts → tick → daemon. Here each src/<folder>/ is one node and each top-level file its
 * own; the answer is one shortest loop through each top-level file that sits on a cycle.
 */
function cyclesThroughTopLevelFiles(modules: CruiseResult["modules"]): string[] {
  const node = (path: string): string | null => {
    const m = /^src\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) return null;
    return m[2] ? `${m[1]}/` : m[1]!;
  };
  const edges = new Map<string, Set<string>>();
  for (const mod of modules) {
    const from = node(mod.source);
    if (!from) continue;
    const out = edges.get(from) ?? new Set<string>();
    edges.set(from, out);
    for (const dep of mod.dependencies) {
      const to = node(dep.resolved);
      if (to && to !== from) out.add(to);
    }
  }
  const loops: string[] = [];
  for (const start of [...edges.keys()].filter((n) => !n.endsWith("/")).sort()) {
    // Breadth-first from the file's imports back to the file: the shortest loop, if any.
    const parent = new Map<string, string>();
    const queue = [...(edges.get(start) ?? [])];
    for (const n of queue) parent.set(n, start);
    while (queue.length > 0 && !parent.has(`${start}#back`)) {
      const at = queue.shift()!;
      for (const next of edges.get(at) ?? []) {
        if (next === start) parent.set(`${start}#back`, at);
        else if (!parent.has(next)) {
          parent.set(next, at);
          queue.push(next);
        }
      }
    }
    if (!parent.has(`${start}#back`)) continue;
    const path = [start];
    for (let at = parent.get(`${start}#back`)!; at !== start; at = parent.get(at)!) path.unshift(at);
    loops.push([start, ...path].join(" → "));
  }
  return loops;
}

/** Comments removed, strings kept (a string is code that runs; `//` inside one is not a comment). */
function stripComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 1;
      out += " ";
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else out += c;
  }
  return out;
}

/** What the core must not touch: the process, the clock, timers, Bun's runtime, the filesystem, subprocesses. */
const IMPURE: readonly [string, RegExp][] = [
  ["process.", /\bprocess\./],
  ["Date.now(", /\bDate\.now\(/],
  ["new Date(", /\bnew Date\(/],
  ["Bun.", /\bBun\./],
  ["node:fs", /\bnode:fs\b/],
  ["node:child_process", /\bnode:child_process\b/],
  ["setTimeout", /\bsetTimeout\b/],
  ["setInterval", /\bsetInterval\b/],
];

function impurities(source: string): string[] {
  const code = stripComments(source);
  return IMPURE.filter(([, re]) => re.test(code)).map(([name]) => name);
}

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f))
    .sort();
}

describe("layering", () => {
  let srcResult: CruiseResult | undefined;
  const cruiseSrc = () => (srcResult ??= cruise(ROOT));

  test(
    "src/ keeps the dependency-cruiser rules (.dependency-cruiser.cjs)",
    () => {
      expect(cruiseSrc().modules.length).toBeGreaterThan(0);
      expect(cruiseSrc().summary.violations.map(describeViolation)).toEqual([]);
    },
    CRUISE_TIMEOUT_MS,
  );

  test(
    "no folder cycle runs through a top-level file of src/",
    () => expect(cyclesThroughTopLevelFiles(cruiseSrc().modules)).toEqual([]),
    CRUISE_TIMEOUT_MS,
  );

  test("no file under src/core/ reads the process, the clock, the filesystem or starts a process", () => {
    // src/core/ exists from the first core commit on: its absence would make this check vacuous.
    expect(existsSync(CORE)).toBe(true);
    const files = tsFilesUnder(CORE);
    expect(files.length).toBeGreaterThan(0);
    const found = files.flatMap((f) => impurities(readFileSync(f, "utf8")).map((what) => `${f.slice(ROOT.length + 1)}: ${what}`));
    expect(found).toEqual([]);
  });

  test("only src/proc.ts calls Bun.spawn (dependency-cruiser sees imports, not this global)", () => {
    const spawning = tsFilesUnder(join(ROOT, "src")).filter((f) => /\bBun\.spawn(Sync)?\(/.test(stripComments(readFileSync(f, "utf8"))));
    expect(spawning.map((f) => f.slice(ROOT.length + 1))).toEqual(["src/proc.ts"]);
  });
});

describe("the checks themselves catch what they are for", () => {
  const dir = mkdtempSync(join(tmpdir(), "gtd-layering-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  test(
    "a folder cycle, an impure core import, src importing test/, a spawn outside proc.ts and a loop through a top-level file are reported",
    () => {
      write("tsconfig.json", readFileSync(join(ROOT, "tsconfig.json"), "utf8"));
      write("src/core/a.ts", 'import { readFileSync } from "node:fs";\nimport { b } from "../edge/b.ts";\nexport const a = [readFileSync, b];\n');
      write("src/edge/b.ts", 'import { c } from "../other/c.ts";\nexport const b = c;\n');
      write("src/other/c.ts", 'import { b } from "../edge/b.ts";\nimport { h } from "../../test/h.ts";\nexport const c = () => [b, h];\n');
      write("src/top.ts", 'import { d } from "./loop/d.ts";\nexport const top = d;\n');
      write("src/loop/d.ts", 'import { top } from "../top.ts";\nexport const d = () => top;\n');
      write("test/h.ts", "export const h = 1;\n");
      write("src/edge/s.ts", 'import { spawn } from "node:child_process";\nexport const s = spawn;\n');
      const result = cruise(dir);
      const seen = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
      expect(seen).toContain("core-is-pure: src/core/a.ts → fs");
      expect(seen).toContain("core-is-pure: src/core/a.ts → src/edge/b.ts");
      expect(seen).toContain("no-folder-cycles: src/edge → src/other");
      expect(seen).toContain("src-not-to-test: src/other/c.ts → test/h.ts");
      expect(seen).toContain("spawn-only-in-proc: src/edge/s.ts → child_process");
      // depcruise names a module cycle once, from whichever end it met first.
      expect(seen.filter((v) => /^no-circular: src\/(top\.ts|loop\/d\.ts) → /.test(v))).toHaveLength(1);
      expect(cyclesThroughTopLevelFiles(result.modules)).toEqual(["top.ts → loop/ → top.ts"]);
    },
    CRUISE_TIMEOUT_MS,
  );

  test("the purity scan ignores comments, not code", () => {
    expect(impurities("// process.exit(1)\n/* Date.now() */\nexport const f = (ms: number) => ms;\n")).toEqual([]);
    expect(impurities('const url = "http://x"; const t = Date.now();')).toEqual(["Date.now("]);
    expect(impurities('import { spawn } from "node:child_process";\nsetTimeout(() => process.exit(0), 1);')).toEqual(["process.", "node:child_process", "setTimeout"]);
    expect(impurities("const subprocess = { kill() {} }; subprocess.kill();")).toEqual([]);
  });
});
