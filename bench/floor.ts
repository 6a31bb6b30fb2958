// The floor of a compiled Bun executable: start the runtime, print a line, exit. Built by the bench
// with gtd's own compile flags, so `gtd <command>` minus this is what gtd itself costs.
console.log("floor");
