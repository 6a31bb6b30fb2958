import { defineCommand } from "citty";
import { rmSync } from "node:fs";
import { resolveAgent, sessionOptions, type AgentSpec } from "../core/identity.ts";
import { TIMER_RANGE } from "../config/settings.ts";
import { runDaemon } from "../daemon/run.ts";
import { runShow } from "../demo/show.ts";
import { createDemoTown } from "../demo/town.ts";
import { parseDuration } from "../duration.ts";
import { installEarlySignals } from "../early-signals.ts";
import { GtdError } from "../errors.ts";
import { runCommand } from "../proc.ts";
import { quote } from "../quote.ts";
import { createTmux } from "../tmux.ts";
import { townPaths } from "../town.ts";
import { out } from "./args.ts";

export default defineCommand({
  meta: { name: "demo", description: "Run gtd on a throwaway demo town with a demo Deacon and mayor (no Claude or bd needed); Ctrl-C ends it" },
  args: {
    heartbeat: { type: "string", valueHint: "SPEC", default: "5s", description: "Heartbeat for the demo (default 5s)" },
    "request-after": { type: "string", valueHint: "DURATION", default: "10s", description: "When the mayor asks for a cycle, after the daemon is up (default 10s)" },
    keep: { type: "boolean", description: "Keep the demo town directory afterwards" },
  },
  async run({ args }) {
    const requestAfterMs = parseDuration(args["request-after"]);
    const bad = requestAfterMs === null ? "is not a duration" : requestAfterMs > TIMER_RANGE.maxMs ? "is longer than a timer can wait (24d)" : null;
    if (bad) throw new GtdError("USAGE", `--request-after: ${quote(args["request-after"])} ${bad}`, "e.g. 10s, 1m");
    // From here a Ctrl-C is remembered, not fatal: runDaemon honours it at once, and the clean-up below
    // runs (the default action would leave the tmux server and the temp town behind).
    installEarlySignals();
    const town = createDemoTown(args.heartbeat);
    const paths = townPaths(town.root);
    // A private tmux server: the demo never touches the user's own sessions.
    process.env.TMUX_TMPDIR = town.tmuxDir;
    delete process.env.TMUX;
    delete process.env.TMUX_PANE;
    for (const k of Object.keys(process.env)) if (k.startsWith("GTD_")) delete process.env[k];
    const tmux = (...a: string[]) => runCommand(["tmux", ...a], { timeoutMs: 5000 });
    const ended = new AbortController();
    let show: Promise<void> = Promise.resolve();
    try {
      await tmux("start-server", ";", "set-option", "-g", "exit-empty", "off");
      const mayor = resolveAgent("mayor", town.root) as AgentSpec;
      // The mayor is already up, as `gt up` would leave it: the daemon never starts a mayor by itself.
      await createTmux({ socket: null, timeoutMs: 5000 }).newSession({
        name: mayor.session,
        cwd: mayor.workDir,
        env: { GT_ROLE: mayor.role, GT_IDENTITY: mayor.identity, GT_TOWN_ROOT: town.root },
        argv: [town.mayorPath, town.root],
        options: sessionOptions(mayor),
      });
      out(`Demo town: ${town.root}`);
      out(`Watch the Deacon: TMUX_TMPDIR=${town.tmuxDir} tmux attach -t gt-deacon   (detach: Ctrl-b d)`);
      out(`Watch the mayor:  TMUX_TMPDIR=${town.tmuxDir} tmux attach -t ${mayor.session}`);
      out("The daemon's log runs below; Ctrl-C stops it and removes the demo town.");
      out("");
      out(`▶ The daemon starts: it finds no Deacon, starts one in gt-deacon and pokes it every ${args.heartbeat} (the demo Deacon answers every other poke, so you see the backoff too) …`);
      show = runShow({ town, paths, requestAfterMs: requestAfterMs!, requestAfterText: args["request-after"], say: out, signal: ended.signal });
      return await runDaemon({ paths, flags: {}, mirror: true, passGraceMs: 2000 });
    } finally {
      ended.abort();
      await show;
      await tmux("kill-server");
      if (!args.keep) rmSync(town.root, { recursive: true, force: true });
      out(args.keep ? `Demo finished; town kept at ${town.root}` : "Demo finished; demo town removed.");
    }
  },
});
