/**
 * npm run release: gtd for linux-x64, linux-arm64, darwin-x64 and darwin-arm64 in dist/release/, plus
 * SHA256SUMS, each stamped `gtd --version` = `<version> (<commit>)`.
 *
 *   npx bun scripts/release.ts [--out DIR]
 *
 * Each target's Bun runtime is the npm package @oven/bun-<os>-<arch> at exactly the version of the `bun`
 * devDependency, handed to `bun build --compile --compile-executable-path`, so Bun never downloads a
 * runtime itself. npm ci skips those packages on other platforms (they declare os/cpu), so they are fetched
 * here with `npm pack` (which ignores os/cpu), checked against the integrity package-lock.json pins,
 * unpacked with tar and cached in node_modules/.cache/gtd-release/. A fresh machine needs Node, npm and
 * `npm ci`; nothing else.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import * as v from "valibot";
import { ensureAdhocSignature } from "./macho-sign.ts";

const root = join(import.meta.dir, "..");

/**
 * The flags every gtd binary is built with (scripts/build.ts uses them too, so dev and release agree).
 * - Without the autoload ones a compiled binary reads .env and bunfig.toml from the directory it starts in.
 * - `--bytecode` (which needs `--format=esm`: main.ts awaits at top level) spares each start parsing the
 *   bundle: `gtd status` 61.9 → 15.8 ms of CPU.
 * - `--splitting` puts each command's code in its own chunk inside the binary, loaded when the command
 *   runs: a start loads only main's chunk, not the whole bundle (`--version` 11.5 → 8.2 ms of CPU,
 *   `signal` 14.8 → 12.8 ms, side by side; BENCHMARKS.md).
 */
export const COMPILE_FLAGS = ["--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "--minify-syntax", "--bytecode", "--format=esm", "--splitting"];

/** Release name → Bun's --target and the npm package holding that target's runtime. */
export const TARGETS = [
  { name: "linux-x64", target: "bun-linux-x64", pkg: "@oven/bun-linux-x64" },
  { name: "linux-arm64", target: "bun-linux-arm64", pkg: "@oven/bun-linux-aarch64" },
  { name: "darwin-x64", target: "bun-darwin-x64", pkg: "@oven/bun-darwin-x64" },
  { name: "darwin-arm64", target: "bun-darwin-arm64", pkg: "@oven/bun-darwin-aarch64" },
] as const;

function git(args: string[]): string | null {
  const r = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

/**
 * The commit gtd is built from, `-dirty` when what goes into the binary (src/, package.json, the lock)
 * differs from it; null outside a git checkout (e.g. an unpacked tarball), where --version stays plain.
 */
export function buildCommit(): string | null {
  const head = git(["rev-parse", "--short=7", "HEAD"]);
  if (!head) return null;
  const changes = git(["status", "--porcelain", "--", "src", "package.json", "package-lock.json"]);
  return changes ? `${head}-dirty` : head;
}

/** `--define GTD_COMMIT="…"`, which src/main.ts prints after the version; nothing outside git. */
export function stampFlags(commit = buildCommit()): string[] {
  return commit ? ["--define", `GTD_COMMIT=${JSON.stringify(commit)}`] : [];
}

const LockSchema = v.object({
  packages: v.record(v.string(), v.object({ version: v.optional(v.string()), integrity: v.optional(v.string()) })),
});
const PkgSchema = v.object({ version: v.string() });
const PackSchema = v.tuple([v.object({ filename: v.string(), integrity: v.string() })]);

function readJson<S extends v.GenericSchema>(path: string, schema: S): v.InferOutput<S> {
  const parsed = v.safeParse(schema, JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new Error(`${relative(root, path)}: ${parsed.issues[0].message} at ${v.getDotPath(parsed.issues[0]) ?? "top level"}`);
  return parsed.output;
}

/** Each target package's version and integrity from package-lock.json, which must match the bun in use. */
function pinnedRuntimes(): Map<string, { version: string; integrity: string }> {
  const lock = readJson(join(root, "package-lock.json"), LockSchema);
  const bunVersion = lock.packages["node_modules/bun"]?.version;
  if (bunVersion !== Bun.version) {
    throw new Error(`package-lock.json pins bun ${bunVersion ?? "(none)"} but this is bun ${Bun.version} (run npm ci)`);
  }
  const pins = new Map<string, { version: string; integrity: string }>();
  for (const { pkg } of TARGETS) {
    const entry = lock.packages[`node_modules/${pkg}`];
    if (entry?.version !== bunVersion || !entry.integrity?.startsWith("sha512-")) {
      throw new Error(`package-lock.json: node_modules/${pkg} must be version ${bunVersion} with a sha512 integrity (found ${entry?.version ?? "nothing"})`);
    }
    pins.set(pkg, { version: entry.version, integrity: entry.integrity });
  }
  return pins;
}

async function fileHash(path: string, algorithm: "sha256" | "sha512", encoding: "hex" | "base64"): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest(encoding);
}

async function run(argv: string[], cwd: string): Promise<string> {
  const proc = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${argv.slice(0, 2).join(" ")} failed (exit ${code}): ${err.trim().split("\n").slice(-3).join(" | ").slice(0, 500)}`);
  return out;
}

const cacheDir = join(root, "node_modules", ".cache", "gtd-release");

/**
 * The path of `pkg`'s bun binary, fetched into the cache unless a verified copy is there already. The
 * cache entry is renamed into place only once complete, so an interrupted or concurrent run never sees
 * half of one.
 */
async function runtime(pkg: string, pin: { version: string; integrity: string }): Promise<{ bin: string; how: string }> {
  const dir = join(cacheDir, `${pkg.replace("@oven/", "")}-${pin.version}`);
  const bin = join(dir, "package", "bin", "bun");
  const marker = join(dir, "integrity");
  const cached = () => existsSync(bin) && existsSync(marker) && readFileSync(marker, "utf8") === pin.integrity;
  if (cached()) return { bin, how: "cached" };

  mkdirSync(cacheDir, { recursive: true });
  const staging = mkdtempSync(join(cacheDir, "fetch-"));
  try {
    // npm pack fetches the registry tarball regardless of os/cpu and runs no scripts for it.
    const json = await run(["npm", "pack", `${pkg}@${pin.version}`, "--json", "--ignore-scripts", "--pack-destination", staging], staging);
    const parsed = v.safeParse(PackSchema, JSON.parse(json));
    if (!parsed.success) throw new Error(`npm pack ${pkg}: unexpected --json output`);
    const tgz = join(staging, parsed.output[0].filename);
    const integrity = `sha512-${await fileHash(tgz, "sha512", "base64")}`;
    if (integrity !== pin.integrity) throw new Error(`${pkg}@${pin.version}: tarball integrity ${integrity} is not the ${pin.integrity} package-lock.json pins`);
    await run(["tar", "-xzf", tgz, "-C", staging, "package/bin/bun"], staging);
    rmSync(tgz);
    writeFileSync(join(staging, "integrity"), pin.integrity);
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(staging, dir);
    } catch (err) {
      if (!cached()) throw err; // Another run put a verified copy there first: use it.
    }
    return { bin, how: `fetched from the npm registry, integrity ${pin.integrity.slice(0, 19)}… matches package-lock.json` };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function compile(target: (typeof TARGETS)[number], exe: string, outDir: string, stamp: string[]): Promise<string> {
  const out = join(outDir, `gtd-${target.name}`);
  // Built in a private directory under its final name, then renamed into place: a half-written artifact
  // is never in outDir, and the name Bun embeds (/$bunfs/root/<name>) carries no PID, so the same commit
  // gives the same bytes.
  const tmpDir = mkdtempSync(join(outDir, ".build-"));
  try {
    const tmp = join(tmpDir, `gtd-${target.name}`);
    await run([process.execPath, "build", "--compile", ...COMPILE_FLAGS, ...stamp, `--target=${target.target}`, `--compile-executable-path=${exe}`, join(root, "src", "main.ts"), "--outfile", tmp], root);
    renameSync(tmp, out);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  return out;
}

async function main(): Promise<void> {
  const startedMs = performance.now();
  const outArg = process.argv.indexOf("--out");
  const outDir = outArg > 0 && process.argv[outArg + 1] ? process.argv[outArg + 1]! : join(root, "dist", "release");
  mkdirSync(outDir, { recursive: true });

  const version = readJson(join(root, "package.json"), PkgSchema).version;
  const commit = buildCommit();
  console.log(`release: gtd ${version}${commit ? ` (${commit})` : " (not a git checkout: no commit stamp)"}, bun ${Bun.version}, into ${outDir}`);

  // Fetches run together (network-bound); compiles one after another (each uses the CPU fully).
  const pins = pinnedRuntimes();
  const runtimes = await Promise.all(TARGETS.map((t) => runtime(t.pkg, pins.get(t.pkg)!)));
  const sums: string[] = [];
  for (const [i, target] of TARGETS.entries()) {
    const { bin, how } = runtimes[i]!;
    console.log(`release: ${target.name}: runtime ${target.pkg}@${pins.get(target.pkg)!.version} ${how}`);
    const out = await compile(target, bin, outDir, stampFlags(commit));
    if (target.name.startsWith("darwin")) {
      // macOS may kill a binary whose pages do not match its code signature (see macho-sign.ts).
      const problem = ensureAdhocSignature(out, "gtd");
      console.log(`release: ${target.name}: code signature ${problem ? `was invalid (${problem}): re-signed ad hoc` : "valid"}`);
    }
    const sum = await fileHash(out, "sha256", "hex");
    sums.push(`${sum}  gtd-${target.name}\n`);
    console.log(`release: ${target.name}: ${relative(process.cwd(), out) || out} ${mb(statSync(out).size)} sha256 ${sum.slice(0, 16)}…`);
  }
  const sumsPath = join(outDir, "SHA256SUMS");
  writeFileSync(`${sumsPath}.tmp`, sums.join(""));
  renameSync(`${sumsPath}.tmp`, sumsPath);
  console.log(`release: wrote ${relative(process.cwd(), sumsPath)} in ${((performance.now() - startedMs) / 1000).toFixed(1)} s (check with: cd ${relative(process.cwd(), outDir) || "."} && sha256sum -c SHA256SUMS)`);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(`release: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
