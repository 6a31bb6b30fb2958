/**
 * supervise.agents: a list of agent identities, each named by the rules lifecycle mail is held to
 * (src/agent-name.ts) or the word `deacon`, stored in canonical dash form so that `gastown/witness` and
 * `gastown-witness` are one agent. A bad entry is refused naming where it came from and the entry itself.
 */
import * as v from "valibot";
import { parseAgentName } from "../agent-name.ts";
import { GtdError } from "../errors.ts";
import { quote } from "../quote.ts";

const AGENT_FORM = 'an agent is "deacon", "mayor", "<rig>-witness", "<rig>-refinery" or "<rig>-crew-<name>"';
export const AGENTS_FORM = `a list of agent identities such as ["mayor", "gastown-witness"]; ${AGENT_FORM}`;

const listSchema = v.array(v.string());

/** The Deacon is always supervised; naming it is allowed (and changes nothing). */
const DEACON = "deacon";

/** The list in canonical form, or a CONFIG error naming `where` (the file, variable or flag) and the entry. */
export function checkAgentList(key: string, raw: unknown, where: string): string[] {
  const list = v.safeParse(listSchema, raw);
  if (!list.success) throw new GtdError("CONFIG", `${where}: ${key} = ${quote(raw)} is not valid`, `expected ${AGENTS_FORM}`);
  const seen = new Map<string, string>();
  for (const entry of list.output) {
    const name = entry.toLowerCase() === DEACON ? { identity: DEACON } : parseAgentName(entry);
    if ("error" in name) {
      throw new GtdError("CONFIG", `${where}: ${key} entry ${quote(entry)} is not valid`, `${name.error}; ${AGENT_FORM}`);
    }
    const first = seen.get(name.identity);
    if (first !== undefined) {
      const same = first === entry ? "" : ` (as ${quote(first)} does)`;
      throw new GtdError("CONFIG", `${where}: ${key} entry ${quote(entry)} names ${name.identity} again${same}`, "list each agent once");
    }
    seen.set(name.identity, entry);
  }
  return [...seen.keys()];
}

/**
 * From the environment or a flag: a JSON array (`["mayor","gastown-witness"]`), or the names separated by
 * commas or spaces (`mayor,gastown-witness`); an identity holds neither, so the split is unambiguous.
 * Empty text is the empty list, so GTD_SUPERVISE_AGENTS= turns a file's list off.
 */
export function agentListFromText(text: string, name: string): unknown {
  if (!text.trimStart().startsWith("[")) return text.split(/[\s,]+/).filter((s) => s !== "");
  try {
    return JSON.parse(text);
  } catch {
    throw new GtdError("CONFIG", `${name}: ${quote(text)} is not valid`, `expected a JSON array or names separated by commas or spaces; ${AGENT_FORM}`);
  }
}
