/**
 * The demo town: a throwaway town in a temp directory with a bundled demo agent as the Deacon, a fake
 * mailbox, and short intervals so a poke, a fresh heartbeat and a backoff can all be seen in a minute.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The Deacon stand-in: answers each poke by writing its heartbeat file, and says what it received. */
const DEMO_AGENT = `#!/usr/bin/env bash
# gtd demo agent: stands in for Claude. Reads what the daemon types; every other HEARTBEAT poke is
# answered by writing deacon/heartbeat.json (as the real Deacon's rounds do), so gtd sees it fresh
# again; the ones it sleeps through show gtd's backoff.
town="$1"
pokes=0
# The demo removes the town when it ends; never write into a town that is gone.
trap 'exit 0' HUP TERM
echo "demo agent (GT_ROLE=\${GT_ROLE:-unset}) waiting for pokes; type to talk to it"
while IFS= read -r line; do
  printf '%s received: %s\\n' "$(date +%H:%M:%S)" "$line" | tee -a "$town/deacon/received.log"
  case "$line" in
    HEARTBEAT*)
      pokes=$((pokes + 1))
      if [ $((pokes % 2)) -eq 0 ]; then echo "  -> dozing through this one"; continue; fi
      [ -d "$town/mayor" ] || exit 0
      printf '{"timestamp":"%s","cycle":1,"last_action":"rounds"}\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$town/deacon/heartbeat.json.tmp"
      mv "$town/deacon/heartbeat.json.tmp" "$town/deacon/heartbeat.json"
      echo "  -> rounds done, heartbeat written" ;;
  esac
done
`;

/** Stand-in for bd: an empty inbox, and a record of anything else asked of it. */
const DEMO_BD = `#!/usr/bin/env bash
if [ "$1 $2" = "mail inbox" ]; then echo null; exit 0; fi
echo "$*" >> "$(dirname "$0")/../bd-calls.log"
`;

export interface DemoTown {
  root: string;
  tmuxDir: string;
  agentPath: string;
}

export function createDemoTown(heartbeat: string): DemoTown {
  const root = mkdtempSync(join(tmpdir(), "gtd-demo-"));
  const bin = join(root, ".demo-bin");
  const tmuxDir = join(root, ".tmux");
  for (const d of [join(root, "mayor"), join(root, "deacon"), join(root, "daemon"), bin, tmuxDir]) mkdirSync(d, { recursive: true, mode: 0o755 });
  writeFileSync(join(root, "mayor", "town.json"), JSON.stringify({ type: "town", version: 1, name: "demo" }));
  const agentPath = join(bin, "demo-agent");
  const bdPath = join(bin, "bd");
  writeFileSync(agentPath, DEMO_AGENT);
  writeFileSync(bdPath, DEMO_BD);
  chmodSync(agentPath, 0o755);
  chmodSync(bdPath, 0o755);
  const config = {
    heartbeat,
    // Scaled down from 5m/30m and 2m/5m so the whole poke cycle shows within a minute.
    backoff: { strategy: "geometric", base: "5s", max: "30s", factor: 1.5 },
    slots: { maxAge: "5s" },
    freshness: { fresh: "12s", veryStale: "20s" },
    deacon: { command: [agentPath, root] },
    mailbox: { inbox: [bdPath, "mail", "inbox", "--identity", "deacon/", "--json"], close: [bdPath, "close", "{id}"], sync: null },
  };
  writeFileSync(join(root, "daemon", "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  return { root, tmuxDir, agentPath };
}
