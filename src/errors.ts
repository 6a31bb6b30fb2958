/** The one error type gtd raises on purpose: a stable code, a one-line message, and a hint. */
export type ErrorCode =
  | "NOT_IN_TOWN"
  | "CONFIG"
  | "USAGE"
  | "NOT_RUNNING"
  | "NOT_FOUND"
  | "ALREADY_RUNNING"
  | "START_FAILED"
  | "STOP_FAILED"
  | "STORE"
  | "TMUX"
  | "MAILBOX"
  | "IDENTITY"
  | "LIFECYCLE"
  | "INTERNAL";

/** Exit codes as LSB/systemctl expect: 0 ok, 1 error, 2 usage, 3 not running. */
export const EXIT = { ok: 0, error: 1, usage: 2, notRunning: 3 } as const;

export class GtdError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = "GtdError";
    this.code = code;
    this.hint = hint;
    this.exitCode = code === "USAGE" ? EXIT.usage : code === "NOT_RUNNING" ? EXIT.notRunning : EXIT.error;
  }

  /** `gtd: <what> (<hint>)`: the single stderr line a user sees. */
  oneLine(): string {
    return `gtd: ${this.message}${this.hint ? ` (${this.hint})` : ""}`;
  }
}

/** Any thrown value as a short message, for log lines. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
