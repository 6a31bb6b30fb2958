/**
 * The programs the demo town runs instead of Claude and bd. Each is a bash script written into the demo
 * town's bin: the demo must need nothing but what the machine has (bash and coreutils), and a compiled
 * gtd cannot count on node, bun or jq being there for them.
 */

/** The Deacon stand-in: answers each poke by writing its heartbeat file, and says what it received. */
export const DEMO_DEACON = `#!/usr/bin/env bash
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

/**
 * The mayor stand-in (and what a cycled agent runs: agent.command). Each start appends one START line to
 * mayor/agent.log, so the demo (and its test) can see the session being replaced by a fresh one.
 */
export const DEMO_MAYOR = `#!/usr/bin/env bash
# gtd demo mayor: stands in for Claude in the gt-mayor session. It says when it started; the demo asks
# gtd for a cycle on its behalf (gtd request cycle --as mayor), and gtd replaces this session.
town="$1"
trap 'exit 0' HUP TERM
[ -d "$town/mayor" ] || exit 0
printf 'START pid=%s GT_ROLE=%s GT_IDENTITY=%s cwd=%s at=%s\\n' "$$" "\${GT_ROLE-unset}" "\${GT_IDENTITY-unset}" "$PWD" "$(date +%H:%M:%S)" >> "$town/mayor/agent.log"
echo "demo mayor (GT_IDENTITY=\${GT_IDENTITY:-unset}) started at $(date +%H:%M:%S); type to talk to it"
while IFS= read -r line; do
  printf '%s received: %s\\n' "$(date +%H:%M:%S)" "$line"
done
`;

/**
 * Stand-in for bd: a real little mailbox with the commands gtd uses (its default mailbox argv).
 *
 * Design, and why: the store is append-only, so no lock is needed and a bd killed half-way (gtd kills
 * a mailbox command at its timeout) cannot leave a lock or a half-rewritten file behind:
 *   - inbox.jsonl: one message per line, a JSON object written by printf from escaped strings, so
 *     reading the inbox is only joining lines into a JSON array (no JSON parser anywhere);
 *   - closed: one closed id per line; \`close\` appends, \`mail inbox\` leaves those out;
 *   - ids/<n>: mkdir is atomic, so two concurrent sends never get the same id (demo-<n>).
 * Every argument is data: expanded in double quotes, never eval'd, never part of a printf format.
 * Plain bash 3.2 (macOS's) and coreutils: no associative arrays, no flock, no node, no jq.
 */
export const DEMO_BD = `#!/usr/bin/env bash
set -u
mail="$(cd -- "$(dirname -- "$0")/.." && pwd)/.demo-mail"
inbox="$mail/inbox.jsonl"
closed="$mail/closed"
mkdir -p -- "$mail/ids" || exit 1

# A JSON string body: backslash and quote escaped, newline/CR/tab spelled out, other controls dropped.
esc() {
  local s=$1
  s=\${s//\\\\/\\\\\\\\}
  s=\${s//\\"/\\\\\\"}
  s=\${s//$'\\n'/\\\\n}
  s=\${s//$'\\r'/\\\\r}
  s=\${s//$'\\t'/\\\\t}
  s=\${s//[[:cntrl:]]/}
  printf '%s' "$s"
}

case "\${1:-} \${2:-}" in
  "mail inbox")
    # Every open message: the lines of inbox.jsonl whose id is not in closed, as one JSON array.
    shut=$'\\n'
    [ -f "$closed" ] && shut+="$(cat -- "$closed")"$'\\n'
    sep=""
    printf '['
    if [ -f "$inbox" ]; then
      while IFS= read -r line || [ -n "$line" ]; do
        id=\${line#\\{\\"id\\":\\"}
        id=\${id%%\\"*}
        [[ $shut == *$'\\n'"$id"$'\\n'* ]] && continue
        printf '%s\\n%s' "$sep" "$line"
        sep=","
      done < "$inbox"
    fi
    printf '\\n]\\n'
    ;;
  "mail send")
    to=\${3:-}
    subject=""
    body=""
    shift 3 2>/dev/null || shift $#
    while [ $# -gt 0 ]; do
      case "$1" in
        -s|--subject) subject=\${2:-}; shift ;;
        -m|--message) body=\${2:-}; shift ;;
      esac
      shift
    done
    [ -n "$to" ] || { echo "Error: demo bd: mail send needs a recipient" >&2; exit 1; }
    n=1
    until mkdir -- "$mail/ids/$n" 2>/dev/null; do
      [ -d "$mail/ids/$n" ] || { echo "Error: demo bd: cannot allocate a message id in $mail/ids" >&2; exit 1; }
      n=$((n + 1))
    done
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    # One write of one line, appended (O_APPEND): concurrent sends never interleave.
    line=$(printf '{"id":"demo-%s","title":"%s","sender":"%s","status":"open","to":"%s","body":"%s","created_at":"%s"}' \\
      "$n" "$(esc "$subject")" "$(esc "\${BD_ACTOR:-demo}")" "$(esc "$to")" "$(esc "$body")" "$now")
    printf '%s\\n' "$line" >> "$inbox" || exit 1
    echo "✓ Message demo-$n sent to $to"
    ;;
  close\\ *)
    id=\${2:-}
    case "$id" in
      ""|*[!A-Za-z0-9._:-]*) echo "Error: demo bd: invalid id" >&2; exit 1 ;;
    esac
    printf '%s\\n' "$id" >> "$closed" || exit 1
    echo "✓ Closed $id: Closed"
    ;;
  *)
    echo "Error: demo bd knows only: mail inbox, mail send <to> -s <subject> -m <body>, close <id>" >&2
    exit 1
    ;;
esac
`;
