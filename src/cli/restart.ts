import { defineCommand } from "citty";
import { request } from "../supervise-intent.ts";
import { townArg } from "./args.ts";
import { agentArg, operatorFor } from "./supervise-args.ts";

export default defineCommand({
  meta: { name: "restart", description: "Restart a supervised agent now, through the daemon (clears a crash-loop hold). Exit 3 if not running" },
  args: { ...townArg, ...agentArg },
  async run({ args }) {
    request(await operatorFor(args), args.agent, "restart");
    return 0;
  },
});
