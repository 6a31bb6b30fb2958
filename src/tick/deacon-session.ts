/** Finding the agent command the way the pane's shell will (the Deacon's session is src/core/supervise-set.ts). */
import { accessSync, constants, statSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Where `command` would be found, or null. A name with a `/` is a path (relative to `cwd`, as the pane's
 * shell resolves it) that must be an executable file; a bare name is looked up on `PATH`.
 */
export type Which = (command: string, opts: { PATH: string | undefined; cwd: string }) => string | null;

export const defaultWhich: Which = (command, { PATH, cwd }) => {
  if (command.includes("/")) {
    const path = resolve(cwd, command);
    try {
      if (!statSync(path).isFile()) return null;
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      return null;
    }
  }
  return Bun.which(command, { PATH: PATH ?? "", cwd });
};
