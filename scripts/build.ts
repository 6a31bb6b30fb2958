/**
 * Build dist/gtd: one self-contained executable. `--if-stale` skips the build when dist/gtd is newer
 * than every source file (npm test and npm run demo build on demand).
 * The autoload flags matter: without them a compiled binary reads .env and bunfig.toml from whatever
 * directory it is started in, and a town's .env would change gtd's behaviour.
 * The flags and the `gtd --version` commit stamp come from scripts/release.ts, so dev and release builds
 * agree. `--if-stale` looks at sources only: a commit that changes no source keeps the older stamp.
 */
import { readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { COMPILE_FLAGS, stampFlags } from "./release.ts";

const root = join(import.meta.dir, "..");
const out = join(root, "dist", "gtd");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

if (process.argv.includes("--if-stale")) {
  try {
    const built = statSync(out).mtimeMs;
    const inputs = Math.max(newestSource(join(root, "src")), statSync(join(root, "package.json")).mtimeMs);
    if (built > inputs) process.exit(0);
  } catch {
    // No binary yet (or no lock file): build.
  }
}

// Built beside the target, then renamed over it: a test (or a second build) running dist/gtd meanwhile
// never executes a half-written file.
const tmp = `${out}.${process.pid}.tmp`;
const proc = Bun.spawnSync(
  [process.execPath, "build", "--compile", ...COMPILE_FLAGS, ...stampFlags(), join(root, "src", "main.ts"), "--outfile", tmp],
  { stdout: "inherit", stderr: "inherit", cwd: root },
);
if (proc.exitCode === 0) renameSync(tmp, out);
else rmSync(tmp, { force: true });
process.exit(proc.exitCode ?? 1);
