import { defineCommand } from "citty";
import { GtdError } from "../errors.ts";

export default defineCommand({
  meta: { name: "demo", description: "Run gtd on a throwaway demo town (no Claude or bd needed)" },
  args: {},
  run() {
    throw new GtdError("INTERNAL", "the demo town is not built yet");
  },
});
