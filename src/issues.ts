/** valibot issues in words, for every reader of files (pure: the core and the store share it). */
import * as v from "valibot";

/** valibot issues as one short line: `field.path: message`. */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  if (!first) return "invalid";
  const path = v.getDotPath(first);
  return path ? `${path}: ${first.message}` : first.message;
}
