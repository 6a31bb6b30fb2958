/**
 * `npm run release` end to end: scripts/release.ts builds the four artifacts (into a temp dir) from the
 * @oven runtimes it fetches from the npm registry or its cache; each must be the right kind of executable
 * for its OS and CPU, SHA256SUMS must check with the real sha256sum, the host's artifact must print the
 * stamped version, and the darwin ones must carry code signatures whose pages match.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { adhocSigned, signatureProblem } from "../../scripts/macho-sign.ts";
import pkg from "../../package.json" with { type: "json" };

const root = resolve(import.meta.dir, "../..");
const NAMES = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"];
const ELF = { x64: 62, arm64: 183 } as const; // e_machine: EM_X86_64, EM_AARCH64
const MACHO = { x64: 0x01000007, arm64: 0x0100000c } as const; // cputype: CPU_TYPE_X86_64, CPU_TYPE_ARM64
// A cold run downloads four ~40 MB runtimes; this only proves "not hung" (a cached run takes seconds).
const RELEASE_TIMEOUT_MS = 600_000;

let out = "";
let log = "";
let commitsSeen: (string | null)[] = [];

function git(args: string[]): string | null {
  const r = Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}
/** The commit --version should name, read here independently of the script; null outside git. */
function expectedCommit(): string | null {
  const head = git(["rev-parse", "--short=7", "HEAD"]);
  if (!head) return null;
  return git(["status", "--porcelain", "--", "src", "package.json", "package-lock.json"]) ? `${head}-dirty` : head;
}

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "gtd-release-"));
  // Read before and after: in a shared work tree a commit may land meanwhile; the stamp is one of the two.
  commitsSeen = [expectedCommit()];
  const r = Bun.spawnSync([process.execPath, join(root, "scripts", "release.ts"), "--out", out], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    timeout: RELEASE_TIMEOUT_MS,
  });
  log = r.stdout.toString() + r.stderr.toString();
  commitsSeen.push(expectedCommit());
  if (r.exitCode !== 0) throw new Error(`release failed (exit ${r.exitCode}):\n${log}`);
}, RELEASE_TIMEOUT_MS);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("npm run release", () => {
  test("each artifact is an executable for its OS and CPU", () => {
    for (const name of NAMES) {
      const file = join(out, `gtd-${name}`);
      expect(statSync(file).mode & 0o111).toBe(0o111);
      const head = Buffer.alloc(64);
      const fd = openSync(file, "r");
      readSync(fd, head, 0, 64, 0);
      closeSync(fd);
      const [os, arch] = name.split("-") as ["linux" | "darwin", "x64" | "arm64"];
      if (os === "linux") {
        expect([...head.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]); // \x7fELF
        expect(head[4]).toBe(2); // ELFCLASS64
        expect(head[5]).toBe(1); // little-endian
        expect(head.readUInt16LE(16)).toBe(2); // ET_EXEC
        expect(head.readUInt16LE(18)).toBe(ELF[arch]);
      } else {
        expect(head.readUInt32LE(0)).toBe(0xfeedfacf); // MH_MAGIC_64
        expect(head.readUInt32LE(4)).toBe(MACHO[arch]);
        expect(head.readUInt32LE(12)).toBe(2); // MH_EXECUTE
      }
    }
  });

  test("SHA256SUMS lists the four artifacts and sha256sum -c accepts it", () => {
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8");
    const lines = sums.trimEnd().split("\n");
    expect(lines.map((l) => l.replace(/^[0-9a-f]{64} {2}/, ""))).toEqual(NAMES.map((n) => `gtd-${n}`));
    const check = process.platform === "darwin" ? ["shasum", "-a", "256", "-c", "SHA256SUMS"] : ["sha256sum", "-c", "SHA256SUMS"];
    const r = Bun.spawnSync(check, { cwd: out, stdout: "pipe", stderr: "pipe" });
    expect(r.stdout.toString().trim().split("\n")).toEqual(NAMES.map((n) => `gtd-${n}: OK`));
    expect(r.exitCode).toBe(0);
  });

  test("the host's artifact runs and prints the version stamped with the commit", () => {
    const host = `${process.platform}-${process.arch}`;
    expect(NAMES).toContain(host);
    const r = Bun.spawnSync([join(out, `gtd-${host}`), "--version"], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
    expect(r.exitCode).toBe(0);
    const printed = r.stdout.toString();
    const wanted = commitsSeen.map((c) => (c ? `${pkg.version} (${c})\n` : `${pkg.version}\n`));
    expect(wanted).toContain(printed);
    expect(log).toContain(`release: gtd ${printed.trim()}, bun ${Bun.version}`);
    // The other artifacts cannot run here; they carry the same stamp in their bundle, and the entry name
    // Bun embeds is the artifact's own (no temp-file PID in it, so a rebuild gives the same bytes).
    const commit = printed.match(/\((\S+)\)/)?.[1];
    for (const name of NAMES) {
      const bytes = readFileSync(join(out, `gtd-${name}`));
      if (commit) expect(bytes.includes(`(${commit})`)).toBe(true);
      expect(bytes.includes(`/$bunfs/root/gtd-${name}\0`)).toBe(true);
    }
  });

  test("the darwin artifacts carry code signatures that match every page", () => {
    for (const name of ["darwin-x64", "darwin-arm64"]) {
      expect(signatureProblem(readFileSync(join(out, `gtd-${name}`)))).toBeNull();
    }
    // Bun 1.4 leaves darwin-x64's old signature in place, so the release re-signs it (and says so).
    expect(log).toMatch(/darwin-x64: code signature was invalid \(.+\): re-signed ad hoc/);
  });

  test("the ad-hoc signer writes the very bytes Bun writes for darwin-arm64, and the check sees one changed byte", () => {
    const bunSigned = readFileSync(join(out, "gtd-darwin-arm64"));
    expect(log).toContain("darwin-arm64: code signature valid"); // so these are Bun's bytes, not ours
    expect(adhocSigned(bunSigned, "a.out").equals(bunSigned)).toBe(true); // "a.out": Bun's identifier
    const tampered = Buffer.from(bunSigned);
    tampered[5_000_000] = tampered[5_000_000]! ^ 0xff;
    expect(signatureProblem(tampered)).toMatch(/^1 of \d+ page hashes do not match$/);
  });
});
