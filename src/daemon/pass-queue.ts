/**
 * The single-flight guard shared by the schedule and the signals: one pass at a time, never
 * overlapping. A heartbeat includes a lifecycle pass, so a pending lifecycle request is satisfied by
 * it. SIGUSR1s that arrive during a pass collapse into exactly one more pass; a tick that arrives during
 * a heartbeat is dropped (as Go's ticker drops missed ticks) rather than queued behind it.
 * A pending heartbeat always runs before a pending lifecycle pass. A lifecycle pass that leaves mail for
 * later asks for the next one as it ends (run.ts), so a flood is a chain of short passes and the Deacon
 * check (in the heartbeat) waits for one of them at most, never for the whole flood.
 */
export type PassKind = "heartbeat" | "lifecycle";

export class PassQueue {
  private current: PassKind | null = null;
  private pendingHeartbeat = false;
  private pendingLifecycle = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly runPass: (kind: PassKind) => Promise<void>,
    private readonly onDropped: (kind: PassKind, busyWith: PassKind) => void = () => {},
  ) {}

  get busy(): PassKind | null {
    return this.current;
  }

  request(kind: PassKind): void {
    if (this.closed) return;
    if (kind === "heartbeat") {
      if (this.current === "heartbeat") return this.onDropped(kind, this.current);
      this.pendingHeartbeat = true;
    } else {
      this.pendingLifecycle = true;
    }
    if (!this.current) void this.drain();
  }

  /** Stop taking passes; resolves when the one in flight (if any) has finished. */
  close(): Promise<void> {
    this.closed = true;
    this.pendingHeartbeat = false;
    this.pendingLifecycle = false;
    return this.idle();
  }

  idle(): Promise<void> {
    if (!this.current) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    while (!this.closed && (this.pendingHeartbeat || this.pendingLifecycle)) {
      const kind: PassKind = this.pendingHeartbeat ? "heartbeat" : "lifecycle";
      // This pass answers every request pending now: a lifecycle pass its own, and a heartbeat
      // processes lifecycle mail too, so it answers a pending SIGUSR1 as well.
      this.pendingHeartbeat = false;
      this.pendingLifecycle = false;
      this.current = kind;
      try {
        await this.runPass(kind);
      } catch {
        // runPass logs its own failures; the queue must keep going.
      }
      this.current = null;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
