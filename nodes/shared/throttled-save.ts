/**
 * Keeping a node's state in context without writing it on every message: save() writes at once when
 * the last write is `everyMs` old, else once more when it is (a trailing write, so the state after a
 * burst — a file replayed at full speed, the last frames before a camera stops — is kept too).
 * flush() writes now (on close); cancel() drops a pending write. Glue: it reads the clock.
 */
export class ThrottledSave {
  private lastMs = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly everyMs: number,
    private readonly write: () => void,
  ) {}

  save(): void {
    const now = Date.now();
    if (now - this.lastMs >= this.everyMs) {
      this.flush();
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.flush();
      },
      this.everyMs - (now - this.lastMs),
    );
    this.timer.unref();
  }

  flush(): void {
    this.cancel();
    this.lastMs = Date.now();
    this.write();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
