/** Message ids go into argv and log lines: the one rule for them, for the inbox and the ledger alike. */
import { quote } from "../quote.ts";

/**
 * Message ids become argv elements of the close command. bd ids look like `gt-abc12` or `bd-1.2`; the
 * leading-`-` rule keeps an id such as `-rf` or `--all` from being read as a flag.
 */
const MESSAGE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function messageIdProblem(id: string): string | null {
  if (!MESSAGE_ID.test(id)) return `invalid message id ${quote(id)} (letters, digits, . _ : - only, at most 128)`;
  if (id.startsWith("-")) return `invalid message id ${quote(id)} (must not start with -)`;
  return null;
}
