import { defineCommand } from "citty";
import { rmSync } from "node:fs";
import { runDaemon } from "../daemon/run.ts";
import { createDemoTown } from "../demo/town.ts";
import { runCommand } from "../proc.ts";
import { townPaths } from "../town.ts";
import { out } from "./args.ts";

export default defineCommand({
  meta: { name: "demo", description: "Run gtd on a throwaway demo town with a demo agent (no Claude or bd needed); Ctrl-C ends it" },
  args: {
    heartbeat: { type: "string", valueHint: "SPEC", default: "5s", description: "Heartbeat for the demo (default 5s)" },
    keep: { type: "boolean", description: "Keep the demo town directory afterwards" },
  },
  async run({ args }) {
    const town = createDemoTown(args.heartbeat);
    // A private tmux server: the demo never touches the user's own sessions.
    process.env.TMUX_TMPDIR = town.tmuxDir;
    delete process.env.TMUX;
    delete process.env.TMUX_PANE;
    for (const k of Object.keys(process.env)) if (k.startsWith("GTD_")) delete process.env[k];
    const tmux = (...a: string[]) => runCommand(["tmux", ...a], { timeoutMs: 5000 });
    await tmux("start-server", ";", "set-option", "-g", "exit-empty", "off");
    out(`Demo town: ${town.root}`);
    out(`Watch the Deacon: TMUX_TMPDIR=${town.tmuxDir} tmux attach -t gt-deacon   (detach: Ctrl-b d)`);
    out("The daemon runs below; Ctrl-C stops it and removes the demo town.");
    out("");
    try {
      return await runDaemon({ paths: townPaths(town.root), flags: {}, mirror: true, passGraceMs: 2000 });
    } finally {
      await tmux("kill-server");
      if (!args.keep) rmSync(town.root, { recursive: true, force: true });
      out(args.keep ? `Demo finished; town kept at ${town.root}` : "Demo finished; demo town removed.");
    }
  },
});
