/** The ports, for the edge that implements them: they live with the core, which is written against them. */
export * from "./core/ports.ts";
