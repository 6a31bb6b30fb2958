import { defineCommand } from "citty";
import { resume } from "../supervise-intent.ts";
import { townArg } from "./args.ts";
import { agentOrAllArgs, operatorFor, targetOf } from "./supervise-args.ts";

export default defineCommand({
  meta: { name: "resume", description: "Resume a paused agent: the daemon brings it back at its next pass" },
  args: { ...townArg, ...agentOrAllArgs },
  async run({ args }) {
    await resume(await operatorFor(args), targetOf(args, "gtd resume"));
    return 0;
  },
});
