/**
 * Holds new transactions back for a moment while letting the event loop run on: the SQLite
 * checkpoint worker uses it to get a short spell with no writer, so that it can bring the
 * write-ahead log to an end (see checkpointer.ts). Every transaction of the app passes through
 * `enter`/`leave` (the engine's `transaction`).
 */
export class WriteGate {
  private active = 0;
  private reopened: Promise<void> | undefined;
  private reopen: (() => void) | undefined;
  private drained: (() => void) | undefined;

  /** Waits while the gate is closed, then counts the caller as a running transaction. */
  async enter(): Promise<void> {
    while (this.reopened) await this.reopened;
    this.active++;
  }

  leave(): void {
    this.active--;
    if (this.active === 0) this.drained?.();
  }

  /**
   * Closes the gate and resolves once no transaction is running; new ones wait until the
   * returned function is called.
   */
  async close(): Promise<() => void> {
    while (this.reopened) await this.reopened;
    this.reopened = new Promise((resolve) => (this.reopen = resolve));
    if (this.active > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.drained = undefined;
    return () => {
      const reopen = this.reopen;
      this.reopened = undefined;
      this.reopen = undefined;
      reopen?.();
    };
  }
}
