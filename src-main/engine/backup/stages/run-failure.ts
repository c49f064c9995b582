/**
 * The first failure of a backup run, from whichever stage meets it (an upload, a worker, a cancel): the
 * run stops at once and reports that one; later failures are its consequences.
 */
export class RunFailure {
  private first: { error: unknown } | undefined;
  private rejectFailed!: (e: unknown) => void;
  /** Rejects at the first failure, whenever it comes: waits that may never end (a dead reader) race it. */
  readonly failed: Promise<never>;

  constructor() {
    this.failed = new Promise<never>((_, rej) => (this.rejectFailed = rej));
    this.failed.catch(() => undefined); // a failure may come before anyone races it; the race still sees it
  }

  get hasFailed(): boolean {
    return this.first !== undefined;
  }

  /** The first failure, or undefined while the run is sound. */
  get error(): unknown {
    return this.first?.error;
  }

  /** Records a failure (an arrow, so it can be handed to `.catch` and event listeners as it is). */
  readonly fail = (e: unknown): void => {
    if (this.first !== undefined) return;
    this.first = { error: e };
    this.rejectFailed(e);
  };

  throwIfFailed(): void {
    if (this.first !== undefined) throw this.first.error;
  }

  /** Waits for `work`, or throws the run's failure as soon as there is one. */
  async race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.failed]);
  }
}
