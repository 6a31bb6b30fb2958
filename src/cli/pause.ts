import { defineCommand } from "citty";
import { pause } from "../supervise-intent.ts";
import { townArg } from "./args.ts";
import { agentOrAllArgs, operatorFor, targetOf } from "./supervise-args.ts";

export default defineCommand({
  meta: { name: "pause", description: "Pause a supervised agent (persisted): never created, restarted or poked until gtd resume" },
  args: { ...townArg, ...agentOrAllArgs },
  async run({ args }) {
    await pause(await operatorFor(args), targetOf(args, "gtd pause"));
    return 0;
  },
});
