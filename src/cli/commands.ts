/**
 * Every command, loaded lazily: status, signal and stop stay fast because zx and croner load only where
 * a command needs them. main.ts routes with this map; `gtd completion` reads each command's flags from it.
 */
import type { ArgsDef, CommandDef } from "citty";

type Loader = () => Promise<CommandDef<ArgsDef>>;
const load = (p: Promise<{ default: unknown }>) => p.then((m) => m.default as CommandDef<ArgsDef>);

export const COMMANDS: Record<string, Loader> = {
  start: () => load(import("./start.ts")),
  stop: () => load(import("./stop.ts")),
  status: () => load(import("./status.ts")),
  logs: () => load(import("./logs.ts")),
  signal: () => load(import("./signal.ts")),
  request: () => load(import("./request.ts")),
  tick: () => load(import("./tick.ts")),
  config: () => load(import("./config.ts")),
  demo: () => load(import("./demo.ts")),
  service: () => load(import("./service.ts")),
  completion: () => load(import("./completion.ts")),
};
