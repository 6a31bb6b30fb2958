import { defineCommand } from "citty";
import { request } from "../supervise-intent.ts";
import { townArg } from "./args.ts";
import { agentArg, operatorFor } from "./supervise-args.ts";

export default defineCommand({
  meta: { name: "reset", description: "Clear a supervised agent's crash-loop hold and restart delay, through the daemon. Exit 3 if not running" },
  args: { ...townArg, ...agentArg },
  async run({ args }) {
    request(await operatorFor(args), args.agent, "reset");
    return 0;
  },
});
