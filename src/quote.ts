/**
 * Values read from outside (config, mail, file names) as they appear in errors and log lines: JSON-quoted,
 * so control characters are escaped and the value's ends are visible, and cut to a short prefix with its
 * full length when long. A 30 MB config value or a 10,000-character rig name must not become a 30 MB
 * error line; the prefix and the length are enough to find it.
 */
export const QUOTE_MAX_CHARS = 80;

export function quote(value: unknown, maxChars = QUOTE_MAX_CHARS): string {
  if (typeof value === "string") {
    if (value.length <= maxChars) return JSON.stringify(value);
    return `${JSON.stringify(`${value.slice(0, maxChars)}…`)} (${value.length} chars)`;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text ??= String(value);
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}… (${text.length} chars)`;
}

/** A list of quoted values, the first `maxItems` of them and a count of the rest. */
export function quoteList(values: readonly string[], maxItems = 5): string {
  const shown = values.slice(0, maxItems).map((x) => quote(x));
  const rest = values.length - shown.length;
  return rest > 0 ? `${shown.join(", ")} and ${rest} more` : shown.join(", ");
}
