/**
 * Everything the bench runs besides dist/gtd: the trivial compiled Bun binary (the runtime's floor), and,
 * when a Go toolchain and a copy of the original's history are at hand, the original daemon and a
 * trivial Go binary. Built into a cache dir under the system tmpdir, rebuilt when their inputs change.
 *
 * The original is steveyegge/gastown at e5c88ae9d4 (the reference the behaviour notes describe). Its
 * daemon package and the packages it imports use the standard library only, so they build offline with
 * any Go from 1.19 on: git archive those packages, a go.mod with no requirements, bench/original/main.go.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPILE_FLAGS } from "../scripts/release.ts";

export const ORIGINAL_COMMIT = "e5c88ae9d4";
/** The daemon package and everything it imports at that commit (all standard library beyond these). */
const ORIGINAL_PACKAGES = ["daemon", "config", "git", "keepalive", "rig", "tmux", "workspace", "templates"].map((p) => `internal/${p}`);
/** Where a copy of the original's repository is looked for when --original is not given. */
const ORIGINAL_CANDIDATES = [process.env.GTD_BENCH_GASTOWN, "/work/.mirror/steveyegge+gastown/repo", join(import.meta.dir, "..", "..", "gastown")];

const benchDir = import.meta.dir;
export const cacheDir = join(tmpdir(), "gtd-bench-cache");

function run(argv: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): { ok: boolean; out: string } {
  const r = Bun.spawnSync(argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: `${r.stdout.toString()}${r.stderr.toString()}`.trim() };
}

function newerThan(target: string, inputs: string[]): boolean {
  try {
    const t = statSync(target).mtimeMs;
    return inputs.every((i) => statSync(i).mtimeMs < t);
  } catch {
    return false;
  }
}

/** bench/floor.ts compiled with gtd's compile flags. */
export function buildFloor(): string {
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, "floor-bun");
  const src = join(benchDir, "floor.ts");
  if (newerThan(out, [src, process.execPath])) return out;
  const r = run([process.execPath, "build", "--compile", ...COMPILE_FLAGS, src, "--outfile", out]);
  if (!r.ok) throw new Error(`building the Bun floor failed: ${r.out}`);
  return out;
}

/** bench/floor-daemon.ts compiled the same way: the least a Bun daemon spends on a heartbeat. */
export function buildFloorDaemon(): string {
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, "floor-daemon");
  const src = join(benchDir, "floor-daemon.ts");
  if (newerThan(out, [src, process.execPath])) return out;
  const r = run([process.execPath, "build", "--compile", ...COMPILE_FLAGS, src, "--outfile", out]);
  if (!r.ok) throw new Error(`building the floor daemon failed: ${r.out}`);
  return out;
}

export type OriginalBuild =
  | { ok: true; daemon: string; floorGo: string; commit: string; go: string; source: string }
  | { ok: false; why: string };

function findGo(): string | null {
  return Bun.which("go") ?? [1.22, 1.21, 1.2, 1.19].map((v) => `/usr/lib/go-${v}/bin/go`).find((p) => existsSync(p)) ?? null;
}

function findSource(given: string | undefined): string | null {
  for (const dir of given ? [given] : ORIGINAL_CANDIDATES) {
    if (dir && existsSync(dir) && run(["git", "-C", dir, "cat-file", "-e", `${ORIGINAL_COMMIT}^{commit}`]).ok) return dir;
  }
  return null;
}

function goEnv(): Record<string, string | undefined> {
  // Offline: no module may be downloaded (there are none to download), no toolchain switch.
  return { ...process.env, GOFLAGS: "-mod=mod", GOPROXY: "off", GOTOOLCHAIN: "local", GO111MODULE: "on", CGO_ENABLED: "0" };
}

export function buildOriginal(given: string | undefined): OriginalBuild {
  const go = findGo();
  if (!go) return { ok: false, why: "no Go toolchain (apt-get install golang-go, or put go on PATH)" };
  const source = findSource(given);
  if (!source) {
    return { ok: false, why: `no copy of steveyegge/gastown with commit ${ORIGINAL_COMMIT} (give one with --original <clone>)` };
  }
  const version = run([go, "version"], { env: goEnv() }).out;
  const dir = join(cacheDir, `original-${ORIGINAL_COMMIT}`);
  const daemon = join(dir, "orig-daemon");
  const floorGo = join(dir, "floor-go");
  const harness = join(benchDir, "original", "main.go");
  if (newerThan(daemon, [harness, go]) && existsSync(floorGo)) {
    return { ok: true, daemon, floorGo, commit: ORIGINAL_COMMIT, go: version, source };
  }
  rmSync(dir, { recursive: true, force: true });
  const src = join(dir, "src");
  mkdirSync(src, { recursive: true });
  const tar = join(dir, "src.tar");
  const archive = run(["git", "-C", source, "archive", "-o", tar, ORIGINAL_COMMIT, ...ORIGINAL_PACKAGES]);
  if (!archive.ok) return { ok: false, why: `git archive failed: ${archive.out}` };
  const untar = run(["tar", "-xf", tar, "-C", src]);
  if (!untar.ok) return { ok: false, why: `tar failed: ${untar.out}` };
  removeTests(src);
  writeFileSync(join(src, "go.mod"), "module github.com/steveyegge/gastown\n\ngo 1.19\n");
  mkdirSync(join(src, "cmd", "orig-daemon"), { recursive: true });
  copyFileSync(harness, join(src, "cmd", "orig-daemon", "main.go"));
  mkdirSync(join(src, "cmd", "floor-go"), { recursive: true });
  writeFileSync(join(src, "cmd", "floor-go", "main.go"), 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("floor\\n") }\n');
  for (const [pkg, out] of [["./cmd/orig-daemon", daemon], ["./cmd/floor-go", floorGo]] as const) {
    const b = run([go, "build", "-o", out, pkg], { cwd: src, env: goEnv() });
    if (!b.ok) return { ok: false, why: `go build ${pkg} failed with ${version}: ${b.out.split("\n").slice(0, 5).join(" | ")}` };
  }
  return { ok: true, daemon, floorGo, commit: ORIGINAL_COMMIT, go: version, source };
}

function removeTests(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) removeTests(p);
    else if (e.name.endsWith("_test.go")) unlinkSync(p);
  }
}
