/**
 * The layering rule: what may import what. Checked by test/architecture/layering.test.ts (so by
 * `npm test` and CI); by hand: `npx depcruise src` (add `--output-type archi | dot -T svg` for a picture).
 *
 * Shape: the core (src/core/) is pure, decides, and imports only itself, the ports and the pure
 * modules below; everything that touches processes, files, tmux or the clock sits at the edge and
 * imports the core, never the other way round. No two folders under src/ import each other.
 */

/**
 * Modules outside src/core/ that the core may import because they are pure (no process, clock,
 * filesystem, subprocess). They are held to the same rule as the core, so the pure set stays closed:
 * an entry here may import only the core, this list, valibot and node:path. Extend it when a pure
 * helper is worth sharing; move a module into src/core/ when only the core uses it.
 */
const PURE_MODULES = [
  "src/issues.ts", // valibot issues as one line of text
  "src/duration.ts", // Go-style duration parse/format
  "src/gotime.ts", // RFC 3339 formatting of a given instant (never reads the clock)
  "src/quote.ts", // quoting for messages
  "src/errors.ts", // GtdError, a plain class
  "src/agent-name.ts", // agent identity syntax and forms (config checks supervise.agents by it too)
];

/**
 * Modules the core may import types from, and nothing else: a type import brings no code along. It
 * still counts as an edge for the cycle rules, so such a type is better moved into the core.
 */
const TYPE_ONLY_FOR_CORE = [
  "src/config/index.ts", // Config (loading it is the edge's business)
  "src/town.ts", // TownPaths (finding and checking the town is the edge's)
];

/** Third-party modules the core may use: valibot is pure schema code. */
const PURE_PACKAGES = ["(^|/)node_modules/valibot/"];

const exactly = (paths) => paths.map((p) => `^${p.replace(/[.]/g, "[.]")}$`);
const PURE_SET = ["^src/core/", ...exactly(PURE_MODULES)];

module.exports = {
  forbidden: [
    {
      name: "no-folder-cycles",
      comment:
        "Two folders under src/ never import each other, directly or round a loop. Within one folder a " +
        "module cycle is caught by no-circular below.",
      severity: "error",
      scope: "folder",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "no-circular",
      comment:
        "No module-level import cycle in src/, inside a folder or not, except one closed by a lazy import(): " +
        "the command table loads src/cli/completion.ts on demand and completion reads the table back.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["dynamic-import"] } },
    },
    {
      name: "core-is-pure",
      comment:
        "src/core/ (and the pure modules it uses) import only the core, the PURE_MODULES list, valibot and " +
        "node:path: no fs, no process, no child_process, croner or citty, no edge folder.",
      severity: "error",
      from: { path: PURE_SET },
      to: {
        pathNot: [...PURE_SET, ...exactly(TYPE_ONLY_FOR_CORE), ...PURE_PACKAGES, "^path$"],
      },
    },
    {
      name: "core-type-imports-only",
      comment: "From TYPE_ONLY_FOR_CORE the core takes types only.",
      severity: "error",
      from: { path: PURE_SET },
      to: { path: exactly(TYPE_ONLY_FOR_CORE), dependencyTypesNot: ["type-only"] },
    },
    {
      name: "croner-at-the-edge",
      comment:
        "Scheduling is the edge's: croner only from src/schedule.ts (the heartbeat clock, which config also " +
        "uses to check a cron pattern with croner itself), src/main.ts, src/daemon/ and src/cli/.",
      severity: "error",
      from: { pathNot: ["^src/schedule[.]ts$", "^src/main[.]ts$", "^src/daemon/", "^src/cli/"] },
      to: { path: "(^|/)node_modules/croner/" },
    },
    {
      name: "spawn-only-in-proc",
      comment:
        "Every subprocess goes through src/proc.ts (argv only, bounded output, the group killed); the one " +
        "exception is src/daemon/launch.ts, which starts the daemon itself detached and never waits for it. " +
        "Bun.spawn, which no import shows, is held to the same by test/architecture/layering.test.ts.",
      severity: "error",
      from: { pathNot: ["^src/proc[.]ts$", "^src/daemon/launch[.]ts$"] },
      to: { path: "^child_process$" },
    },
    {
      name: "citty-only-in-cli",
      comment: "Argument parsing belongs to the commands: citty only from src/main.ts and src/cli/.",
      severity: "error",
      from: { pathNot: ["^src/main[.]ts$", "^src/cli/"] },
      to: { path: "(^|/)node_modules/citty/" },
    },
    {
      name: "src-not-to-test",
      comment: "Production code never imports test code (test/ may import anything).",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^test/" },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import that resolves to nothing is a typo or a missing package.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports count: a type import from the edge still couples the core to it.
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    // Resolve packages the way Bun does (through "exports"): citty has no "main" field at all.
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["bun", "import", "node", "default"],
      mainFields: ["module", "main", "types", "typings"],
    },
    // Folder-level cycle detection needs the folder metrics.
    metrics: true,
    reporterOptions: {
      archi: { collapsePattern: "^src/[^/]+/|^node_modules/[^/]+" },
    },
  },
};
